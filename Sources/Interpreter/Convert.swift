import Lang
import Tensor

/// Conversions between values that builtins and operators share.
enum Convert {
    /// A number, or the value of a one-element tensor.
    static func number(_ value: Value) -> Double? {
        switch value {
        case .number(let x): return x
        case .tensor(let t): return t.scalarValue.map(Double.init)
        default: return nil
        }
    }

    /// An integral number (§3: indices and sizes may be numbers or one-element tensors
    /// with integral values).
    static func integer(_ value: Value, what: String, at span: SourceSpan?) throws -> Int {
        guard let x = number(value) else {
            throw TxError(.type, "\(what) must be an integer, got \(article(value.typeDescription))", at: span)
        }
        guard x.isFinite, x == x.rounded() else {
            throw TxError(.index, "\(what) must be an integer, got \(TensorFormatter.formatNumber(x))", at: span)
        }
        guard abs(x) < 9.0e15 else {
            if what.hasPrefix("an index") {
                throw TxError(.index, "index \(TensorFormatter.formatNumber(x)) is out of range", at: span)
            }
            throw TxError(.value, "\(what) is too large, got \(TensorFormatter.formatNumber(x))", at: span)
        }
        return Int(x)
    }

    /// A slice bound or step: any integer, clamped far beyond every length, as
    /// NumPy clamps `x[2^53:]`.
    static func sliceBound(_ value: Value, what: String, at span: SourceSpan?) throws -> Int {
        guard let x = number(value) else {
            throw TxError(.type, "\(what) must be an integer, got \(article(value.typeDescription))", at: span)
        }
        guard let n = sliceInteger(x) else {
            throw TxError(.index, "\(what) must be an integer, got \(TensorFormatter.formatNumber(x))", at: span)
        }
        return n
    }

    /// A size: a non-negative integer.
    static func size(_ value: Value, at span: SourceSpan?) throws -> Int {
        let n = try integer(value, what: "a size", at: span)
        guard n >= 0 else { throw TxError(.value, "sizes cannot be negative, got \(n)", at: span) }
        return n
    }

    /// A tensor from a tensor, a number, a bool or a numeric list; nil for other kinds.
    static func tensor(_ value: Value, at span: SourceSpan?, depth: Int = 0) throws -> Tensor? {
        do {
            switch value {
            case .tensor(let t): return t
            case .number(let x): return try Tensor(scalar: Float(x))
            case .bool(let b): return try Tensor(scalar: b ? 1 : 0)
            case .list(let list):
                if case .tensor(let t)? = try literal(list.items) { return t }
                // A list of numeric lists (built with push), as NumPy's array of nested
                // lists: each item a tensor of one shape, stacked along a new first axis.
                guard depth < Display.maxDepth, !list.items.isEmpty,
                      list.items.allSatisfy({ if case .list = $0 { return true } else { return false } }) else { return nil }
                var rows: [Tensor] = []
                for item in list.items {
                    guard let row = try tensor(item, at: span, depth: depth + 1), row.shape == (rows.first?.shape ?? row.shape) else { return nil }
                    rows.append(row)
                }
                return try Tensor.stack(rows, axis: 0)
            case .range(let r):
                return try Tensor.arange(start: r.start, stop: r.stop, step: r.step)
            default: return nil
            }
        } catch let error as TensorError {
            throw TxError(error, at: span)
        }
    }

    /// Why a list is not a tensor, for the type error of an argument that must be one:
    /// "an empty list ...", "a list whose item 2 is a string", or "a list whose items 0
    /// and 1 are shaped [2] and [1] and do not stack" (a ragged nested list); nil when it
    /// would convert after all.
    static func whyNotATensor(_ items: [Value], depth: Int = 0) -> String? {
        guard !items.isEmpty else { return "an empty list (zeros(0) is an empty tensor)" }
        var first: (index: Int, shape: [Int])? = nil
        for (i, item) in items.enumerated() {
            let shape: [Int]
            switch item {
            case .number, .bool: shape = []
            case .tensor(let t): shape = t.shape
            case .list(let inner):
                guard let t = try? tensor(item, at: nil, depth: depth + 1) else {
                    let why = depth < 1 ? whyNotATensor(inner.items, depth: depth + 1) : nil
                    return "a list whose item \(i) is \(why ?? "a list")"
                }
                shape = t.shape
            default:
                return "a list whose item \(i) is \(article(item.typeDescription))"
            }
            if let first, first.shape != shape {
                return "a list whose items \(first.index) and \(i) are shaped \(describe(shape: first.shape)) and \(describe(shape: shape)) and do not stack"
            }
            first = first ?? (i, shape)
        }
        return nil
    }

