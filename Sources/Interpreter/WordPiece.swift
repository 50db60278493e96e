import Synchronization
import Tensor

/// BERT's tokenizer, as Hugging Face's `BertNormalizer`, `BertPreTokenizer` and
/// `WordPiece` model do it (the Rust tokenizer sentence-transformers uses): special
/// tokens are cut out of the raw text first; each other stretch is cleaned (NUL, U+FFFD,
/// control and format characters dropped, white space made a space), CJK ideographs get
/// spaces around them, accents are stripped (NFD, then the nonspacing marks removed), the
/// text is lower-cased, and it is split at white space and around every punctuation
/// character. WordPiece then splits each word greedily into the longest pieces the
/// vocabulary has, later pieces with `##`.
///
/// Every Unicode fact comes from `unicodeTables` (UnicodeTables.swift), which
/// scripts/make-unicode-tables probed from the Rust implementation: its classes are
/// older than Swift's (an unassigned character is kept, and becomes [UNK]), and tx must
/// give the model's ids whatever Unicode version the Swift toolchain has.
enum WordPiece {
    /// The words of `text`; each of `keep` found in the text is one word, untouched.
    /// With `limit`, stops once that many words are found: the text is read in parts of
    /// 4,096 scalars and then twice as many each time, each cut just before white space
    /// where no special token crosses, so that little more than what the words need is
    /// read.
    /// `stripAccents` (as `lower` unless a folder says otherwise) decomposes and drops
    /// the nonspacing marks; without it the text is not decomposed, as in the Rust
    /// normaliser.
    static func basicTokens(_ text: String, lower: Bool, stripAccents: Bool? = nil, keep: [String],
                            limit: Int = .max) throws -> [String] {
        var origins: [[Int]]?
        return try basicTokens(text, lower: lower, stripAccents: stripAccents, keep: keep, limit: limit, origins: &origins)
    }

    /// The words of `text`, and in `origins` (when it is not nil) the position among
    /// `text`'s Unicode scalars of each scalar of each word (where it came from).
    static func basicTokens(_ text: String, lower: Bool, stripAccents: Bool? = nil, keep: [String],
                            limit: Int = .max, origins: inout [[Int]]?) throws -> [String] {
        var splitter = Splitter(lower: lower, stripAccents: stripAccents ?? lower, limit: limit)
        splitter.origins = origins
        let tokens = try SpecialTokens(keep)
        var rest = Substring(text)
        var size = 4096
        while !rest.isEmpty, !splitter.full {
            let end = limit == .max ? rest.endIndex : try cut(rest, after: size, tokens: tokens, tables: splitter.tables)
            size = min(size * 2, 1 << 24)
            try scan(rest[..<end], tokens: tokens, into: &splitter)
            rest = rest[end...]
        }
        origins = splitter.origins
        return splitter.words
    }

    /// The strings that are kept whole, as a trie over Unicode scalars: the earliest and
    /// longest of them at a place costs a lookup per scalar it matches, however many
    /// there are (30,000 strings searched one by one made the text's length times theirs).
    struct SpecialTokens {
        private(set) var tokens: [String] = []
        /// The child of node n by scalar c, under the key n << 21 | c.
        private var children: [Int: Int32] = [:]
        /// The token that ends at each node (its index in `tokens`), or -1.
        private var ends: [Int32] = [-1]
        /// The most scalars a token has.
        private(set) var longest = 0

        init(_ keep: [String]) throws {
            var polled = 0
            for token in keep where !token.isEmpty {
                var node = 0, length = 0
                for scalar in token.unicodeScalars {
                    let key = node << 21 | Int(scalar.value)
                    if let child = children[key] {
                        node = Int(child)
                    } else {
                        children[key] = Int32(ends.count)
                        node = ends.count
                        ends.append(-1)
                    }
                    length += 1
                    polled += 1
                    if polled & 0xFFFF == 0 { try Interrupt.check() }
                }
                if ends[node] < 0 {
                    ends[node] = Int32(tokens.count)
                    tokens.append(token)
                }
                longest = max(longest, length)
            }
        }

        var isEmpty: Bool { tokens.isEmpty }

        /// The longest token that starts at `i`, and the index after it; `steps` counts
        /// the scalars looked at.
        func match(_ scalars: Substring.UnicodeScalarView, at i: String.Index, steps: inout Int) -> (token: String, end: String.Index)? {
            var node = 0, j = i
            var found: (token: String, end: String.Index)?
            while j < scalars.endIndex, let child = children[node << 21 | Int(scalars[j].value)] {
                steps += 1
                node = Int(child)
                j = scalars.index(after: j)
                if ends[node] >= 0 { found = (tokens[Int(ends[node])], j) }
            }
            return found
        }
    }

