import Foundation
import Lang
import Tensor

/// One optimiser record (step's argument opt), applied to the parameters p and their
/// gradient g; its errors are at the argument they are about.
struct Optimizer {
    let record: RecordValue
    let opt: RawArgument, p: RawArgument, g: RawArgument
    let kind: String
    let lr: Double

    init(_ record: RecordValue, opt: RawArgument, p: RawArgument, g: RawArgument) throws {
        self.record = record
        (self.opt, self.p, self.g) = (opt, p, g)
        guard case .string(let kind)? = record["optimizer"], ["sgd", "adam", "adamw"].contains(kind.text) else {
            throw TxError(.value, "step: opt must be a record made by sgd, adam or adamw", at: opt.span)
        }
        self.kind = kind.text
        lr = try Optimizer.number(record, "lr", opt)
    }

    static func number(_ record: RecordValue, _ name: String, _ opt: RawArgument) throws -> Double {
        guard let value = record[name], let x = Convert.number(value) else {
            throw TxError(.value, "step: opt.\(name) must be a number", at: opt.span)
        }
        return x
    }

    /// One step, whole: Ctrl-C is noticed before it starts, never between two tensors, and
    /// every shape is checked before any tensor changes, so that an interrupted or failed
    /// step leaves parameters that are all of one step.
    func step() throws {
        let p = self.p.value, g = self.g.value
        try Interrupt.check()
        let t = try Optimizer.number(record, "t", opt) + 1
        switch kind {
        case "sgd":
            let momentum = try Optimizer.number(record, "momentum", opt)
            var buf = record["buf"] ?? .none
            if momentum != 0, buf.isNone { buf = try stateLike(p) }
            try apply(try slots(p, g, momentum == 0 ? [] : [buf])) { param, grad, state in
                if momentum == 0 {
                    for i in 0..<param.count { param.pointer[i] += Float(-lr) * grad[i] }
                    return
                }
                let b = state[0]
                let mu = Float(momentum)
                for i in 0..<param.count {
                    b[i] = t == 1 ? grad[i] : mu * b[i] + grad[i]
                    param.pointer[i] += Float(-lr) * b[i]
                }
            }
            if momentum != 0 { record["buf"] = buf }
        default:
            let betas = try Optimizer.betas(record, opt)
            let eps = Float(try Optimizer.number(record, "eps", opt))
            let decay = kind == "adamw" ? try Optimizer.number(record, "weight_decay", opt) : 0
            var m = record["m"] ?? .none, v = record["v"] ?? .none
            if m.isNone { m = try stateLike(p) }
            if v.isNone { v = try stateLike(p) }
            // torch.optim.Adam(W)'s arithmetic: lerp for m, mul + addcmul for v, the bias
            // corrections in double, then p += -(lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
            let bc1 = 1 - pow(betas.0, t), bc2 = 1 - pow(betas.1, t)
            let stepSize = Float(-(lr / bc1)), bc2Root = Float(bc2.squareRoot())
            let w1 = Float(1 - betas.0), b2 = Float(betas.1), w2 = Float(1 - betas.1)
            let shrink = Float(1 - lr * decay)
            try apply(try slots(p, g, [m, v])) { param, grad, state in
                let mBuf = state[0], vBuf = state[1]
                for i in 0..<param.count {
                    if decay != 0 { param.pointer[i] *= shrink }
                    let gi = grad[i]
                    mBuf[i] = w1 < 0.5 ? mBuf[i] + w1 * (gi - mBuf[i]) : gi - (gi - mBuf[i]) * (1 - w1)
                    vBuf[i] = vBuf[i] * b2 + w2 * gi * gi
                    let denom = vBuf[i].squareRoot() / bc2Root + eps
                    param.pointer[i] += stepSize * (mBuf[i] / denom)
                }
            }
            record["m"] = m
            record["v"] = v
        }
        record["t"] = .number(t)
    }

    static func betas(_ record: RecordValue, _ opt: RawArgument) throws -> (Double, Double) {
        guard case .list(let list)? = record["betas"], list.items.count == 2,
              let b1 = Convert.number(list.items[0]), let b2 = Convert.number(list.items[1]) else {
            throw TxError(.value, "step: opt.betas must be two numbers", at: opt.span)
        }
        return (b1, b2)
    }

