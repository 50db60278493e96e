/// A small JSON reader and writer (safetensors headers, `read_json`). Malformed input
/// is an error, never a crash; nesting is limited.
public enum JSON: Equatable {
    case object([(String, JSON)])
    case array([JSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): return x.map(\.0) == y.map(\.0) && zip(x, y).allSatisfy { $0.1 == $1.1 }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// What a document holds, counted as it is read: what the memory its values take is
    /// estimated from.
    public struct Tally {
        public var values = 0
        /// Arrays and the values in them.
        public var arrays = 0, items = 0
        /// Objects and their members (each a key and a value).
        public var objects = 0, members = 0
        /// Strings (keys included) and their bytes.
        public var strings = 0, stringBytes = 0
    }

    /// The bytes the tree of a document with `tally` takes (its arrays, objects and
    /// strings), a little more than it.
    public static func treeBytes(_ tally: Tally) -> Int {
        (tally.arrays + tally.objects) * 32 + tally.items * MemoryLayout<JSON>.stride
            + tally.members * MemoryLayout<(String, JSON)>.stride + tally.strings * 32 + tally.stringBytes
    }

    struct Reader {
        let bytes: [UInt8]
        let what: String
        var i = 0
        var depth = 0
        /// Values read so far: Ctrl-C is polled every 65,536 of them.
        var values = 0
        /// Bytes looked at (see `parse(_:what:steps:)`).
        var steps = 0
        var tally = Tally()
        /// The bytes the values read so far will take (the tree, and what a caller makes
        /// of it): checked against the memory limit every 4,096 values and at the end.
        let cost: (Tally) -> Int

        init(_ bytes: [UInt8], what: String, cost: @escaping (Tally) -> Int = JSON.treeBytes) {
            self.bytes = bytes
            self.what = what
            self.cost = cost
        }

        func checkRoom() throws {
            try Memory.checkRoom(for: cost(tally), "reading \(tally.values) values of \(what)")
        }

        /// The byte at `offset`, counted.
        mutating func at(_ offset: Int) -> UInt8 {
            steps += 1
            return bytes[offset]
        }

        func fail(_ why: String) -> TensorError {
            TensorError.io("malformed \(what): \(why) at byte \(i)")
        }

        mutating func skip() {
            while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(at(i)) { i += 1 }
        }

        mutating func document() throws -> JSON {
            let value = try self.value()
            skip()
            guard i == bytes.count else { throw fail("unexpected text after the value") }
            tally.values = values
            try checkRoom()
            return value
        }

        mutating func value() throws -> JSON {
            skip()
            guard i < bytes.count else { throw fail("unexpected end") }
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw fail("nested too deeply") }
            values += 1
            if values & 0xFFF == 0 {
                try Interrupt.check()
                tally.values = values
                try checkRoom()
            }
            switch at(i) {
            case UInt8(ascii: "{"):
                i += 1
                tally.objects += 1
                var members: [(String, JSON)] = []
                skip()
                if i < bytes.count, at(i) == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    skip()
                    let key = try string()
                    skip()
                    guard i < bytes.count, at(i) == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    members.append((key, try value()))
                    tally.members += 1
                    skip()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if at(i) == UInt8(ascii: ",") { i += 1; continue }
                    if at(i) == UInt8(ascii: "}") { i += 1; return .object(members) }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                tally.arrays += 1
                var items: [JSON] = []
                skip()
                if i < bytes.count, at(i) == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value())
                    tally.items += 1
                    skip()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if at(i) == UInt8(ascii: ",") { i += 1; continue }
                    if at(i) == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("unknown literal") }
            i += w.count
        }

        mutating func number() throws -> Double {
            let start = i
            while i < bytes.count, "+-0123456789.eE".utf8.contains(at(i)) { i += 1 }
            guard i > start, let v = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else { throw fail("expected a value") }
            return v
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func string() throws -> String {
            guard i < bytes.count, at(i) == UInt8(ascii: "\"") else { throw fail("expected a string") }
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = at(i)
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if out.count & 0xFFFFF == 0xFFFFF { try Interrupt.check() }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < bytes.count else { throw fail("unterminated string") }
                let e = at(i)
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), i + 6 <= bytes.count, at(i) == UInt8(ascii: "\\"), at(i + 1) == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("bad surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("bad \\u escape") }
                    out += Array(String(Character(scalar)).utf8)
                default: throw fail("bad escape")
                }
            }
            tally.strings += 1
            tally.stringBytes += out.count
            // A long string is checked before its copy is made.
            if out.count >= 1 << 20 { try Memory.checkRoom(for: cost(tally) + out.count, "reading a string of \(what)") }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Parses a whole document; errors name it as `what`. The tree must fit in what the
    /// memory limit leaves; with `cost`, what the caller makes of it too: `cost` gives
    /// the bytes of both for the values tallied so far, checked as they are read.
    public static func parse(_ bytes: [UInt8], what: String = "safetensors header",
                             cost: @escaping (Tally) -> Int = JSON.treeBytes) throws -> JSON {
        var steps = 0
        return try parse(bytes, what: what, steps: &steps, cost: cost)
    }

    /// Parses a whole document and adds the bytes it looked at to `steps` (tests check
    /// that this grows in proportion to the input: reading is linear).
    public static func parse(_ bytes: [UInt8], what: String, steps: inout Int,
                             cost: @escaping (Tally) -> Int = JSON.treeBytes) throws -> JSON {
        var reader = Reader(bytes, what: what, cost: cost)
        defer { steps += reader.steps }
        return try reader.document()
    }

    /// Compact JSON text.
    var text: String {
        switch self {
        case .object(let members):
            return "{" + members.map { JSON.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .string(let s): return JSON.quote(s)
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
