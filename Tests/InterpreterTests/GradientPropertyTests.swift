import Foundation
import Interpreter
import Lang
import Testing
import TestSupport

/// Random differentiable tx programs, for the property test below: a loss
/// `sum(f(x0, x1, x2) * R)` over one to three float32 inputs of small random shapes that
/// broadcast against each other, f built from the differentiable operations (operators
/// with broadcasting, powers, maximum/minimum, the elementwise functions, every reduction
/// along random axes with and without keepdims (var and std also with ddof=1, sum also
/// with a constant where mask), softmax, layernorm, matmul with transposed views, linear,
/// attention, the shape operations, indexing, slices, gathers with repeated ids, where
/// with a constant mask) and control flow (a loop, an if on a constant, closures, writing
/// in place into a fresh tensor). Arguments that must stay in a function's domain are put
/// there: denominators are 1 + u^2, exp(tanh u) or 2 + sin u; logs take 1 + u^2 or
/// sigmoid u; square roots 1 + u^2; non-integer powers positive bases. gelu takes
/// 3 tanh u: far below 0 its float32 value, x (1 + erf(x / sqrt 2)) / 2 as PyTorch
/// computes it, has lost its digits to cancellation, and no difference of it means much.
///
/// Shapes are tracked: `expression(target)` gives an expression whose shape broadcasts
/// to `target`; an operation that needs an exact shape (a matmul's operands, a reshape's
/// input) adds a fixed random constant of that shape to a smaller one, which also keeps
/// rows from being constant (where var, std, norm and layernorm have no derivative).
struct DifferentiableProgramGenerator {
    init(random: Seeded) { self.random = random }

    var random: Seeded
    /// The inputs of the program being generated.
    private(set) var inputs: [(name: String, shape: [Int])] = []
    /// Lines that define the constants the expression uses.
    private(set) var definitions: [String] = []
    /// Operations left before every expression is a leaf.
    private var budget = 0

    struct Expression {
        var text: String
        var shape: [Int]
    }

    struct Program {
        /// The whole script: inputs, constants, the loss, and the checks, which print one
        /// line of numbers.
        var script: String
        /// The loss's definition, for failure messages.
        var loss: String
        var inputs: [(name: String, shape: [Int])]
    }