    /// Zeros shaped like every tensor of p, in p's structure (none elsewhere).
    func stateLike(_ p: Value) throws -> Value {
        try Gradients.mapLeaves(p) { leaf in
            guard case .tensor(let t) = leaf else { return .none }
            return .tensor(try Tensor.zeros(t.shape))
        }
    }

    typealias Parameter = (pointer: UnsafeMutablePointer<Float>, count: Int)

    /// One tensor of p, with its gradient (contiguous, in p's element order) and its
    /// state buffers.
    typealias Slot = (param: Tensor, grad: Tensor, states: [Tensor])

    /// Calls `update` for every slot. A parameter that is a view with gaps (a loaded
    /// model's weights are transposed views W' of the checkpoint's [d_out, d_in]) is
    /// updated in a contiguous copy, written back through the view; the copies share one
    /// buffer made before anything changes.
    func apply(_ slots: [Slot], _ update: (Parameter, UnsafeMutablePointer<Float>, [UnsafeMutablePointer<Float>]) throws -> Void) throws {
        let largestView = slots.lazy.filter { !$0.param.isContiguous }.map(\.param.count).max()
        let scratch = try largestView.map { try Tensor(uninitializedShape: [$0]) }
        for (param, grad, states) in slots {
            let gradient = grad.storage.pointer + grad.offset
            let buffers = states.map { $0.storage.pointer + $0.offset }
            if param.isContiguous {
                try update((param.storage.pointer + param.offset, param.count), gradient, buffers)
            } else if let scratch {
                let work = Tensor(storage: scratch.storage, shape: param.shape, strides: Tensor.contiguousStrides(param.shape), offset: 0)
                param.copyElements(to: work.storage.pointer)
                try update((work.storage.pointer, work.count), gradient, buffers)
                try param.assign([], work)
            }
        }
    }

    /// The tensors of p with their gradients and states; every shape is checked here,
    /// before any tensor changes.
    func slots(_ p: Value, _ g: Value, _ states: [Value]) throws -> [Slot] {
        var found: [Slot] = []
        try collect(p, g, states, path: "p", into: &found)
        return found
    }

    /// Walks p, g and the states together, appending a slot for every tensor of p.
    func collect(_ p: Value, _ g: Value, _ states: [Value], path: String, depth: Int = 0, into found: inout [Slot]) throws {
        guard depth < 64 else { throw TxError(.value, "step: records nest more than 64 deep", at: self.p.span) }
        if g.isNone { return }
        switch (p, g) {
        case (.tensor(let param), _):
            guard let grad = try Convert.tensor(g, at: self.g.span), grad.shape == param.shape else {
                throw TxError(.shape, label: "shape mismatch in step", "\(path) is \(describe(shape: param.shape)), its gradient \(g.typeDescription)", at: self.g.span)
            }
            let buffers = try states.map { state -> Tensor in
                guard case .tensor(let s) = state, s.shape == param.shape else {
                    throw TxError(.value, "step: the optimiser's state does not match \(path); make a new optimiser for new parameters", at: opt.span)
                }
                _ = try Library.writable(s, of: opt)
                return s
            }
            found.append((param, try grad.contiguous(), buffers))
        case (.record(let pr), .record(let gr)):
            for (key, value) in pr.entries {
                let sub = states.map { state -> Value in
                    guard case .record(let s) = state else { return .none }
                    return s[key] ?? .none
                }
                try collect(value, gr[key] ?? .none, sub, path: path + "." + key, depth: depth + 1, into: &found)
            }
        case (.list(let pl), .list(let gl)):
            guard pl.items.count == gl.items.count else {
                throw TxError(.shape, label: "shape mismatch in step", "\(path) has \(pl.items.count) items, its gradient \(gl.items.count)", at: self.g.span)
            }
            for (i, value) in pl.items.enumerated() {
                let sub = states.map { state -> Value in
                    guard case .list(let s) = state, i < s.items.count else { return .none }
                    return s.items[i]
                }
                try collect(value, gl.items[i], sub, path: "\(path)[\(i)]", depth: depth + 1, into: &found)
            }
        case (.record, _), (.list, _):
            throw TxError(.type, "step: \(path) is \(article(p.typeDescription)) but its gradient is \(article(g.typeDescription))", at: self.g.span)
        default:
            return   // numbers, strings and the like are not trained
        }
    }
}
