import Lang
import Tensor

/// One item between the brackets of `x[...]`, evaluated.
enum IndexArgument {
    case single(Value, SourceSpan)
    case slice(start: Value, stop: Value, step: Value, SourceSpan)
    /// `...`: as many whole axes as the other items leave of a tensor.
    case ellipsis(SourceSpan)

    var span: SourceSpan {
        switch self {
        case .single(_, let span), .slice(_, _, _, let span), .ellipsis(let span): return span
        }
    }
}

/// The one index of a list, string, record or range (which have no `...`).
private enum OneIndex {
    case single(Value, SourceSpan)
    case slice(Value, Value, Value, SourceSpan)

    var span: SourceSpan {
        switch self {
        case .single(_, let span), .slice(_, _, _, let span): return span
        }
    }
}

/// `x[...]` and `x[...] = v` on every kind of value that can be indexed.
enum Subscripts {
    static func get(_ target: Value, _ items: [IndexArgument], at span: SourceSpan) throws -> Value {
        switch target {
        case .tensor(let t):
            let indices = try tensorIndices(items, rank: t.rank)
            do {
                return .tensor(Convert.keepingMask(try t.subscripted(indices), of: [t]))
            } catch let error as TensorError {
                throw TxError(error, at: place(of: error, in: items) ?? span)
            }
        case .list(let list):
            let item = try single(items, of: "a list", at: span)
            switch item {
            case .single(let v, let s):
                return list.items[try position(v, count: list.items.count, at: s)]
            case .slice(let a, let b, let c, let s):
                let picked = try slicePositions(a, b, c, count: list.items.count, at: s)
                return .list(ListValue(picked.map { list.items[$0] }))
            }
        case .string(let string):
            let text = string.text
            let item = try single(items, of: "a string", at: span)
            let count = CharacterPositions.count(of: text)
            switch item {
            case .single(let v, let s):
                return .string(String(text[CharacterPositions.index(try position(v, count: count, at: s), in: text)]))
            case .slice(let a, let b, let c, let s):
                let (first, n, step) = try sliceBounds(a, b, c, count: count, at: s)
                guard n > 0 else { return .string("") }
                var i = CharacterPositions.index(first, in: text)
                if step == 1 { return .string(String(text[i..<CharacterPositions.index(first + n, in: text)])) }
                var picked = String(text[i])
                for _ in 1..<n {
                    i = text.index(i, offsetBy: step)
                    picked.append(text[i])
                }
                return .string(picked)
            }
        case .record(let record):
            let item = try single(items, of: "a record", at: span)
            guard case .single(let v, let s) = item, case .string(let key) = v else {
                throw TxError(.type, "a record is indexed by a string, as in r[\"name\"]", at: item.span)
            }
            return try lookup(record, path: key.text, at: s)
        case .range(let r):
            let item = try single(items, of: "a range", at: span)
            switch item {
            case .single(let v, let s):
                return .number(r[try position(v, count: r.count, at: s)])
            case .slice(let a, let b, let c, let s):
                // A range's slice is a range: range(1e12)[:] holds three numbers, not 10^12.
                let (first, n, step) = try sliceBounds(a, b, c, count: r.count, at: s)
                return .range(RangeValue(start: r[first], step: r.step * Double(step), count: n))
            }
        default:
            throw TxError(.type, "cannot index \(article(target.typeDescription))", at: span)
        }
    }

    static func set(_ target: Value, _ items: [IndexArgument], _ value: Value, at span: SourceSpan) throws {
        switch target {
        case .tensor(let t):
            let indices = try tensorIndices(items, rank: t.rank)
            do {
                switch value {
                case .number(let x): try t.assign(indices, scalar: Float(x))
                default:
                    guard let v = try Convert.tensor(value, at: span) else {
                        throw TxError(.type, "cannot store \(article(value.typeDescription)) in a tensor", at: span)
                    }
                    try t.assign(indices, v)
                }
            } catch let error as TensorError {
                throw TxError(error, at: place(of: error, in: items) ?? span)
            }
        case .list(let list):
            let item = try single(items, of: "a list", at: span)
            guard case .single(let v, let s) = item else {
                throw TxError(.type, "assigning to a slice of a list is not supported", at: item.span)
            }
            list.items[try position(v, count: list.items.count, at: s)] = value
        case .record(let record):
            let item = try single(items, of: "a record", at: span)
            guard case .single(let v, let s) = item, case .string(let key) = v else {
                throw TxError(.type, "a record is indexed by a string, as in r[\"name\"]", at: item.span)
            }
            try store(value, in: record, path: key.text, at: s)
        default:
            throw TxError(.type, "cannot assign into \(article(target.typeDescription))", at: span)
        }
    }

