import Glibc
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
    /// Made with `.string(text)`; `StringValue` counts the text while it lives.
    case string(StringValue)
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

    /// A string value (counted in `Memory` while any value holds it).
    public static func string(_ text: String) -> Value { .string(StringValue(text)) }

    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Whether freeing this value may free other values (see `Release`).
    var holdsValues: Bool {
        switch self {
        case .list, .record, .function: return true
        default: return false
        }
    }
}

/// Frees values without recursion. A list, record or closure releases what it holds
/// when it is freed; left to nested deinits, a chain built in a loop (`node = {val: i,
/// next: node}` 50,000 times, or a closure wrapping the previous one) would be freed one
/// stack frame per link and overflow the stack. Instead a dying container moves its
/// values out with `later`: the outermost call on a thread frees them one at a time, and
/// containers freed meanwhile move theirs onto its queue rather than recursing.
enum Release {
    /// The queue of the loop running on this thread, if any.
    private static let queue: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Takes `values` (leaving it empty) and frees them, and all that only they hold.
    static func later(_ values: inout [Value]) {
        guard values.contains(where: \.holdsValues) else { return }
        if let active = pthread_getspecific(queue) {
            active.assumingMemoryBound(to: [Value].self).pointee.append(contentsOf: values)
            values = []
            return
        }
        var pending: [Value] = []
        swap(&pending, &values)
        withUnsafeMutablePointer(to: &pending) { pending in
            pthread_setspecific(queue, pending)
            defer { pthread_setspecific(queue, nil) }
            // Each value is dropped at the end of its turn; a container it held the last
            // reference to moves its own values onto `pending` from its deinit.
            while let value = pending.pointee.popLast() { _ = value }
        }
    }
}

/// The text of a string value. Like a list's storage, its bytes count against the
/// memory limit while it lives (the text and its object), so that many large strings
/// held at once give a memory error; building one is checked with `Memory.checkRoom`.
public final class StringValue {
    public let text: String
    private let counted: Int
    static let objectBytes = 48

    init(_ text: String) {
        self.text = text
        counted = StringValue.objectBytes + text.utf8.count
        Memory.adjust(by: counted)
    }

    deinit {
        Memory.adjust(by: -counted)
    }
}

/// A mutable, shared list.
public final class ListValue {
    public var items: [Value] { didSet { recount() } }
    /// The bytes of `items`' buffer counted in `Memory`.
    private var counted = 0

    public init(_ items: [Value]) {
        self.items = items
        recount()
    }

    deinit {
        Release.later(&items)
        Memory.adjust(by: -counted)
    }

    private func recount() {
        let bytes = items.capacity * MemoryLayout<Value>.stride
        if bytes != counted {
            Memory.adjust(by: bytes - counted)
            counted = bytes
        }
    }
}

/// A mutable, shared record: names to values, in insertion order.
public final class RecordValue {
    public private(set) var keys: [String] = []
    private var storage: [ScalarKey: Value] = [:]

    /// Changes whenever a key is added or removed (for caches of facts about the keys).
    public private(set) var version = 0
    /// What a builtin made this record for (load_model's model), if anything: how it is
    /// shown and which values its fields accept.
    var role: RecordRole?

    /// Bytes counted in `Memory`: an estimate of the object and its tables, and of each
    /// entry (its slots in both tables, and its key's text).
    private var counted = 0
    static let objectBytes = 128, entryBytes = 96

    public init() {
        count(RecordValue.objectBytes)
    }

    public init(_ entries: [(String, Value)]) {
        count(RecordValue.objectBytes)
        for (key, value) in entries { self[key] = value }
    }

    private func count(_ bytes: Int) {
        Memory.adjust(by: bytes)
        counted += bytes
    }

    deinit {
        Memory.adjust(by: -counted)
        guard storage.values.contains(where: \.holdsValues) else { return }
        var values = Array(storage.values)
        storage = [:]
        Release.later(&values)
    }

    public subscript(key: String) -> Value? {
        get { storage[ScalarKey(key)] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: ScalarKey(key)) == nil {
                    keys.append(key)
                    version &+= 1
                    count(RecordValue.entryBytes + key.utf8.count)
                }
            } else if storage.removeValue(forKey: ScalarKey(key)) != nil {
                keys.removeAll { ScalarKey.same($0, key) }
                version &+= 1
                count(-(RecordValue.entryBytes + key.utf8.count))
            }
        }
    }

    public var entries: [(key: String, value: Value)] {
        keys.compactMap { key in storage[ScalarKey(key)].map { (key, $0) } }
    }

    public var count: Int { keys.count }
}

/// A record's key, compared and hashed by its Unicode scalars (its UTF-8 bytes) as
/// Python's dict and Rust's HashMap do, not by canonical equivalence as Swift's String
/// is: "é" (U+00E9) and "e\u{301}" are two keys, as they are two tokens of a vocabulary.
struct ScalarKey: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: ScalarKey, b: ScalarKey) -> Bool { same(a.text, b.text) }

    func hash(into hasher: inout Hasher) {
        var t = text
        t.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Whether two strings have the same Unicode scalars.
    static func same(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
    }

    /// Whether a comes before b in the order of their Unicode scalars (Python's order).
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

/// What a record a builtin made for a purpose adds to it: `load_model`'s model prints as
/// a summary (PyTorch prints a module so) rather than its 60,000 vocabulary entries, and
/// refuses a field value that would fail later. Its fields stay as they are, reachable.
struct RecordRole: Sendable {
    /// The record's printed form: several lines, or one (inside a list or record).
    let summary: @Sendable (_ record: RecordValue, _ oneLine: Bool) -> String
    /// Why `value` may not be stored in the field `key`, or nil when it may.
    let refusal: @Sendable (_ record: RecordValue, _ key: String, _ value: Value) -> String?
}

/// `range(a, b, step)`: the numbers a, a+step, ... before b. (A class, so that a value
/// holding it is one reference.)
public final class RangeValue {
    public let start: Double
    public let stop: Double
    public let step: Double

    /// How many numbers: at most 2^53 (the `range` builtin refuses more).
    public let count: Int

    /// The status line a `for` loop over it keeps on the terminal (`progress(range(n))`).
    let progress: ProgressLine?

    public init(start: Double, stop: Double, step: Double) {
        self.start = start
        self.stop = stop
        self.step = step
        let n = RangeValue.length(start: start, stop: stop, step: step)
        count = n.isFinite && n > 0 ? Int(min(n, 0x1p53)) : 0
        progress = nil
    }

    /// The `count` numbers start, start+step, ...: what a slice of a range is (as in
    /// Python, `range(0, 10, 3)[:]` is `range(0, 12, 3)`).
    init(start: Double, step: Double, count: Int, progress: ProgressLine? = nil) {
        self.start = start
        self.stop = start + Double(count) * step
        self.step = step
        self.count = count
        self.progress = progress
    }

    /// ceil((stop - start) / step): the number of values, before any limit.
    public static func length(start: Double, stop: Double, step: Double) -> Double {
        ((stop - start) / step).rounded(.up)
    }

    public subscript(position: Int) -> Double { start + Double(position) * step }
}
