import Lang
import Tensor

enum Iteration {
    /// Calls `body` with each item of a `for` loop's sequence until it returns false:
    /// numbers of a range, items of a list, rows of a tensor (0-d tensors for a 1-D
    /// tensor), characters of a string, keys of a record.
    static func forEach(_ sequence: Value, at span: SourceSpan, _ body: (Value) throws -> Bool) throws {
        switch sequence {
        case .range(let r):
            let count = r.count
            var i = 0
            defer { r.progress?.finish(done: i) }
            while i < count {
                if try !body(.number(r[i])) { return }
                i += 1
                r.progress?.tick(done: i)
            }
        case .list(let list):
            // A snapshot: appending inside the loop does not extend it.
            for item in list.items where try !body(item) { return }
        case .tensor(let t):
            guard t.rank > 0 else {
                throw TxError(.type, "cannot iterate over a 0-d tensor", at: span)
            }
            for i in 0..<t.shape[0] {
                let row: Tensor
                do { row = try t.subscripted([.single(i)]) } catch let error as TensorError { throw TxError(error, at: span) }
                if try !body(.tensor(row)) { return }
            }
        case .string(let s):
            for c in s.text where try !body(.string(String(c))) { return }
        case .record(let r):
            for key in r.keys where try !body(.string(key)) { return }
        default:
            throw TxError(.type, "cannot iterate over \(article(sequence.typeDescription))", at: span)
        }
    }

    /// How many items `for` gives from a value, or nil when it cannot be iterated.
    static func count(of value: Value) -> Int? {
        switch value {
        case .list(let l): return l.items.count
        case .string(let s): return CharacterPositions.count(of: s.text)
        case .record(let r): return r.count
        case .range(let r): return r.count
        case .tensor(let t): return t.rank > 0 ? t.shape[0] : nil
        default: return nil
        }
    }

    /// The first `count` items `for` gives from a value.
    static func items(_ value: Value, count: Int, at span: SourceSpan) throws -> [Value] {
        var items: [Value] = []
        items.reserveCapacity(count)
        guard count > 0 else { return items }
        try Iteration.forEach(value, at: span) { item in
            items.append(item)
            if items.count & 0xFFFF == 0 { try Interrupt.check() }
            return items.count < count
        }
        return items
    }
}
