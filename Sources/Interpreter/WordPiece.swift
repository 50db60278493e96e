import Tensor

/// BERT's tokenizer, as Hugging Face's `BertNormalizer`, `BertPreTokenizer` and
/// `WordPiece` model do it (the fast tokenizer sentence-transformers uses):
/// special tokens are cut out of the raw text first; each other stretch is cleaned
/// (NUL, U+FFFD and control, format, private-use and unassigned characters dropped,
/// white space made a space), CJK ideographs get spaces around them, accents are
/// stripped (NFD, then the nonspacing marks removed), the text is lower-cased, and it is
/// split at white space and around every punctuation character. WordPiece then splits
/// each word greedily into the longest pieces the vocabulary has, later pieces with `##`.
enum WordPiece {
    /// The words of `text`; each of `keep` found in the text is one word, untouched.
    /// Linear in the text: each special token's next occurrence is remembered and
    /// searched for again only once the text before it has been cut off.
    static func basicTokens(_ text: String, lower: Bool, keep: [String]) throws -> [String] {
        var origins: [[Int]]?
        return try basicTokens(text, lower: lower, keep: keep, origins: &origins)
    }

    /// The words of `text`, and in `origins` (when it is not nil) the position among
    /// `text`'s Unicode scalars of each scalar of each word (where it came from).
    static func basicTokens(_ text: String, lower: Bool, keep: [String], origins: inout [[Int]]?) throws -> [String] {
        var words: [String] = []
        var position = 0
        var rest = Substring(text)
        let tokens = keep.filter { !$0.isEmpty }
        var next = tokens.map { rest.unicodeScalars.firstRange(of: $0.unicodeScalars) }
        while !rest.isEmpty {
            var best: Int?
            for i in tokens.indices {
                if let range = next[i], range.lowerBound < rest.startIndex {
                    next[i] = rest.unicodeScalars.firstRange(of: tokens[i].unicodeScalars)
                }
                guard let range = next[i] else { continue }
                if let b = best, let current = next[b] {
                    let earlier = range.lowerBound < current.lowerBound
                    let longer = range.lowerBound == current.lowerBound && tokens[i].unicodeScalars.count > tokens[b].unicodeScalars.count
                    if !(earlier || longer) { continue }
                }
                best = i
            }
            guard let b = best, let range = next[b] else {
                try split(rest, lower: lower, into: &words, from: position, origins: &origins)
                break
            }
            let before = rest[..<range.lowerBound]
            try split(before, lower: lower, into: &words, from: position, origins: &origins)
            words.append(tokens[b])
            if origins != nil {
                position += before.unicodeScalars.count
                let count = tokens[b].unicodeScalars.count
                origins?.append(Array(position..<(position + count)))
                position += count
            }
            rest = rest[range.upperBound...]
        }
        return words
    }

    /// `origins`, when not nil, gets each word's scalars' positions (`from` is that of
    /// `text`'s first scalar).
    private static func split(_ text: Substring, lower: Bool, into words: inout [String], from: Int, origins: inout [[Int]]?) throws {
        var word = String.UnicodeScalarView()
        let tracking = origins != nil
        var wordOrigins: [Int] = []
        func finish() {
            if !word.isEmpty {
                words.append(String(word))
                origins?.append(wordOrigins)
            }
            word = String.UnicodeScalarView()
            wordOrigins = []
        }
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if count & 0xFFFFF == 0 { try Interrupt.check() }
            if scalar.value == 0 || scalar.value == 0xFFFD || isControl(scalar) { continue }
            if isWhitespace(scalar) { finish(); continue }
            let at = from + count - 1
            if isChinese(scalar) {
                finish()
                let kept = strippedAccents(scalar)
                words.append(String(String.UnicodeScalarView(kept)))
                origins?.append(Array(repeating: at, count: kept.count))
                continue
            }
            for stripped in strippedAccents(scalar) {
                for piece in lower ? Array(stripped.properties.lowercaseMapping.unicodeScalars) : [stripped] {
                    if isPunctuation(piece) {
                        finish()
                        words.append(String(Character(piece)))
                        origins?.append([at])
                    } else {
                        word.append(piece)
                        if tracking { wordOrigins.append(at) }
                    }
                }
            }
        }
        finish()
    }

    private static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
    }

    /// Control characters other than tab and newlines, and format, private-use and
    /// unassigned characters ("other" in Unicode's categories).
    private static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        switch c.properties.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate: return true
        default: return false
        }
    }

    /// ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~) and every
    /// Unicode punctuation category.
    private static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// CJK Unified Ideographs and their extensions and compatibility blocks (not Hangul,
    /// Hiragana or Katakana, which are split like other letters).
    private static func isChinese(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }

    /// NFD of one character without its nonspacing marks.
    private static func strippedAccents(_ c: Unicode.Scalar) -> [Unicode.Scalar] {
        let v = c.value
        if (0xAC00...0xD7A3).contains(v) {
            // A Hangul syllable decomposes by formula into its leading consonant, vowel
            // and (optional) trailing consonant.
            let s = v - 0xAC00
            var jamo = [0x1100 + s / 588, 0x1161 + (s % 588) / 28]
            if s % 28 != 0 { jamo.append(0x11A7 + s % 28) }
            return jamo.compactMap(Unicode.Scalar.init)
        }
        if let kept = decompositions[v] { return kept }
        return c.properties.generalCategory == .nonspacingMark ? [] : [c]
    }

    /// `accentTable` read once.
    private static let decompositions: [UInt32: [Unicode.Scalar]] = {
        var table: [UInt32: [Unicode.Scalar]] = [:]
        for entry in accentTable.split(whereSeparator: { $0 == ";" || $0 == "\n" }) {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let code = UInt32(parts[0], radix: 16) else { continue }
            table[code] = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        }
        return table
    }()

    /// The ids of one word's pieces: the longest prefix in the vocabulary, then the
    /// longest `##` continuation, and so on; `unknown` alone when some part has no piece
    /// or the word is longer than `maxCharacters`.
    static func pieces(of word: String, vocabulary: (String) -> Int?, unknown: Int, maxCharacters: Int) -> [Int] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxCharacters { return [unknown] }
        var ids: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int?
            while end > start {
                var piece = start > 0 ? "##" : ""
                piece.unicodeScalars.append(contentsOf: scalars[start..<end])
                if let id = vocabulary(piece) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return [unknown] }
            ids.append(id)
            start = end
        }
        return ids
    }
}