    static func list(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: ", ") }

    static func broadcasts(_ s: [Int], to t: [Int]) -> Bool {
        guard s.count <= t.count else { return false }
        return zip(s.reversed(), t.reversed()).allSatisfy { $0 == $1 || $0 == 1 }
    }

    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = max(a.count, b.count)
        let a = Array(repeating: 1, count: n - a.count) + a, b = Array(repeating: 1, count: n - b.count) + b
        return zip(a, b).map { max($0, $1) }
    }

    mutating func dim() -> Int { 2 + random.below(3) }

    /// A fixed random tensor of `shape` (a number for no axes), defined before the loss.
    mutating func constant(_ shape: [Int], scale: String = "") -> String {
        if shape.isEmpty { return random.pick(["0.5", "1.5", "-0.75", "2"]) }
        let name = "c\(definitions.count)"
        definitions.append("\(name) = \(scale)randn(\(Self.list(shape)))")
        return name
    }

    /// A fixed random 0/1 mask of `shape`.
    mutating func mask(_ shape: [Int]) -> String {
        let name = "c\(definitions.count)"
        definitions.append("\(name) = randn(\(Self.list(shape))) > 0")
        return name
    }

    /// `e` with exactly the shape `shape` (which it broadcasts to).
    mutating func exact(_ e: Expression, _ shape: [Int]) -> String {
        e.shape == shape ? e.text : "(\(e.text) + \(constant(shape)))"
    }

    mutating func exact(_ shape: [Int], _ depth: Int) -> String {
        exact(expression(shape, depth), shape)
    }

    /// An input that broadcasts to `shape`; else a tensor of `shape` made from one: a
    /// gather of its elements (with repeats) or a fixed random linear map of them; now and
    /// then a number that depends on one, or a constant.
    mutating func leaf(_ shape: [Int]) -> Expression {
        let fitting = inputs.filter { Self.broadcasts($0.shape, to: shape) }
        if !fitting.isEmpty && random.below(3) != 0 {
            let x = random.pick(fitting)
            return Expression(text: x.name, shape: x.shape)
        }
        let x = random.pick(inputs)
        let count = x.shape.reduce(1, *), size = shape.reduce(1, *)
        switch random.below(12) {
        case 0: return Expression(text: constant(shape), shape: shape)
        case 1: return Expression(text: "mean(\(x.name))", shape: [])
        case 2: return Expression(text: "\(x.name)[\(x.shape.map { String(random.below($0)) }.joined(separator: ", "))]", shape: [])
        case 3: return Expression(text: "norm(\(x.name))", shape: [])
        case 4, 5, 6, 7:
            guard !shape.isEmpty else { return Expression(text: "mean(\(x.name))", shape: []) }
            let ids = (0..<size).map { _ in String(random.below(count)) }.joined(separator: ", ")
            return Expression(text: "reshape(flatten(\(x.name))[[\(ids)]], \(Self.list(shape)))", shape: shape)
        default:
            guard !shape.isEmpty else { return Expression(text: "norm(\(x.name))", shape: []) }
            let map = constant([count, size], scale: "\(1 / Double(count).squareRoot()) * ")
            return Expression(text: "reshape(flatten(\(x.name)) @ \(map), \(Self.list(shape)))", shape: shape)
        }
    }

    /// An expression whose shape broadcasts to `target`.
    mutating func expression(_ target: [Int], _ depth: Int) -> Expression {
        if depth <= 0 || budget <= 0 || random.below(6) == 0 { return leaf(target) }
        budget -= 1
        let r = target.count
        while true {
            switch random.below(28) {
            case 0, 1:
                let e = expression(target, depth - 1)
                let f = random.pick(["tanh(#)", "sin(#)", "cos(#)", "sigmoid(#)", "relu(#)", "gelu(3 * tanh(#))", "abs(#)",
                                     "exp(tanh(#))", "exp(# / 4)", "log(1 + (#) ^ 2)", "log(sigmoid(#))",
                                     "sqrt(1 + (#) ^ 2)", "(-(#))"])
                return Expression(text: f.replacingOccurrences(of: "#", with: e.text), shape: e.shape)
            case 2, 3, 4:
                let a = expression(target, depth - 1), b = expression(target, depth - 1)
                return Expression(text: "(\(a.text) \(random.pick(["+", "-", "*"])) \(b.text))",
                                  shape: Self.broadcast(a.shape, b.shape))
            case 5:
                let a = expression(target, depth - 1), b = expression(target, depth - 1)
                let d = random.pick(["(1 + (#) ^ 2)", "exp(tanh(#))", "(2 + sin(#))"]).replacingOccurrences(of: "#", with: b.text)
                return Expression(text: "(\(a.text) / \(d))", shape: Self.broadcast(a.shape, b.shape))
            case 6:
                let a = expression(target, depth - 1)
                switch random.below(4) {
                case 0: return Expression(text: "((\(a.text)) ^ \(random.pick(["2", "3"])))", shape: a.shape)
                case 1: return Expression(text: "((1 + (\(a.text)) ^ 2) ^ \(random.pick(["0.5", "-0.5", "1.5"])))", shape: a.shape)
                case 2:
                    let b = expression(target, depth - 1)
                    return Expression(text: "((1 + (\(a.text)) ^ 2) ^ tanh(\(b.text)))", shape: Self.broadcast(a.shape, b.shape))
                default: return Expression(text: "(2 ^ tanh(\(a.text)))", shape: a.shape)
                }
            case 7:
                let a = expression(target, depth - 1), b = expression(target, depth - 1)
                return Expression(text: "\(random.pick(["maximum", "minimum"]))(\(a.text), \(b.text))",
                                  shape: Self.broadcast(a.shape, b.shape))
            case 8, 9:
                // A reduction along one of the operand's axes, keeping it.
                let e = expression(target, depth - 1)
                guard !e.shape.isEmpty else { continue }
                let axis = random.below(e.shape.count)
                var shape = e.shape
                shape[axis] = 1
                let written = random.below(2) == 0 ? axis : axis - e.shape.count
                var op = reduction(), extra = ""
                // (ddof=1 over one element is 0/0, nan as in NumPy and PyTorch; and nan in a
                // branch where() does not take still makes the gradient nan, as in PyTorch.)
                if (op == "var" || op == "std") && e.shape[axis] > 1 && random.below(2) == 0 { extra = ", ddof=1" }
                if op == "mean" && random.below(3) == 0 {
                    // A masked sum (a masked mean would be nan over an empty row).
                    op = "sum"
                    extra = ", where=\(mask(e.shape))"
                }
                return Expression(text: "\(op)(\(e.text), axis=\(written), keepdims=true\(extra))", shape: shape)
            case 10:
                // A reduction along a new axis.
                guard r < 4 else { continue }
                let axis = random.below(r + 1)
                var shape = target
                shape.insert(dim(), at: axis)
                let e = exact(shape, depth - 1)
                return Expression(text: "\(reduction())(\(e), axis=\(axis))", shape: target)
            case 11:
                guard r >= 1 else { continue }
                let e = exact(target, depth - 1)
                return Expression(text: "softmax(\(e), axis=\(random.below(r) - r))", shape: target)
            case 12:
                // Over two elements layer norm is nearly ±gamma + beta: steep where they meet.
                guard r >= 1 && target[r - 1] >= 3 else { continue }
                let d = target[r - 1]
                let e = exact(target, depth - 1)
                let gamma = random.below(2) == 0 ? constant([d]) : exact([d], depth - 1)
                let beta = random.below(2) == 0 ? constant([d]) : exact([d], depth - 1)
                return Expression(text: "layernorm(\(e), \(gamma), \(beta))", shape: target)
            case 13, 14:
                guard r >= 1 else { continue }
                let m = dim(), k = target[r - 1]
                if r == 1 {
                    return Expression(text: "(\(exact([m], depth - 1)) @ \(exact([m, k], depth - 1)))", shape: target)
                }
                let n = target[r - 2], batch = Array(target.dropLast(2))
                let b = random.below(2) == 0 ? [] : batch
                switch random.below(3) {
                case 0:
                    return Expression(text: "(\(exact(batch + [n, m], depth - 1)) @ \(exact(b + [m, k], depth - 1)))", shape: target)
                case 1:
                    return Expression(text: "(\(exact(batch + [n, m], depth - 1)) @ (\(exact(b + [k, m], depth - 1)))')", shape: target)
                default:
                    return Expression(text: "((\(exact(batch + [m, n], depth - 1)))' @ \(exact(b + [m, k], depth - 1)))", shape: target)
                }
            case 15:
                guard r >= 1 else { continue }
                let m = dim(), k = target[r - 1]
                let x = exact(Array(target.dropLast()) + [m], depth - 1), w = exact([m, k], depth - 1)
                let bias = random.below(3) == 0 ? "" : ", " + (random.below(2) == 0 ? constant([k]) : exact([k], depth - 1))
                return Expression(text: "linear(\(x), \(w)\(bias))", shape: target)
            case 16:
                guard r >= 2 else { continue }
                let batch = Array(target.dropLast(2)), nq = target[r - 2], dv = target[r - 1], nk = dim(), dk = dim()
                let q = exact(batch + [nq, dk], depth - 1), k = exact(batch + [nk, dk], depth - 1)
                let v = exact(batch + [nk, dv], depth - 1)
                return Expression(text: "attention(\(q), \(k), \(v), causal=\(random.pick(["true", "false"])))", shape: target)
            case 17:
                // reshape from another factoring of the same count.
                let count = target.reduce(1, *)
                var factors: [Int] = []
                var left = count
                for p in [2, 3] { while left % p == 0 { factors.append(p); left /= p } }
                if left > 1 { factors.append(left) }
                var shape: [Int] = []
                for f in factors {
                    if !shape.isEmpty && random.below(2) == 0 { shape[shape.count - 1] *= f } else { shape.append(f) }
                }
                if shape.isEmpty { shape = [1] }
                var sizes = target.map(String.init)
                if !sizes.isEmpty && random.below(3) == 0 { sizes[random.below(sizes.count)] = "-1" }
                return Expression(text: "reshape(\(exact(shape, depth - 1)), \(sizes.joined(separator: ", ")))", shape: target)
            case 18:
                guard r >= 2 else { continue }
                if random.below(2) == 0 {
                    var shape = target
                    shape.swapAt(r - 1, r - 2)
                    return Expression(text: "(\(exact(shape, depth - 1)))'", shape: target)
                }
                let a = random.below(r), b = random.below(r)
                var shape = target
                shape.swapAt(a, b)
                return Expression(text: "transpose(\(exact(shape, depth - 1)), \(a), \(b - r))", shape: target)
            case 19:
                guard r >= 2 else { continue }
                var axes = Array(0..<r)
                for i in stride(from: r - 1, to: 0, by: -1) { axes.swapAt(i, random.below(i + 1)) }
                // permute(e, axes) has shape e.shape[axes[i]] at i.
                var shape = target
                for i in 0..<r { shape[axes[i]] = target[i] }
                return Expression(text: "permute(\(exact(shape, depth - 1)), \(Self.list(axes)))", shape: target)
            case 20:
                guard r < 4 else { continue }
                let axis = random.below(r + 1)
                var shape = target
                shape.insert(1, at: axis)
                if random.below(2) == 0 {
                    return Expression(text: "squeeze(\(exact(shape, depth - 1)), \(axis))", shape: target)
                }
                // unsqueeze of the target without one of its axes.
                guard r >= 1 else { continue }
                let drop = random.below(r)
                var smaller = target
                smaller.remove(at: drop)
                var result = target
                result[drop] = 1
                return Expression(text: "unsqueeze(\(exact(smaller, depth - 1)), \(drop))", shape: result)
            case 21:
                guard let axis = (0..<r).filter({ target[$0] >= 2 }).randomElement(using: &random) else { continue }
                let first = 1 + random.below(target[axis] - 1)
                var a = target, b = target
                a[axis] = first
                b[axis] = target[axis] - first
                return Expression(text: "concat([\(exact(a, depth - 1)), \(exact(b, depth - 1))], axis=\(axis))", shape: target)
            case 22:
                guard let axis = (0..<r).filter({ target[$0] <= 3 }).randomElement(using: &random) else { continue }
                var part = target
                part.remove(at: axis)
                let parts = (0..<target[axis]).map { _ in exact(part, depth - 1) }
                return Expression(text: "stack([\(parts.joined(separator: ", "))], axis=\(axis - (random.below(2) == 0 ? 0 : r)))",
                                  shape: target)
            case 23:
                guard r >= 1 else { continue }
                let axis = random.below(r), n = 2 + random.below(2)
                var shape = target
                shape[axis] *= n
                return Expression(text: "split(\(exact(shape, depth - 1)), \(n), axis=\(axis))[\(random.below(n))]", shape: target)
            case 24:
                // An index, a slice or a gather along axis 0 or 1.
                guard r < 4 else { continue }
                let axis = r >= 1 ? random.below(min(r, 2)) : 0
                let prefix = axis == 0 ? "" : ":, "
                switch random.below(3) {
                case 0:
                    var shape = target
                    shape.insert(dim(), at: axis)
                    let i = random.below(shape[axis]) - (random.below(2) == 0 ? 0 : shape[axis])
                    return Expression(text: "\(exact(shape, depth - 1))[\(prefix)\(i)]", shape: target)
                case 1:
                    guard r >= 1 else { continue }
                    var shape = target
                    let (extra, slice) = random.pick([(1, "1:"), (1, ":-1"), (target[axis] - 1, "::2"), (2, "1:\(target[axis] + 1)")])
                    shape[axis] += extra
                    if slice == "::2" { shape[axis] = 2 * target[axis] - random.below(2) }
                    return Expression(text: "\(exact(shape, depth - 1))[\(prefix)\(slice)]", shape: target)
                default:
                    guard r >= 1 else { continue }
                    var shape = target
                    shape[axis] = dim()
                    let ids = (0..<target[axis]).map { _ in String(random.below(shape[axis])) }
                    return Expression(text: "\(exact(shape, depth - 1))[\(prefix)[\(ids.joined(separator: ", "))]]", shape: target)
                }
            case 25:
                guard r >= 1 else { continue }
                let a = expression(target, depth - 1), b = expression(target, depth - 1)
                return Expression(text: "where(\(mask(target)), \(a.text), \(b.text))", shape: target)
            case 26:
                // Writing into a fresh tensor (a copy, or zeros) in place.
                guard r >= 1 else { continue }
                let row = expression(Array(target.dropFirst()), depth - 1)
                let i = random.below(target[0])
                if random.below(2) == 0 {
                    let u = exact(target, depth - 1)
                    return Expression(text: "(fn(u, w) { y = copy(u); y[\(i)] = w; y })(\(u), \(row.text))", shape: target)
                }
                let u = expression(target, depth - 1)
                return Expression(text: "(fn(u, w) { y = zeros(\(Self.list(target))); y[\(i)] = w; y * u })(\(u.text), \(row.text))",
                                  shape: target)
            default:
                // Control flow: a loop, an if on a constant, a closure.
                switch random.below(3) {
                case 0:
                    guard r >= 1 else { continue }
                    let d = target[r - 1]
                    let h = exact(target, depth - 1), w = exact([d, d], depth - 1), u = expression(target, depth - 1)
                    return Expression(text: "(fn(h, W, u) { for i in range(\(1 + random.below(3))) { h = tanh(h @ W / \(d) + u) }; h })(\(h), \(w), \(u.text))",
                                      shape: target)
                case 1:
                    let a = expression(target, depth - 1), b = expression(target, depth - 1)
                    let taken = random.below(2) == 0
                    let condition = taken ? random.pick(["true", "1 < 2", "len([1, 2]) == 2"]) : random.pick(["false", "2 < 1"])
                    return Expression(text: "(if (\(condition)) { \(a.text) } else { \(b.text) })", shape: taken ? a.shape : b.shape)
                default:
                    let a = expression(target, depth - 1)
                    let x = random.pick(inputs)
                    let body = random.pick(["u * tanh(u)", "sin(u) + u", "sum(tanh(\(x.name))) * u", "u ^ 2 / (1 + u ^ 2)"])
                    return Expression(text: "(fn(u) = \(body))(\(a.text))", shape: a.shape)
                }
            }
        }
    }

    mutating func reduction() -> String {
        random.pick(["sum", "mean", "max", "min", "logsumexp", "var", "std", "norm"])
    }

    /// A program: inputs, constants, the loss, and the checks. The script prints one line:
    /// the loss L(x), the sum of |out * R| (the scale of L's rounding), the gradient's
    /// norm, its dot product with a random direction v, L(x + h v) and L(x - h v) for
    /// h = 1e-2, 3e-3, 1e-3, and check_grad's relative errors with those steps.
    mutating func program(seed: Int) -> Program {
        definitions = []
        budget = 6 + random.below(10)
        let rank = 1 + random.below(3)
        let base = (0..<rank).map { _ in dim() }
        inputs = [("x0", base)]
        for i in 1..<(1 + random.below(3)) {
            var shape = base
            switch random.below(3) {
            case 0: shape = Array(shape.dropFirst(random.below(shape.count)))
            case 1: shape[random.below(shape.count)] = 1
            default: shape = [base[rank - 1], dim()]
            }
            inputs.append(("x\(i)", shape))
        }
        let f = expression(base, 4)
        let names = inputs.map(\.name).joined(separator: ", ")
        let loss = "fn out(\(names)) = \(f.text)\nfn loss(\(names)) = sum(out(\(names)) * R)"
        let inputs = self.inputs
        let moved = { (sign: String) in inputs.map { "\($0.name) \(sign) h * v_\($0.name)" }.joined(separator: ", ") }
        let script = """
            seed(\(seed))
            \(inputs.map { "\($0.name) = randn(\(Self.list($0.shape)))" }.joined(separator: "\n"))
            \(definitions.joined(separator: "\n"))
            R = randn(\(Self.list(base)))
            \(loss)
            \(inputs.map { "v_\($0.name) = randn(\(Self.list($0.shape)))" }.joined(separator: "\n"))
            vg = value_and_grad(loss, wrt=[\(inputs.map { "\"\($0.name)\"" }.joined(separator: ", "))])(\(names))
            dot = \(inputs.map { "item(sum(vg.grad.\($0.name) * v_\($0.name)))" }.joined(separator: " + "))
            at = fn(h) = format("{:.9e} {:.9e}", item(loss(\(moved("+")))), item(loss(\(moved("-")))))
            gnorm = sqrt(\(inputs.map { "item(sum(vg.grad.\($0.name) ^ 2))" }.joined(separator: " + ")))
            scale = item(sum(abs(out(\(names)) * R)))
            cg = fn(h) = check_grad(loss, \(names), step=h)
            print(format("{:.9e} {:.9e} {:.9e} {:.9e}", item(loss(\(names))), scale, gnorm, dot), at(1e-2), at(3e-3), at(1e-3), format("{:.9e} {:.9e} {:.9e}", cg(1e-2), cg(3e-3), cg(1e-3)))
            """
        return Program(script: script, loss: loss, inputs: inputs)
    }
}

