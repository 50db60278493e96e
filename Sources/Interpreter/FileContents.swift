import Lang
import Tensor

/// Files' contents as tx values: text (read_text) and JSON (read_json, config files).
enum FileContents {
    /// The bytes of a JSON document's tree and of the tx values `value(of:)` makes of it,
    /// as they count against the memory limit.
    static func valueBytes(_ tally: JSON.Tally) -> Int {
        JSON.treeBytes(tally) + tally.objects * RecordValue.objectBytes + tally.members * RecordValue.entryBytes
            + (tally.arrays + tally.items) * MemoryLayout<Value>.stride + tally.strings * StringValue.objectBytes + tally.stringBytes
    }

    /// The text of a file's bytes, UTF-8 (a malformed sequence becomes U+FFFD), once it
    /// is clear that it fits beside them in what the memory limit leaves.
    static func text(of bytes: [UInt8], from path: String) throws -> String {
        try Memory.checkRoom(for: bytes.count + StringValue.objectBytes, "the text of \(path)")
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Each malformed byte may become the three of U+FFFD.
        try Memory.checkRoom(for: 3 * bytes.count + StringValue.objectBytes, "the text of \(path)")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A JSON value as a tx value.
    static func value(of json: JSON) -> Value {
        switch json {
        case .object(let members):
            let record = RecordValue()
            for (key, item) in members { record[key] = value(of: item) }
            return .record(record)
        case .array(let items): return .list(ListValue(items.map(value(of:))))
        case .string(let s): return .string(s)
        case .number(let x): return .number(x)
        case .bool(let b): return .bool(b)
        case .null: return .none
        }
    }
}