    /// The value of a bracketed literal `[a, b, ...]` (§3): a tensor when every element
    /// is a number (or one-element 0-d tensor), or every element is a tensor of one
    /// shape (stacked along a new first axis); otherwise a list.
    static func literal(_ items: [Value]) throws -> Value? {
        guard !items.isEmpty else { return nil }
        var allNumbers = true
        var tensorShape: [Int]? = nil
        var allTensors = true
        for item in items {
            switch item {
            case .number: allTensors = false
            case .tensor(let t):
                if t.rank != 0 { allNumbers = false }
                if let shape = tensorShape, shape != t.shape { allTensors = false }
                tensorShape = tensorShape ?? t.shape
            default:
                return nil
            }
        }
        if allNumbers, let tape = Tape.active,
           items.contains(where: { if case .tensor(let t) = $0 { return tape.tracks(t) } else { return false } }) {
            // Numbers that carry a gradient (0-d tensors of a grad call): a recorded stack.
            let tensors = try items.map { item -> Tensor in
                if case .tensor(let t) = item { return t }
                if case .number(let x) = item { return try Tensor(scalar: Float(x)) }
                return try Tensor(scalar: 0)
            }
            return .tensor(try Tensor.stack(tensors, axis: 0))
        }
        if allNumbers {
            var values = [Float]()
            values.reserveCapacity(items.count)
            for item in items {
                switch item {
                case .number(let x): values.append(Float(x))
                case .tensor(let t): values.append(t.scalarValue ?? 0)
                default: break
                }
            }
            return .tensor(try Tensor(shape: [items.count], values: values))
        }
        if allTensors {
            let tensors = items.compactMap { item -> Tensor? in
                if case .tensor(let t) = item { return t }
                return nil
            }
            return .tensor(keepingMask(try Tensor.stack(tensors, axis: 0), of: tensors))
        }
        return nil
    }

    /// `result`, marked as a mask when every input is one: copies, joins and
    /// rearrangements of masks stay masks, as NumPy's bool arrays keep their dtype.
    static func keepingMask(_ result: Tensor, of inputs: [Tensor]) -> Tensor {
        !inputs.isEmpty && inputs.allSatisfy(\.isMask) ? result.markedAsMask() : result
    }

    /// Truth for `if`, `while`, `assert`, `&&`, `||` and `!`: a bool, a number or a
    /// one-element tensor (nonzero is true).
    static func truth(_ value: Value, context: String, at span: SourceSpan) throws -> Bool {
        switch value {
        case .bool(let b): return b
        case .number(let x): return x != 0
        case .tensor(let t):
            guard let x = t.scalarValue else {
                throw TxError(.value, "\(context) needs one value, got a tensor \(describe(shape: t.shape)); use all(...) or any(...) to reduce it", at: span)
            }
            return x != 0
        default:
            throw TxError(.type, "\(context) needs a bool or a one-element tensor, got \(article(value.typeDescription))", at: span)
        }
    }
}

extension TxError {
    /// A tensor kernel's error, placed at the expression that called the kernel.
    init(_ error: TensorError, at span: SourceSpan?) {
        let kind: TxError.Kind
        switch error.kind {
        case .shape: kind = .shape
        case .index: kind = .index
        case .value: kind = .value
        case .type: kind = .type
        case .memory: kind = .memory
        case .io: kind = .io
        case .interrupted: kind = .interrupted
        }
        self.init(kind, label: error.label, error.detail, at: span)
    }
}