    /// The first place after `size` scalars of text that is just before a white-space
    /// scalar and inside no occurrence of a token; the end when there is none. Words end
    /// there whether the text is read in one part or two.
    private static func cut(_ text: Substring, after size: Int, tokens: SpecialTokens, tables: BertUnicode) throws -> String.Index {
        let scalars = text.unicodeScalars
        guard var i = scalars.index(scalars.startIndex, offsetBy: size, limitedBy: scalars.endIndex) else { return scalars.endIndex }
        var steps = 0
        while i < scalars.endIndex {
            guard tables.flags(scalars[i]).contains(.space) else {
                i = scalars.index(after: i)
                continue
            }
            // A token that starts before i and ends after it moves the cut past it.
            var crossing: String.Index?
            var start = i
            for _ in 0..<max(tokens.longest - 1, 0) {
                guard start > scalars.startIndex else { break }
                start = scalars.index(before: start)
                if let end = tokens.match(scalars, at: start, steps: &steps)?.end, end > i { crossing = max(crossing ?? end, end) }
            }
            if steps > 1 << 16 {
                steps = 0
                try Interrupt.check()
            }
            guard let past = crossing else { return i }
            i = past
        }
        return scalars.endIndex
    }

    /// The words of one part of the text: at each place the longest token that starts
    /// there is one word, and the text between tokens is split. Ctrl-C is looked for
    /// every 65,536 scalars looked at.
    private static func scan(_ text: Substring, tokens: SpecialTokens, into splitter: inout Splitter) throws {
        guard !tokens.isEmpty else {
            try splitter.split(text)
            return
        }
        let scalars = text.unicodeScalars
        var start = scalars.startIndex, i = start
        var steps = 0
        while i < scalars.endIndex, !splitter.full {
            if let (token, end) = tokens.match(scalars, at: i, steps: &steps) {
                // Sliced by scalars: a token may start inside a Character.
                try splitter.split(Substring(scalars[start..<i]))
                splitter.add(token)
                start = end
                i = end
            } else {
                i = scalars.index(after: i)
            }
            steps += 1
            if steps > 1 << 16 {
                steps = 0
                try Interrupt.check()
            }
        }
        if start < scalars.endIndex, !splitter.full { try splitter.split(Substring(scalars[start...])) }
    }

    /// Normalises and splits text as it streams by, one Unicode scalar at a time.
    private struct Splitter {
        let lower: Bool
        let stripAccents: Bool
        let limit: Int
        let tables = BertUnicode.shared
        var words: [String] = []
        var word = String.UnicodeScalarView()
        /// Marks (nonzero combining class) waiting for the next starter, which NFD puts
        /// in the order of their classes.
        var pending: [(class: UInt8, scalar: Unicode.Scalar, at: Int)] = []
        var seen = 0
        /// Each word's scalars' positions in the text, when tracked (not nil).
        var origins: [[Int]]?
        var wordOrigins: [Int] = []
        /// The position in the text of the next scalar.
        var position = 0

        init(lower: Bool, stripAccents: Bool, limit: Int) {
            self.lower = lower
            self.stripAccents = stripAccents
            self.limit = limit
        }

        var full: Bool { words.count >= limit }

        mutating func add(_ token: String) {
            finish()
            let count = token.unicodeScalars.count
            if !full {
                words.append(token)
                origins?.append(Array(position..<(position + count)))
            }
            position += count
        }

        mutating func split(_ text: Substring) throws {
            for scalar in text.unicodeScalars {
                seen += 1
                if seen & 0x3FF == 0 {
                    try Interrupt.check()
                    if full { return }
                }
                let at = position
                position += 1
                let flags = tables.flags(scalar)
                if flags.contains(.drop) { continue }
                if flags.contains(.space) {
                    put(" ", at)
                } else if flags.contains(.cjk) {
                    put(" ", at)
                    put(scalar, at)
                    put(" ", at)
                } else {
                    put(scalar, at)
                }
            }
            flush()
            finish()
        }

        /// One cleaned scalar, decomposed and stripped of its marks when accents are
        /// stripped, else only lower-cased (when `lower`).
        private mutating func put(_ c: Unicode.Scalar, _ at: Int) {
            if stripAccents {
                take(c, at)
            } else if lower, tables.flags(c).contains(.lowers), let mapped = tables.lowercase[c.value] {
                for piece in mapped { place(piece, at) }
            } else {
                place(c, at)
            }
        }

