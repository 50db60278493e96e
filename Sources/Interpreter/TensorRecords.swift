import Lang
import Tensor

/// Records of tensors as .safetensors files hold them: dotted names (`layers.0.attn.Wq`)
/// to nested records and lists (`load`, model folders) and back (`save`).
enum TensorRecords {
    /// Builds nested records (and lists, for numeric parts) from dotted tensor names. The
    /// root stays a record whatever its names, so that `save` takes it back.
    static func nest(_ entries: [(name: String, value: Value)], from path: String, at span: SourceSpan) throws -> Value {
        let root = RecordValue()
        for (name, value) in entries {
            // As deep as save writes: a name of millions of parts would build (and free)
            // a chain of millions of records.
            let depth = name.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count + 1
            guard depth <= Display.maxDepth else {
                let shown = name.count > 60 ? name.prefix(60) + "…" : Substring(name)
                throw TxError(.io, "the name '\(shown)' has \(depth) dotted parts; records nest at most \(Display.maxDepth) deep", at: span)
            }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            var record = root
            for (i, part) in parts.enumerated() {
                if i == parts.count - 1 {
                    guard record[part] == nil else {
                        throw TxError(.io, "\(path): the name '\(name)' is both a tensor and a group of tensors", at: span)
                    }
                    record[part] = value
                } else {
                    switch record[part] {
                    case nil:
                        let child = RecordValue()
                        record[part] = .record(child)
                        record = child
                    case .record(let child)?:
                        record = child
                    default:
                        throw TxError(.io, "\(path): the name '\(name)' is both a tensor and a group of tensors", at: span)
                    }
                }
            }
        }
        for key in root.keys { root[key] = listsFromNumericKeys(root[key] ?? .none) }
        return .record(root)
    }

    /// A record whose keys are exactly 0, 1, ..., n-1 becomes a list, recursively.
    private static func listsFromNumericKeys(_ value: Value) -> Value {
        guard case .record(let record) = value else { return value }
        for key in record.keys { record[key] = listsFromNumericKeys(record[key] ?? .none) }
        let numeric = record.keys.compactMap { Int($0) }
        if !record.keys.isEmpty, numeric.count == record.count, Set(numeric) == Set(0..<record.count),
           record.keys.allSatisfy({ String(Int($0) ?? -1) == $0 }) {
            return .list(ListValue((0..<record.count).map { record[String($0)] ?? .none }))
        }
        return value
    }

    /// Names that `load` could not read back: the same name twice (`{"a.b": x, a: {b: y}}`),
    /// a name that is also a group (`a` and `a.b`), or the format's own `__metadata__`.
    static func checkNames(_ names: [String], at span: SourceSpan) throws {
        var seen = Set<String>()
        for name in names {
            if name.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw TxError(.value, "save: the name '\(name)' has an empty part; names are joined with dots", at: span)
            }
            if name == "__metadata__" {
                throw TxError(.value, "save: the name '__metadata__' is reserved by the .safetensors format", at: span)
            }
            guard seen.insert(name).inserted else {
                throw TxError(.value, "save: two tensors would both be named '\(name)'", at: span)
            }
        }
        for name in names {
            var prefix = Substring(name)
            while let dot = prefix.lastIndex(of: ".") {
                prefix = prefix[..<dot]
                if seen.contains(String(prefix)) {
                    throw TxError(.value, "save: '\(prefix)' would be both a tensor and a group of tensors ('\(name)')", at: span)
                }
            }
        }
    }

    /// The most tensors `save` writes to one .safetensors file.
    static let maxSavedTensors = 1_000_000

    /// How many tensors `flatten` would name, counted without naming them: a sub-record
    /// reached by several paths counts once per path (a record reusing its sub-records
    /// over 30 levels names 2^30 tensors), but is visited once, so `save` refuses such a
    /// record at once. Counts stop past `maxSavedTensors`; cycles and nesting past the
    /// depth limit count 0, for `flatten` to report.
    static func tensorCount(_ value: Value, depth: Int = 0, counted: inout [ObjectIdentifier: Int]) -> Int {
        guard depth <= Display.maxDepth else { return 0 }
        let items: [Value], container: ObjectIdentifier
        switch value {
        case .record(let record): (items, container) = (record.entries.map(\.value), ObjectIdentifier(record))
        case .list(let list): (items, container) = (list.items, ObjectIdentifier(list))
        case .none: return 0
        default: return 1
        }
        if let n = counted[container] { return n }
        counted[container] = 0
        var n = 0
        for item in items { n = min(n + tensorCount(item, depth: depth + 1, counted: &counted), maxSavedTensors + 1) }
        counted[container] = n
        return n
    }

    /// A string or number kept in a file's metadata ("s:text", "n:0.001"), as saved; other
    /// metadata is not tx's and is left out.
    static func savedValue(_ entry: (name: String, text: String)) -> (String, Value)? {
        if entry.text.hasPrefix("s:") { return (entry.name, .string(String(entry.text.dropFirst(2)))) }
        if entry.text.hasPrefix("n:"), let x = Double(entry.text.dropFirst(2)) { return (entry.name, .number(x)) }
        return nil
    }

    /// Dotted names for every tensor in nested records and lists, and for every string and
    /// number (kept exactly in the file's metadata, so that they load back as they were);
    /// none is skipped.
    static func flatten(_ value: Value, prefix: String, into entries: inout [(name: String, tensor: Tensor)],
                        texts: inout [(name: String, text: String)], at span: SourceSpan, depth: Int = 0) throws {
        func join(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }
        guard depth <= Display.maxDepth else {
            throw TxError(.value, "save: '\(prefix)' is nested more than \(Display.maxDepth) levels deep (does it contain itself?)", at: span)
        }
        switch value {
        case .record(let record):
            for (key, item) in record.entries { try flatten(item, prefix: join(key), into: &entries, texts: &texts, at: span, depth: depth + 1) }
        case .list(let list):
            for (i, item) in list.items.enumerated() {
                // A gap in a list's numbers would load back as a record.
                if case .none = item {
                    throw TxError(.value, "save: '\(join(String(i)))' is none; a list can only be saved without gaps", at: span)
                }
                try flatten(item, prefix: join(String(i)), into: &entries, texts: &texts, at: span, depth: depth + 1)
            }
        case .none:
            break
        case .string(let s) where !prefix.isEmpty:
            texts.append((prefix, "s:" + s.text))
        case .number(let x) where !prefix.isEmpty:
            texts.append((prefix, "n:" + String(x)))
        default:
            guard let tensor = try Convert.tensor(value, at: span) else {
                throw TxError(.type, "save: '\(prefix)' is \(article(value.typeDescription)); only tensors, numbers and strings can be saved", at: span)
            }
            entries.append((prefix, tensor))
        }
    }
}
