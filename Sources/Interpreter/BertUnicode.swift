/// The Unicode facts of BERT's tokenizer (`unicodeTables`, which
/// scripts/make-unicode-tables generates from the Rust implementation), read once into
/// a class set for every code point and three mappings.
final class BertUnicode: Sendable {
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt16
        /// Removed by clean_text.
        static let drop = Flags(rawValue: 1 << 0)
        /// Made a space by clean_text.
        static let space = Flags(rawValue: 1 << 1)
        /// A CJK ideograph: a word of its own.
        static let cjk = Flags(rawValue: 1 << 2)
        /// A nonspacing mark, dropped once accents are stripped.
        static let mark = Flags(rawValue: 1 << 3)
        /// Punctuation: a word of its own.
        static let punctuation = Flags(rawValue: 1 << 4)
        /// White space: splits words.
        static let split = Flags(rawValue: 1 << 5)
        /// Has a nonzero canonical combining class.
        static let combining = Flags(rawValue: 1 << 6)
        /// Has a canonical decomposition in `nfd`.
        static let decomposes = Flags(rawValue: 1 << 7)
        /// Has a lower-case mapping in `lowercase`.
        static let lowers = Flags(rawValue: 1 << 8)
    }

    static let shared = BertUnicode(unicodeTables)

    /// Two levels: `blockOf[v >> 8]` is the start of v's block of 256 flags in `blocks`
    /// (blocks that are equal are stored once).
    private let blockOf: [Int32]
    private let blocks: [Flags]
    let combiningClass: [UInt32: UInt8]
    let nfd: [UInt32: [Unicode.Scalar]]
    let lowercase: [UInt32: [Unicode.Scalar]]

    init(_ text: String) {
        var flags = [Flags](repeating: [], count: 0x110000)
        var combiningClass: [UInt32: UInt8] = [:]
        var nfd: [UInt32: [Unicode.Scalar]] = [:]
        var lowercase: [UInt32: [Unicode.Scalar]] = [:]
        let sections: [Substring: Flags] = ["drop": .drop, "space": .space, "cjk": .cjk, "mark": .mark,
                                            "punct": .punctuation, "split": .split]
        var section: Substring = ""
        func scalars(_ s: Substring) -> [Unicode.Scalar] {
            s.split(separator: ",").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        }
        func range(_ s: Substring) -> ClosedRange<Int>? {
            let ends = s.split(separator: "-").compactMap { Int($0, radix: 16) }
            guard let first = ends.first, let last = ends.last, first <= last, last < 0x110000 else { return nil }
            return first...last
        }
        for line in text.split(separator: "\n") {
            var items = line.split(separator: " ")[...]
            if !line.hasPrefix(" "), let name = items.popFirst() { section = name }
            for item in items {
                if let flag = sections[section] {
                    if let r = range(item) { for v in r { flags[v].insert(flag) } }
                    continue
                }
                let parts = item.split(separator: ":")
                guard parts.count == 2 else { continue }
                switch section {
                case "ccc":
                    guard let r = range(parts[0]), let k = UInt8(parts[1]) else { continue }
                    for v in r {
                        flags[v].insert(.combining)
                        combiningClass[UInt32(v)] = k
                    }
                case "nfd", "lower":
                    guard let v = Int(parts[0], radix: 16), v < 0x110000 else { continue }
                    if section == "nfd" {
                        flags[v].insert(.decomposes)
                        nfd[UInt32(v)] = scalars(parts[1])
                    } else {
                        flags[v].insert(.lowers)
                        lowercase[UInt32(v)] = scalars(parts[1])
                    }
                default: continue
                }
            }
        }
        var blockOf: [Int32] = []
        var blocks: [Flags] = []
        var seen: [[UInt16]: Int32] = [:]
        for b in 0..<(0x110000 >> 8) {
            let block = flags[(b << 8)..<((b + 1) << 8)]
            let key = block.map(\.rawValue)
            if let start = seen[key] {
                blockOf.append(start)
            } else {
                let start = Int32(blocks.count)
                seen[key] = start
                blocks += block
                blockOf.append(start)
            }
        }
        self.blockOf = blockOf
        self.blocks = blocks
        self.combiningClass = combiningClass
        self.nfd = nfd
        self.lowercase = lowercase
    }

    @inline(__always)
    func flags(_ c: Unicode.Scalar) -> Flags {
        let v = Int(c.value)
        return blocks[Int(blockOf[v >> 8]) + (v & 0xFF)]
    }
}