        /// One cleaned scalar: its canonical decomposition, marks reordered.
        private mutating func take(_ c: Unicode.Scalar, _ at: Int) {
            let v = c.value
            if (0xAC00...0xD7A3).contains(v) {
                // A Hangul syllable decomposes by formula into its leading consonant, vowel
                // and (optional) trailing consonant, none of them marks.
                let s = v - 0xAC00
                flush()
                for jamo in [0x1100 + s / 588, 0x1161 + (s % 588) / 28, s % 28 == 0 ? 0 : 0x11A7 + s % 28] where jamo != 0 {
                    if let j = Unicode.Scalar(jamo) { emit(j, at) }
                }
                return
            }
            if tables.flags(c).contains(.decomposes), let parts = tables.nfd[v] {
                for part in parts { decomposed(part, at) }
            } else {
                decomposed(c, at)
            }
        }

        private mutating func decomposed(_ c: Unicode.Scalar, _ at: Int) {
            let flags = tables.flags(c)
            guard flags.contains(.combining), let k = tables.combiningClass[c.value] else {
                flush()
                emit(c, at)
                return
            }
            pending.append((k, c, at))
        }

        /// The waiting marks in the order of their classes (a stable sort), then emitted.
        private mutating func flush() {
            guard !pending.isEmpty else { return }
            var marks = pending
            pending = []
            for i in marks.indices.dropFirst() {
                var j = i
                let m = marks[i]
                while j > 0, marks[j - 1].class > m.class {
                    marks[j] = marks[j - 1]
                    j -= 1
                }
                marks[j] = m
            }
            for m in marks { emit(m.scalar, m.at) }
        }

        /// A decomposed scalar in order: nonspacing marks dropped, lower-cased, then
        /// split at white space and around punctuation.
        private mutating func emit(_ c: Unicode.Scalar, _ at: Int) {
            let flags = tables.flags(c)
            if flags.contains(.mark) { return }
            if lower, flags.contains(.lowers), let mapped = tables.lowercase[c.value] {
                for piece in mapped { place(piece, at) }
            } else {
                place(c, at)
            }
        }

        private mutating func place(_ c: Unicode.Scalar, _ at: Int) {
            let flags = tables.flags(c)
            if flags.contains(.split) {
                finish()
            } else if flags.contains(.punctuation) {
                finish()
                if !full {
                    words.append(String(Character(c)))
                    origins?.append([at])
                }
            } else {
                word.append(c)
                if origins != nil { wordOrigins.append(at) }
            }
        }

        mutating func finish() {
            if !word.isEmpty, !full {
                words.append(String(word))
                origins?.append(wordOrigins)
            }
            word = String.UnicodeScalarView()
            wordOrigins = []
        }
    }

    /// The ids of one word's pieces: the longest prefix in the vocabulary, then the
    /// longest `##` continuation, and so on; `unknown` alone when some part has no piece
    /// or the word is longer than `maxCharacters` (Unicode scalars, as Rust's chars).
    /// No piece is tried that is longer than `longest`, the vocabulary's longest token
    /// in scalars: that keeps a long word from costing the cube of its length.
    static func pieces(of word: String, vocabulary: (String) -> Int?, unknown: Int, maxCharacters: Int, longest: Int) -> [Int] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxCharacters { return [unknown] }
        var ids: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = min(scalars.count, start + longest)
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

    /// The length in Unicode scalars of the longest key of a vocabulary record, kept for
    /// the records used last (a vocabulary is used again and again) while they are
    /// unchanged.
    static func longestToken(in vocabulary: RecordValue) -> Int {
        if let hit = longest.withLock({ list in list.first { $0.record === vocabulary && $0.version == vocabulary.version } }) {
            return hit.length
        }
        var length = 0
        for key in vocabulary.keys { length = max(length, key.unicodeScalars.count) }
        let entry = LongestToken(record: vocabulary, version: vocabulary.version, length: length)
        longest.withLock { list in
            list.removeAll { $0.record == nil || $0.record === vocabulary }
            list.insert(entry, at: 0)
            if list.count > 4 { list.removeLast() }
        }
        return length
    }

    private struct LongestToken: @unchecked Sendable {
        weak var record: RecordValue?
        let version: Int
        let length: Int
    }

    private static let longest = Mutex<[LongestToken]>([])
}
