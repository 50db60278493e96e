extension Seeded {
    /// `file` with a few bytes flipped, inserted or deleted, digits rewritten or
    /// inserted, JSON and Python-literal punctuation put in, or its end cut off: the
    /// damage a loader must survive.
    public mutating func mutated(_ file: [UInt8]) -> [UInt8] {
        var bytes = file
        for _ in 0..<(1 + below(4)) {
            guard !bytes.isEmpty else { break }
            let i = below(bytes.count)
            switch below(6) {
            case 0: bytes[i] ^= UInt8(1 << below(8))
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: i)
            case 2: bytes.remove(at: i)
            case 3: bytes = Array(bytes.prefix(i))
            case 4: if (48...57).contains(bytes[i]) { bytes[i] = UInt8(48 + below(10)) } else { bytes.insert(UInt8(48 + below(10)), at: i) }
            default: bytes[i] = pick(Array("\"{}[],:'()".utf8))
            }
        }
        return bytes
    }
}
