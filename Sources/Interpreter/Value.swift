import Lang
import Tensor

/// A tx value (docs/LANGUAGE.md §3).
///
/// Lists and records are shared references, as in Python: `p.layers[0].attn.Wq = w`
/// updates the record every alias sees. Tensors share their storage too; `x[i, :] = v`
/// writes in place (NumPy semantics), every other operation makes a new tensor.
public enum Value {
    case number(Double)
    case tensor(Tensor)
    case string(String)
    case bool(Bool)
    case none
    case list(ListValue)
    case record(RecordValue)
    case function(FunctionValue)
    case builtin(Builtin)
    /// What `range(...)` returns: iterable and indexable without building a list.
    case range(RangeValue)

    /// The name of the kind, as error messages say it.
    public var typeName: String {
        switch self {
        case .number: return "number"
        case .tensor: return "tensor"
        case .string: return "string"
        case .bool: return "bool"
        case .none: return "none"
        case .list: return "list"
        case .record: return "record"
        case .function, .builtin: return "function"
        case .range: return "range"
        }
    }

    /// The kind with its shape where it helps: "tensor [4, 8]".
    public var typeDescription: String {
        if case .tensor(let t) = self { return "tensor \(describe(shape: t.shape))" }
        return typeName
    }

    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}

/// A mutable, shared list.
public final class ListValue {
    public var items: [Value]
    public init(_ items: [Value]) { self.items = items }
}

/// A mutable, shared record: names to values, in insertion order.
public final class RecordValue {
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init() {}
    public init(_ entries: [(String, Value)]) {
        for (key, value) in entries { self[key] = value }
    }

    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var entries: [(key: String, value: Value)] {
        keys.compactMap { key in storage[key].map { (key, $0) } }
    }

    public var count: Int { keys.count }
}

/// `range(a, b, step)`: the numbers a, a+step, ... before b. (A class, so that a value
/// holding it is one reference.)
public final class RangeValue {
    public let start: Double
    public let stop: Double
    public let step: Double

    /// How many numbers: at most 2^53 (the `range` builtin refuses more).
    public let count: Int

    public init(start: Double, stop: Double, step: Double) {
        self.start = start
        self.stop = stop
        self.step = step
        let n = RangeValue.length(start: start, stop: stop, step: step)
        count = n.isFinite && n > 0 ? Int(min(n, 0x1p53)) : 0
    }

    /// ceil((stop - start) / step): the number of values, before any limit.
    public static func length(start: Double, stop: Double, step: Double) -> Double {
        ((stop - start) / step).rounded(.up)
    }

    public subscript(position: Int) -> Double { start + Double(position) * step }
}