extension Seeded: RandomNumberGenerator {}

extension String {
    /// Whether `pattern` occurs here, not right after a letter (so "max(" is not found in
    /// "softmax(").
    fileprivate func calls(_ pattern: String) -> Bool {
        var rest = Substring(self)
        while let range = rest.range(of: pattern) {
            if range.lowerBound == rest.startIndex || !(rest[rest.index(before: range.lowerBound)].isLetter) { return true }
            rest = rest[rest.index(after: range.lowerBound)...]
        }
        return false
    }
}

/// Issue 17's property test: on random differentiable programs (see
/// DifferentiableProgramGenerator; 200 times TX_FUZZ_SCALE, seeded, so a failure
/// reproduces, and its message shows the whole script), value_and_grad's gradient dotted
/// with a random direction v of the script's own agrees with a central difference
/// (L(x + h v) - L(x - h v)) / 2h of L's float32 values: the one for h = 1e-2, 3e-3 or
/// 1e-3, or Richardson's extrapolation from the last two, within 1e-2 relative error plus
/// the difference's rounding (2e-7 sum(|out * R|) / h) and, for h = 1e-3, what a kink
/// within the step can move it by (half the second difference). check_grad (the best of the same
/// steps) must agree (below 1e-2) on at least 98% of the programs whose gradient is not
/// tiny, and every operation listed below must have been generated.
///
/// Skipped, at most 5% of the programs: a loss that is not finite or reaches 1e4; one whose
/// terms |out * R| add up to less than 1e-5, what float32 leaves after cancellation (the
/// variance of nearly equal values, log(1 + u^2) of a tiny u) rather than a value to
/// differentiate; and a kink within the step (a second difference that does not shrink
/// with h), where no finite difference measures the derivative.
@Test func gradientsAgreeWithFiniteDifferencesOnRandomPrograms() {
    var generator = DifferentiableProgramGenerator(random: Seeded(state: 17))
    let count = TestEnvironment.fuzzCount(200)
    var skipped = 0, checked = 0, checkFailures: [String] = [], covered: Set<String> = []
    // What the programs cover: a builtin called (not as part of another name), or a piece of syntax.
    let functions = ["maximum", "minimum", "exp", "log", "sqrt", "abs", "tanh", "sin", "cos", "sigmoid", "relu", "gelu",
                     "sum", "mean", "max", "min", "logsumexp", "var", "std", "norm", "softmax", "layernorm", "linear",
                     "attention", "reshape", "transpose", "permute", "squeeze", "unsqueeze", "concat", "stack", "split",
                     "where", "flatten"]
    let syntax = [" + ", " - ", " * ", " / ", " ^ ", " @ ", ")'", "keepdims=true", "causal=true", "causal=false",
                  "[-", "[:, ", "::2]", "1:]", ")[[", "[:, [", "for i in range", "(if (", "(fn(u) =", "ddof=1", "where=",
                  "y = copy(u)", "y = zeros("]
    let coverage = functions.map { ($0, $0 + "(") } + syntax.map { ($0, $0) }
    for n in 0..<count {
        let program = generator.program(seed: n)
        let (output, error) = runScript(program.script, name: "gradient-property.tx")
        let context = "program \(n) (seed 17):\n\(program.script)"
        if let error {
            Issue.record("failed: \(error.rendered())\n\(context)")
            continue
        }
        let numbers = (output.split(separator: "\n").last ?? "").split(separator: " ").compactMap { Double($0) }
        guard numbers.count == 13 else {
            Issue.record("unexpected output \(output.debugDescription)\n\(context)")
            continue
        }
        let value = numbers[0], scale = numbers[1], gnorm = numbers[2], dot = numbers[3], checks = Array(numbers[10..<13])
        let steps = [1e-2, 3e-3, 1e-3]
        let differences = steps.indices.map { (numbers[4 + 2 * $0] - numbers[5 + 2 * $0]) / (2 * steps[$0]) }
        // Rounding: L is a float32 sum of terms whose magnitudes add up to scale; its error
        // is about 1e-7 scale, and a difference's 1e-7 scale / h (counted twice here).
        let floors = steps.map { 2e-7 * scale / $0 }
        // A kink (relu, abs, maximum, max or std near a tie or 0) within the step of x:
        // the second difference (L(x + h v) + L(x - h v) - 2 L(x)) / h shrinks with h
        // where L is smooth, and does not where the step straddles a kink.
        let second = steps.indices.map { (numbers[4 + 2 * $0] + numbers[5 + 2 * $0] - 2 * value) / steps[$0] }
        let kink = abs(second[2]) > 2 * floors[2] && abs(second[2]) > 0.3 * abs(second[0])
        guard value.isFinite && abs(value) < 1e4 && scale >= 1e-5 && !kink else {
            skipped += 1
            continue
        }
        // Where the curvature is large, the central difference's error (~ h^2) still shows at
        // h = 1e-3; Richardson's extrapolation from 3e-3 and 1e-3 removes that term. A kink
        // at a distance d < h moves a central difference by (1 - d/h) times its jump in
        // slope over 2, which is half the second difference: that much is allowed at
        // h = 1e-3 (where a smooth L's second difference is only 1e-3 L'').
        let estimates = differences + [differences[2] + (differences[2] - differences[1]) / 8]
        let tolerances = [floors[0], floors[1], floors[2] + abs(second[2]) / 2, 1.5 * floors[2]]
        let agree = zip(estimates, tolerances).contains { fd, tolerance in abs(dot - fd) <= 1e-2 * max(abs(dot), abs(fd)) + tolerance }
        #expect(agree, "gradient . v = \(dot), central differences \(differences) for steps \(steps) and extrapolated \(estimates[3]), absolute tolerances (rounding and kinks) \(tolerances)\n\(context)")
        // check_grad's direction is its own: only its relative error comes back, so where
        // the gradient is tiny against the loss's rounding (or its direction nearly
        // orthogonal to the gradient) it cannot agree; it is held to agreeing on at least
        // 98% of the programs whose gradient is not tiny.
        if gnorm >= 1e-3 * scale {
            checked += 1
            if !(checks.contains { $0 < 1e-2 }) { checkFailures.append("program \(n): \(checks)") }
        }
        for (name, pattern) in coverage where program.loss.calls(pattern) { covered.insert(name) }
    }
    #expect(checkFailures.count * 50 <= checked, "check_grad disagrees on \(checkFailures.count) of \(checked) programs: \(checkFailures)")
    #expect(covered.count == coverage.count, "never generated: \(coverage.map(\.0).filter { !covered.contains($0) })")
    #expect(skipped * 20 <= count, "\(skipped) of \(count) programs skipped")
}