    /// `r["layers.0.attn.Wq"]`: the key itself, or else a dotted path through nested
    /// records and lists.
    static func lookup(_ record: RecordValue, path: String, at span: SourceSpan) throws -> Value {
        if let value = record[path] { return value }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var current = Value.record(record)
        for (i, part) in parts.enumerated() {
            switch current {
            case .record(let r):
                if let next = r[part] { current = next; continue }
                var message = "record has no field '\(part)'"
                if i > 0 { message += " (in '\(parts[0..<i].joined(separator: "."))')" }
                if let near = nearestName(to: part, among: r.keys) { message += "; did you mean '\(near)'?" }
                throw TxError(.name, message, at: span)
            case .list(let l):
                guard let n = Int(part), n >= 0, n < l.items.count else {
                    throw TxError(.index, "'\(part)' in '\(path)' is not an index of a list of \(l.items.count)", at: span)
                }
                current = l.items[n]
            default:
                throw TxError(.type, "'\(parts[0..<i].joined(separator: "."))' is \(article(current.typeDescription)), not a record", at: span)
            }
        }
        return current
    }

    /// `r["layers.0.attn.Wq"] = v`: the key itself when the record has it, else the
    /// dotted path, as `lookup` reads it; missing records on the way are created, so
    /// that what `save` writes as "a.b" is what `r.a.b` reads.
    static func store(_ value: Value, in record: RecordValue, path: String, at span: SourceSpan) throws {
        if record[path] != nil || !path.contains(".") {
            if let refusal = record.role?.refusal(record, path, value) { throw TxError(.value, refusal, at: span) }
            record[path] = value
            return
        }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        // What `load` would make for the part after `i`: a list for a number, else a record.
        func container(after i: Int) -> Value {
            i + 1 < parts.count && UInt(parts[i + 1]) != nil ? .list(ListValue([])) : .record(RecordValue())
        }
        var current = Value.record(record)
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            switch current {
            case .record(let r):
                if last {
                    r[part] = value
                } else if let next = r[part] {
                    current = next
                } else {
                    current = container(after: i)
                    r[part] = current
                }
            case .list(let l):
                // An index one past the end appends, as building a list up from 0 does.
                guard let n = Int(part), n >= 0, n <= l.items.count else {
                    throw TxError(.index, "'\(part)' in '\(path)' is not an index of a list of \(l.items.count)", at: span)
                }
                if n == l.items.count { l.items.append(last ? value : container(after: i)) }
                if last { l.items[n] = value } else { current = l.items[n] }
            default:
                throw TxError(.type, "'\(parts[0..<i].joined(separator: "."))' is \(article(current.typeDescription)), not a record", at: span)
            }
        }
    }

    /// The index that a tensor error blames (`5` in `x[0, 5]`, `[0, 5]` in `E[[0, 5]]`
    /// when 5 is out of range), if one of the items gave it.
    private static func place(of error: TensorError, in items: [IndexArgument]) -> SourceSpan? {
        guard let culprit = error.culprit?.value.map(Float.init) else { return nil }
        for case .single(let value, let span) in items {
            if case .tensor(let t) = value, t.values.contains(culprit) { return span }
            if Convert.number(value).map(Float.init) == culprit { return span }
        }
        return nil
    }

    private static func single(_ items: [IndexArgument], of kind: String, at span: SourceSpan) throws -> OneIndex {
        guard items.count == 1, let item = items.first else {
            throw TxError(.index, "\(kind) takes one index, got \(items.count)", at: span)
        }
        switch item {
        case .single(let v, let s): return .single(v, s)
        case .slice(let a, let b, let c, let s): return .slice(a, b, c, s)
        case .ellipsis(let s):
            throw TxError(.index, "'...' stands for the remaining axes of a tensor, not of \(kind)", at: s)
        }
    }

    /// A position in a sequence of `count`, negative counting from the end.
    static func position(_ value: Value, count: Int, at span: SourceSpan) throws -> Int {
        if case .tensor(let t) = value, t.isMask {
            throw TxError(.type, "a mask indexes tensors; lists, strings and ranges take integer indices", at: span)
        }
        let i = try Convert.integer(value, what: "an index", at: span)
        let resolved = i < 0 ? i + count : i
        guard resolved >= 0, resolved < count else {
            throw TxError(.index, "index \(i) is out of range for length \(count)", at: span)
        }
        return resolved
    }

    /// The positions a Python-style slice picks from `count` items.
    static func slicePositions(_ start: Value, _ stop: Value, _ step: Value, count: Int, at span: SourceSpan) throws -> [Int] {
        let (first, n, s) = try sliceBounds(start, stop, step, count: count, at: span)
        return (0..<n).map { first + $0 * s }
    }

    /// The first position, the number of positions and the step of a Python-style slice
    /// of `count` items.
    static func sliceBounds(_ start: Value, _ stop: Value, _ step: Value, count: Int,
                            at span: SourceSpan) throws -> (first: Int, count: Int, step: Int) {
        func bound(_ v: Value, _ what: String) throws -> Int? {
            v.isNone ? nil : try Convert.sliceBound(v, what: what, at: span)
        }
        let s = try bound(step, "a slice step") ?? 1
        do {
            let (first, n) = try sliceExtent(start: try bound(start, "a slice bound"), stop: try bound(stop, "a slice bound"),
                                             step: s, size: count)
            return (first, n, s)
        } catch let error as TensorError {
            throw TxError(error, at: span)
        }
    }

    /// The items as the tensor's indices, `...` written out as the full slices it stands
    /// for (so `x[..., 0]` is `x[:, :, 0]` of a rank-3 x, with its view and gradient).
    static func tensorIndices(_ items: [IndexArgument], rank: Int) throws -> [TensorIndex] {
        guard let at = items.firstIndex(where: { if case .ellipsis = $0 { return true } else { return false } }) else {
            return try indices(items[...])
        }
        let before = try indices(items[..<at]), after = try indices(items[(at + 1)...])
        // A new axis takes none of x's axes, a mask as many as its rank, the rest one each;
        // with more than x has, the tensor's own "too many indices" error follows.
        let taken = (before + after).reduce(0) { n, index in
            switch index {
            case .newAxis: return n
            case .mask(let m): return n + m.rank
            default: return n + 1
            }
        }
        let whole = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: nil), count: max(0, rank - taken))
        return before + whole + after
    }

    private static func indices(_ items: ArraySlice<IndexArgument>) throws -> [TensorIndex] {
        try items.map { item in
            switch item {
            case .ellipsis(let s):
                throw TxError(.index, "a subscript takes one '...'", at: s)
            case .single(let v, let s):
                switch v {
                case .none: return .newAxis
                case .number: return .single(try Convert.integer(v, what: "an index", at: s))
                case .tensor(let t) where t.isMask: return .mask(t)
                // As in NumPy, x[true] is x[none] and x[false] selects nothing.
                case .bool(let b): return .mask(try Tensor(scalar: b ? 1 : 0).markedAsMask())
                case .tensor(let t) where t.rank == 0: return .single(try Convert.integer(v, what: "an index", at: s))
                case .tensor(let t): return .gather(t)
                default:
                    if let t = try Convert.tensor(v, at: s) { return .gather(t) }
                    throw TxError(.type, "a tensor index must be a number, a slice or an integral tensor, got \(article(v.typeDescription))", at: s)
                }
            case .slice(let a, let b, let c, let s):
                func part(_ v: Value, _ what: String) throws -> Int? {
                    v.isNone ? nil : try Convert.sliceBound(v, what: what, at: s)
                }
                return .slice(start: try part(a, "a slice bound"), stop: try part(b, "a slice bound"), step: try part(c, "a slice step"))
            }
        }
    }
}
