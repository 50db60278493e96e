import Lang
import Tensor

/// The string builtins' work (words, split, replace) and enumerate's and zip's pairs.
enum Strings {
    /// The words of s (split at runs of white space, a property of Unicode scalars:
    /// " \u{301}" is one Character), as a list of strings.
    static func words(_ s: String) throws -> Value {
        // Count first: 512 MiB of "a a a ..." would make a list of 8 GiB. At most one
        // word per run of ASCII non-space bytes, and one per other character.
        var count = 0, inWord = false, seen = 0
        for byte in s.utf8 {
            // Ctrl-C: a check every chunk of bytes (and of characters below).
            seen &+= 1
            if seen & (Interrupt.chunk - 1) == 0 { try Interrupt.check() }
            if byte < 0x80 {
                let space = byte == 32 || (9...13).contains(byte)
                if !space && !inWord { count += 1 }
                inWord = !space
            } else if byte >= 0xC0 {
                count += 1
            }
        }
        try Memory.checkRoom(for: count * (MemoryLayout<Substring>.stride + MemoryLayout<Value>.stride + StringValue.objectBytes) + s.utf8.count,
                             "the list of words")
        var list: [Value] = []
        var word = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            seen &+= 1
            if seen & (Interrupt.chunk - 1) == 0 { try Interrupt.check() }
            if scalar.properties.isWhitespace {
                if !word.isEmpty { list.append(.string(String(word))) }
                word = String.UnicodeScalarView()
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { list.append(.string(String(word))) }
        return .list(ListValue(list))
    }

    /// Where `part` starts in `whole` at or after `from` (compared by Unicode scalars, as
    /// `==` compares strings), or nil.
    static func find(_ part: [Unicode.Scalar], in whole: [Unicode.Scalar], from: Int = 0) throws -> Int? {
        guard part.count <= whole.count - from else { return nil }
        guard let first = part.first else { return from }
        var start = from
        while start <= whole.count - part.count {
            if whole[start] == first, whole[start..<(start + part.count)].elementsEqual(part) { return start }
            start += 1
            // Ctrl-C: a check every chunk of scalars.
            if start & (Interrupt.chunk - 1) == 0 { try Interrupt.check() }
        }
        return nil
    }

    /// The pieces of s between the separators, empty ones included (Python's s.split(sep)).
    static func split(_ s: String, by separator: String, at span: SourceSpan) throws -> Value {
        guard !separator.isEmpty else { throw TxError(.value, "split: the separator is empty", at: span) }
        let whole = Array(s.unicodeScalars), part = Array(separator.unicodeScalars)
        var pieces: [Value] = []
        var start = 0
        while let found = try find(part, in: whole, from: start) {
            pieces.append(.string(string(whole[start..<found])))
            start = found + part.count
            if pieces.count & 0xFFF == 0 {
                try Interrupt.check()
                try Memory.checkRoom(for: 2 * pieces.count * (MemoryLayout<Value>.stride + StringValue.objectBytes), "the list of pieces")
            }
        }
        pieces.append(.string(string(whole[start...])))
        return .list(ListValue(pieces))
    }

    /// s with every `old` replaced by `new`, left to right (Python's s.replace(old, new)).
    static func replace(_ s: String, _ old: String, _ new: String, at span: SourceSpan) throws -> String {
        guard !old.isEmpty else { throw TxError(.value, "replace: the text to replace is empty", at: span) }
        let whole = Array(s.unicodeScalars), part = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var start = 0, replaced = 0
        while let found = try find(part, in: whole, from: start) {
            out.append(contentsOf: whole[start..<found])
            out.append(contentsOf: new.unicodeScalars)
            start = found + part.count
            replaced += 1
            if replaced & 0xFFF == 0 {
                try Interrupt.check()
                try Memory.checkRoom(for: 2 * out.count * 4, "building a string")
            }
        }
        out.append(contentsOf: whole[start...])
        return String(out)
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// A list of `count` lists of `width` items: the pairs (or triples...) of
    /// enumerate and zip. Each is a list, not a tensor literal, whatever it holds.
    static func tuples(count: Int, width: Int, _ item: (Int, Int) -> Value) throws -> Value {
        try Memory.checkRoom(for: count * (width * MemoryLayout<Value>.stride + 64), "the list of pairs")
        var list: [Value] = []
        list.reserveCapacity(count)
        for i in 0..<count {
            if i & 0xFFFF == 0xFFFF { try Interrupt.check() }
            list.append(.list(ListValue((0..<width).map { item(i, $0) })))
        }
        return .list(ListValue(list))
    }
}
