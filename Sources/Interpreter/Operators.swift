import Glibc
import Lang
import Tensor

/// Arithmetic, comparison and the other operators of §4 on values.
enum Operators {
    static func tensorOp(_ op: BinaryOperator) -> BinaryOp? {
        switch op {
        case .add: return .add
        case .subtract: return .subtract
        case .multiply: return .multiply
        case .divide: return .divide
        case .floorDivide: return .floorDivide
        case .modulo: return .modulo
        case .power: return .power
        case .equal: return .equal
        case .notEqual: return .notEqual
        case .less: return .less
        case .lessEqual: return .lessEqual
        case .greater: return .greater
        case .greaterEqual: return .greaterEqual
        case .matmul, .contains, .notContains: return nil
        }
    }

    /// `a op b` on two numbers.
    @inline(__always)
    static func numbers(_ op: BinaryOperator, _ x: Double, _ y: Double) -> Value? {
        switch op {
        case .add: return .number(x + y)
        case .subtract: return .number(x - y)
        case .multiply: return .number(x * y)
        case .divide: return .number(x / y)
        case .floorDivide: return .number((x / y).rounded(.down))
        case .modulo:
            let r = fmod(x, y)
            return .number(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case .power: return .number(pow(x, y))
        case .equal: return .bool(x == y)
        case .notEqual: return .bool(x != y)
        case .less: return .bool(x < y)
        case .lessEqual: return .bool(x <= y)
        case .greater: return .bool(x > y)
        case .greaterEqual: return .bool(x >= y)
        case .matmul, .contains, .notContains: return nil
        }
    }

    /// A tensor result; a comparison's is a mask, so that `x[x > 0]` selects.
    private static func result(_ op: BinaryOp, _ t: Tensor) -> Value {
        switch op {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return .tensor(t.markedAsMask())
        default: return .tensor(t)
        }
    }

    /// `a op b` for any values; errors carry no span (the caller adds the operator's).
    static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value) throws -> Value {
        if op == .contains || op == .notContains { return .bool(try contains(b, a) == (op == .contains)) }
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if let result = numbers(op, x, y) { return result }
        case (.tensor(let t), .number(let y)):
            if op == .matmul { break }
            if let top = tensorOp(op) { return result(top, try Tensor.binary(top, t, scalar: Float(y))) }
        case (.number(let x), .tensor(let t)):
            if op == .matmul { break }
            if let top = tensorOp(op) { return result(top, try Tensor.binary(top, scalar: Float(x), t)) }
        case (.tensor(let s), .tensor(let t)):
            if op == .matmul { return .tensor(try Tensor.matmul(s, t)) }
            if let top = tensorOp(op) { return result(top, try Tensor.binary(top, s, t)) }
        case (.string(let a), .string(let b)):
            let (s, t) = (a.text, b.text)
            switch op {
            case .add:
                // The operands are counted while they live; the result is not yet.
                try Memory.checkRoom(for: StringValue.objectBytes + s.utf8.count + t.utf8.count, "building a string")
                return .string(s + t)
            // Strings compare by their Unicode scalars, as in Python: "é" != "e\u{301}".
            case .equal: return .bool(ScalarKey.same(s, t))
            case .notEqual: return .bool(!ScalarKey.same(s, t))
            case .less: return .bool(ScalarKey.precedes(s, t))
            case .lessEqual: return .bool(!ScalarKey.precedes(t, s))
            case .greater: return .bool(ScalarKey.precedes(t, s))
            case .greaterEqual: return .bool(!ScalarKey.precedes(s, t))
            default: break
            }
        case (.string(let s), .number), (.string(let s), .tensor):
            if op == .multiply { return try repeated(s.text, count(b)) }
        case (.number, .string(let s)), (.tensor, .string(let s)):
            if op == .multiply { return try repeated(s.text, count(a)) }
        case (.list(let l), .list(let m)) where op == .add:
            try Memory.checkRoom(for: (l.items.count + m.items.count) * MemoryLayout<Value>.stride, "building a list")
            return .list(ListValue(l.items + m.items))
        case (.tensor, .bool(let p)):
            // As in NumPy, a bool meets a tensor as 1 or 0: `m == false` is elementwise.
            return try binary(op, a, .number(p ? 1 : 0))
        case (.bool(let p), .tensor):
            return try binary(op, .number(p ? 1 : 0), b)
        case (.list, .number), (.number, .list), (.list, .tensor), (.tensor, .list):
            // A list that is a numeric literal in disguise, e.g. a list of 0-d tensors.
            if let s = try Convert.tensor(a, at: nil), let t = try Convert.tensor(b, at: nil) {
                return try binary(op, .tensor(s), .tensor(t))
            }
            // Any other list repeats, as in Python: ["a", 1] * 2.
            if op == .multiply, case .list(let l) = a { return try repeated(l, count(b)) }
            if op == .multiply, case .list(let l) = b { return try repeated(l, count(a)) }
        default:
            break
        }
        if op == .equal { return .bool(try equal(a, b)) }
        if op == .notEqual { return .bool(try !equal(a, b)) }
        if op == .matmul, case .number = a, case .number = b {
            throw TxError(.type, "@ needs tensors, got two numbers; use * for numbers")
        }
        throw TxError(.type, "cannot apply \(op.rawValue) to \(article(a.typeDescription)) and \(article(b.typeDescription))")
    }

    /// The count of a repetition (`"ab" * 3`): a whole number >= 0.
    private static func count(_ value: Value) throws -> Int {
        guard let x = Convert.number(value) else {
            throw TxError(.type, "* repeats a string or a list a whole number of times, got \(article(value.typeDescription))")
        }
        guard x >= 0, x == x.rounded(), x < 9.0e15 else {
            throw TxError(.value, "* repeats a string or a list a whole number of times (0 or more), got \(TensorFormatter.formatNumber(x))")
        }
        return Int(x)
    }

    private static func repeated(_ s: String, _ n: Int) throws -> Value {
        let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
        try Memory.checkRoom(for: overflow ? Int.max : StringValue.objectBytes + bytes, "building a string")
        return .string(String(repeating: s, count: n))
    }

    private static func repeated(_ list: ListValue, _ n: Int) throws -> Value {
        let (bytes, overflow) = (list.items.count * MemoryLayout<Value>.stride).multipliedReportingOverflow(by: n)
        try Memory.checkRoom(for: overflow ? Int.max : bytes, "building a list")
        var items: [Value] = []
        items.reserveCapacity(list.items.count * n)
        for _ in 0..<n { items.append(contentsOf: list.items) }
        return .list(ListValue(items))
    }

    /// `item in collection` (§4.1): a substring of a string, an item of a list (equal as
    /// `==` compares values, a number equal to a one-element tensor), a key of a record,
    /// a number of a range; in a tensor, a number equal to some element (NumPy's
    /// `any(t == x)`) or a tensor equal to one of its rows.
    static func contains(_ collection: Value, _ item: Value) throws -> Bool {
        switch collection {
        case .string(let s):
            guard case .string(let part) = item else {
                throw TxError(.type, "'in' a string looks for a string, got \(article(item.typeDescription))")
            }
            return try Strings.find(Array(part.text.unicodeScalars), in: Array(s.text.unicodeScalars)) != nil
        case .list(let l):
            var steps = 0
            for x in l.items {
                steps += 1
                if steps & 4095 == 0 { try Interrupt.check() }
                if try sameItem(x, item) { return true }
            }
            return false
        case .record(let r):
            guard case .string(let key) = item else {
                throw TxError(.type, "'in' a record looks for a key (a string), got \(article(item.typeDescription))")
            }
            return r[key.text] != nil
        case .range(let r):
            guard let x = Convert.number(item) else { return false }
            guard r.count > 0, r.step != 0 else { return false }
            let k = ((x - r.start) / r.step).rounded()
            return k >= 0 && k < Double(r.count) && r[Int(k)] == x
        case .tensor(let t):
            if case .number(let x) = item {
                return t.values.contains(Float(x))
            }
            if case .bool(let p) = item { return try contains(collection, .number(p ? 1 : 0)) }
            guard case .tensor(let u) = item else {
                throw TxError(.type, "'in' a tensor looks for a number or a row, got \(article(item.typeDescription))")
            }
            if u.count == 1, u.rank == 0 || t.rank == 1 { return try contains(collection, .number(Double(u.scalarValue ?? .nan))) }
            guard t.rank > 0, Array(t.shape.dropFirst()) == u.shape else {
                throw TxError(.type, "'in' a tensor \(describe(shape: t.shape)) looks for a number or a row shaped \(describe(shape: Array(t.shape.dropFirst()))), got a tensor \(describe(shape: u.shape))")
            }
            let rowSize = u.count, values = t.values, wanted = u.values
            for row in 0..<t.shape[0] where values[(row * rowSize)..<((row + 1) * rowSize)].elementsEqual(wanted) { return true }
            return false
        default:
            throw TxError(.type, "'in' looks in a string, list, record, range or tensor, got \(article(collection.typeDescription))")
        }
    }

    /// A list item and the value looked for: equal values, or a number and a
    /// one-element tensor of that value.
    private static func sameItem(_ x: Value, _ y: Value) throws -> Bool {
        switch (x, y) {
        case (.number(let p), .tensor(let t)), (.tensor(let t), .number(let p)):
            return t.count == 1 && t.scalarValue.map(Double.init) == p
        default:
            return try equal(x, y)
        }
    }

    /// How deep `equal` follows nested lists and records before it stops: far past any
    /// real nesting. (Interpreted code runs on a 1 GiB stack.)
    static let maxCompareDepth = 10_000

    /// Structural equality for non-tensor values (`==` between different kinds is false).
    /// Each pair of containers is compared once: shared sub-lists (`a = [a, a]` forty
    /// times) cost one comparison each, not 2^40, and a pair met again while it is being
    /// compared (a list holding itself) counts as equal, as its other parts decide.
    /// Containers nested past `maxCompareDepth` are equal only when they are the same.
    static func equal(_ a: Value, _ b: Value) throws -> Bool {
        var comparison = Comparison()
        return try equal(a, b, depth: 0, &comparison)
    }

    /// The pairs of containers `equal` has met, and how many values it has looked at
    /// (Ctrl-C is checked every 4096).
    private struct Comparison {
        struct Pair: Hashable {
            let a: ObjectIdentifier, b: ObjectIdentifier
        }
        var met = Set<Pair>()
        var steps = 0

        /// False when the pair was met before.
        mutating func first(_ a: AnyObject, _ b: AnyObject) -> Bool {
            met.insert(Pair(a: ObjectIdentifier(a), b: ObjectIdentifier(b))).inserted
        }
    }

    private static func equal(_ a: Value, _ b: Value, depth: Int, _ comparison: inout Comparison) throws -> Bool {
        comparison.steps += 1
        if comparison.steps & 4095 == 0 { try Interrupt.check() }
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y
        case (.string(let s), .string(let t)): return ScalarKey.same(s.text, t.text)
        case (.bool(let p), .bool(let q)): return p == q
        case (.none, .none): return true
        case (.list(let l), .list(let m)):
            if l === m { return true }
            guard depth < maxCompareDepth, l.items.count == m.items.count else { return false }
            guard comparison.first(l, m) else { return true }
            for (x, y) in zip(l.items, m.items) where try !equal(x, y, depth: depth + 1, &comparison) { return false }
            return true
        case (.record(let r), .record(let s)):
            if r === s { return true }
            guard depth < maxCompareDepth, r.keys == s.keys else { return false }
            guard comparison.first(r, s) else { return true }
            for (key, value) in r.entries {
                guard let other = s[key], try equal(value, other, depth: depth + 1, &comparison) else { return false }
            }
            return true
        case (.tensor(let s), .tensor(let t)):
            return s.shape == t.shape && s.values == t.values
        case (.function(let f), .function(let g)): return f === g
        case (.builtin(let f), .builtin(let g)): return f === g
        // Ranges are equal when they hold the same numbers, as in Python.
        case (.range(let r), .range(let s)):
            return r.count == s.count && (r.count == 0 || r.start == s.start && (r.count == 1 || r.step == s.step))
        default: return false
        }
    }

    static func negate(_ value: Value) throws -> Value {
        switch value {
        case .number(let x): return .number(-x)
        case .tensor(let t): return .tensor(try t.map(.negate))
        default:
            throw TxError(.type, "cannot negate \(article(value.typeDescription))")
        }
    }

    /// `a && b` / `a || b` when an operand is a tensor of several elements: elementwise,
    /// a mask (`x[(x > 1) && (x < 3)]`). Nonzero (NaN included) is true, as in NumPy.
    static func elementwiseLogic(and: Bool, _ a: Value, _ b: Value) throws -> Value {
        func truth(_ v: Value) throws -> Tensor {
            if case .bool(let p) = v { return try Tensor(scalar: p ? 1 : 0) }
            guard let t = try Convert.tensor(v, at: nil) else {
                throw TxError(.type, "\(and ? "&&" : "||") needs bools or tensors, got \(article(v.typeDescription))")
            }
            return try Tensor.binary(.notEqual, t, scalar: 0)
        }
        let x = try truth(a), y = try truth(b)
        return .tensor(try Tensor.binary(and ? .minimum : .maximum, x, y).markedAsMask())
    }

    /// `!x`: a bool for bools and numbers, an elementwise mask for tensors (`x[!(x > 0)]`).
    static func not(_ value: Value, at span: SourceSpan) throws -> Value {
        switch value {
        case .tensor(let t): return .tensor(try t.map(.not).markedAsMask())
        default: return .bool(!(try Convert.truth(value, context: "!", at: span)))
        }
    }

    /// `x'`: swaps the last two axes of a tensor; numbers are their own transpose.
    static func transpose(_ value: Value) throws -> Value {
        switch value {
        case .number: return value
        case .tensor(let t): return .tensor(try t.swappingLastAxes())
        default:
            if let t = try Convert.tensor(value, at: nil) { return .tensor(try t.swappingLastAxes()) }
            throw TxError(.type, "cannot transpose \(article(value.typeDescription))")
        }
    }
}
