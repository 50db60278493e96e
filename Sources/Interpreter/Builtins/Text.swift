import Lang
import Tensor

extension Library {
    static func text() -> [Builtin] {
        // One default string for wordpiece's and bert_tokenize's unk (each string value
        // counts against the memory limit).
        let unknown = Value.string("[UNK]")
        return [
            builtin("words", .string("s"), summary: "The words of s (split at white space), as a list of strings.",
                    example: "words(\"I went to Stanford CS224N and learned\")") { _, s in
                try Strings.words(s)
            },
            builtin("lower", .string("s"), summary: "s in lower case (Unicode's mapping, as Python's s.lower()).",
                    example: "lower(\"Hello World\")") { _, s in
                .string(s.lowercased())
            },
            builtin("upper", .string("s"), summary: "s in upper case (Unicode's mapping, as Python's s.upper()).",
                    example: "upper(\"Hello\")") { _, s in
                .string(s.uppercased())
            },
            builtin("strip", .string("s"), summary: "s without the white space (newlines too) at either end, as Python's s.strip().",
                    example: "strip(\"  the cat\\n\")") { _, s in
                .string(s.trimmingSpaces)
            },
            builtin("replace", .string("s"), .argument("old"), .string("new"),
                    summary: "s with every old replaced by new, left to right (as Python's s.replace(old, new)).",
                    example: "replace(\"a-b-c\", \"-\", \" \")") { _, s, old, new in
                .string(try Strings.replace(s, try old.string(), new, at: old.span))
            },
            builtin("startswith", .string("s"), .string("prefix"), summary: "Whether s starts with prefix (Julia's startswith; Python's s.startswith).",
                    example: "startswith(\"[CLS] the\", \"[CLS]\")") { _, s, prefix in
                .bool(s.unicodeScalars.starts(with: prefix.unicodeScalars))
            },
            builtin("endswith", .string("s"), .string("suffix"), summary: "Whether s ends with suffix (Julia's endswith; Python's s.endswith).",
                    example: "endswith(\"model.safetensors\", \".safetensors\")") { _, s, suffix in
                .bool(s.unicodeScalars.reversed().starts(with: suffix.unicodeScalars.reversed()))
            },
            builtin("enumerate", .argument("xs"), .int("start", default: 0),
                    summary: "The pairs [i, x] of each item x of xs (what for gives: a list's items, a string's characters, a range's numbers, a tensor's rows) and its position i, counted from start.",
                    example: "for (i, w) in enumerate([\"the\", \"cat\"]) { print(i, w) }",
                    details: "Each pair is a list, so for (i, x) in enumerate(xs) and for i, x in enumerate(xs) take it apart.") { _, xs, start in
                guard let count = Iteration.count(of: xs.value) else { throw xs.typeError(expected: "a list, string, record, range or tensor of rank >= 1") }
                let items = try Iteration.items(xs.value, count: count, at: xs.span)
                return try Strings.tuples(count: items.count, width: 2) { i, k in k == 0 ? .number(Double(start + i)) : items[i] }
            },
            builtin("zip", .rest("xs"),
                    summary: "The lists [a, b, ...] of the i-th items of each of xs, as long as the shortest (Python's and Julia's zip).",
                    example: "zip([\"a\", \"b\"], [1, 2])",
                    details: "Each argument is iterated as for does (a list's items, a string's characters, a range's numbers, a tensor's rows).") { args, xs in
                guard !xs.isEmpty else { throw TxError(.type, "zip needs at least one list", at: args.span) }
                var count = Int.max
                for (x, span) in zip(xs, args.restSpans) {
                    guard let n = Iteration.count(of: x) else {
                        throw TxError(.type, "zip cannot iterate over \(article(x.typeDescription))", at: span)
                    }
                    count = Swift.min(count, n)
                }
                let columns = try zip(xs, args.restSpans).map { try Iteration.items($0, count: count, at: $1) }
                return try Strings.tuples(count: count, width: columns.count) { i, k in columns[k][i] }
            },
            builtin("str", .value("v"), summary: "v as text, as print shows it.", example: "str(3) + \" heads\"") { _, v in
                .string(Display.text(v))
            },
            builtin("len", .argument("v"),
                    summary: "The length of a list, string, record or range, or the size of a tensor's first axis.",
                    example: "len([1, \"a\", none])") { _, v in
                switch v.value {
                case .list(let l): return .number(Double(l.items.count))
                case .string(let s): return .number(Double(CharacterPositions.count(of: s.text)))
                case .record(let r): return .number(Double(r.count))
                case .range(let r): return .number(Double(r.count))
                case .tensor(let t) where t.rank > 0: return .number(Double(t.shape[0]))
                default: throw v.typeError(expected: "a list, string, record, range or tensor of rank >= 1")
                }
            },
            builtin("keys", .record("r"), summary: "The field names of a record, in order.",
                    example: "keys({a: 1, b: 2})") { _, r in
                .list(ListValue(r.keys.map { .string($0) }))
            },
            builtin("print", .rest("v"), summary: "Prints the values separated by spaces, then a newline.",
                    example: "print(\"d =\", 8)") { args, values in
                try args.interpreter.write(values.map(Display.text).joined(separator: " ") + "\n", at: args.span)
                return .none
            },
            builtin("format", .argument("fmt"), .rest("v"),
                    summary: "fmt with each {} replaced by the next value; {:spec} formats it as Python does: {:.3f}, {:8.2e}, {:>10}, {:+,d}, {:.1%}.",
                    example: "format(\"{} heads of size {:.1f}\", 8, 64)",
                    details: """
                    A spec is [[fill]align][sign][z][#][0][width][,|_][.precision][type], as in Python:
                    align < (strings' default), > (numbers'), ^ centre, = pad between sign and digits;
                    sign + - or space; z shows -0 as 0; # keeps the point and prefixes 0x 0o 0b;
                    0 pads with zeros after the sign; , or _ group the digits.
                    Number types: f F e E g G % (default precision 6), and d x X o b for integral numbers.
                    No type gives str(v), or with a precision that many significant digits: {:.3} of pi is 3.14.
                    s is for strings; a string's precision cuts it. Other values (bools, lists, records,
                    tensors) format as str(v); a one-element tensor takes a number's spec.
                    {{ and }} are literal braces; width and precision are at most 1000; each value needs
                    its {} and each {} its value.
                    """) { args, fmt, values in
                .string(try Format.formatted(try fmt.string(), values, at: args.span,
                                             templateSpan: fmt.span, valueSpans: args.restSpans))
            },
            builtin("join", .list("parts", expected: "a list"), .string("separator", default: ""),
                    summary: "The items of a list joined into one string, separator between them (as Julia's join; Python's separator.join(parts)).",
                    example: "join(words(\"the cat sat\"), \" \")",
                    details: "Strings are joined as they are, other values as str shows them.") { _, list, separator in
                var bytes = separator.utf8.count * Swift.max(list.items.count - 1, 0)
                let pieces = list.items.map { item -> String in
                    let text = Display.text(item)
                    bytes += text.utf8.count
                    return text
                }
                try Memory.checkRoom(for: 2 * bytes, "building a string")
                return .string(pieces.joined(separator: separator))
            },
            builtin("lines", .string("s"),
                    summary: "The lines of s, as a list of strings (without their \\n or \\r\\n; a final newline ends the last line).",
                    example: "lines(\"[PAD]\\n[UNK]\\nthe\\n\")") { _, s in
                // Split at the byte \n, not at the Character "\n": "\r\n" is one Swift Character.
                let utf8 = s.utf8
                // Each line is a string value in the list: all must fit before any is made.
                var count = 1
                for byte in utf8 where byte == 10 { count += 1 }
                try Memory.checkRoom(for: count * (MemoryLayout<Value>.stride + StringValue.objectBytes) + utf8.count, "the list of lines")
                var parts: [Value] = []
                parts.reserveCapacity(count)
                var start = utf8.startIndex
                while start < utf8.endIndex {
                    let newline = utf8[start...].firstIndex(of: 10)
                    var end = newline ?? utf8.endIndex
                    if end > start, utf8[utf8.index(before: end)] == 13 { end = utf8.index(before: end) }
                    parts.append(.string(String(decoding: utf8[start..<end], as: UTF8.self)))
                    if parts.count & 0xFFF == 0 { try Interrupt.check() }
                    guard let newline else { break }
                    start = utf8.index(after: newline)
                }
                return .list(ListValue(parts))
            },
            builtin("chr", .argument("n"),
                    summary: "The string of the one Unicode scalar (code point) n, as Python's chr: chr(233) is \"é\".",
                    example: "chr(233) + chr(20013)",
                    details: "n is 0 to 1114111 (hex 10FFFF), not a surrogate (hex D800 to DFFF). ord is its inverse; \"\\u{e9}\" writes the same in a literal.") { _, argument in
                let n = try argument.int()
                guard let scalar = (0...0x10FFFF).contains(n) ? Unicode.Scalar(UInt32(n)) : nil else {
                    throw TxError(.value, "chr: \(n) is not a Unicode scalar (0 to 1114111, hex 10FFFF, without the surrogates D800 to DFFF)", at: argument.span)
                }
                return .string(String(Character(scalar)))
            },
            builtin("ord", .argument("s"),
                    summary: "The code point of a string of one Unicode scalar, as Python's ord: ord(\"é\") is 233.",
                    example: "ord(\"é\") == 233 && ord(\"\\u{1F600}\") == 128512",
                    details: "\"e\\u{301}\" (e and a combining accent) is one character on screen but two scalars: ord(\"e\") and ord(\"\\u{301}\") give them.") { _, argument in
                let s = try argument.string()
                let scalars = s.unicodeScalars
                guard let first = scalars.first, scalars.index(after: scalars.startIndex) == scalars.endIndex else {
                    throw TxError(.value, "ord needs a string of one Unicode scalar, got \(Display.show(.string(s))) (\(scalars.count) scalars)", at: argument.span)
                }
                return .number(Double(first.value))
            },
            builtin("number", .argument("s"),
                    summary: "The number a string spells (\"42\", \"-1.5e3\", \"inf\"), e.g. of a script's args; numbers stay numbers.",
                    example: "number(\"256\") + 1") { _, argument in
                let v = argument.value
                if let x = Convert.number(v) { return .number(x) }
                guard case .string(let s) = v else { throw argument.typeError(expected: "a string") }
                guard let x = Double(s.text.trimmingSpaces) else {
                    throw TxError(.value, "number: \(Display.show(v)) is not a number", at: argument.span)
                }
                return .number(x)
            },
            builtin("push", .list("list", expected: "a list"), .rest("v"),
                    summary: "Appends the values to the end of list (in place, as Python's append) and returns the list.",
                    example: "rows = []; push(rows, eye(2)); push(rows, 1, \"a\"); len(rows)",
                    details: "[x] of a tensor or a number is a tensor literal, so rows + [x] would add; push(rows, x) adds an item.") { _, list, values in
                try Memory.checkRoom(for: (list.items.count + values.count) * MemoryLayout<Value>.stride, "building a list")
                list.items.append(contentsOf: values)
                return .list(list)
            },
            builtin("type", .value("v"), summary: "The kind of v: \"number\", \"tensor\", \"string\", ...",
                    example: "type(eye(2))") { _, v in
                .string(v.typeName)
            },
            builtin("index_map", .argument("list"),
                    summary: "A record from each string of list to its position (the first, if repeated): a vocabulary's token -> id.",
                    example: "vocab = index_map([\"[PAD]\", \"the\", \"cat\"]); vocab.cat") { _, argument in
                guard case .list(let list) = argument.value else { throw argument.typeError(expected: "a list of strings") }
                // Each entry (and its key) counts while the record lives: all must fit.
                var bytes = RecordValue.objectBytes
                for item in list.items {
                    if case .string(let s) = item { bytes += RecordValue.entryBytes + s.text.utf8.count }
                }
                try Memory.checkRoom(for: bytes, "the record of \(list.items.count) names")
                let record = RecordValue()
                for (i, item) in list.items.enumerated() {
                    // Ctrl-C: three million names take seconds.
                    if i & 0xFFFF == 0 { try Interrupt.stop(at: argument.span) }
                    guard case .string(let s) = item else {
                        throw TxError(.type, "index_map needs a list of strings; item \(i) is \(article(item.typeDescription))", at: argument.span)
                    }
                    if record[s.text] == nil { record[s.text] = .number(Double(i)) }
                }
                return .record(record)
            },
            builtin("basic_tokenize", .string("text"), .bool("lower", default: true), .keep, .limit, .optionalBool("strip_accents"),
                    summary: "BERT's basic tokenizer: the words of text, cleaned, with accents stripped, lower-cased and split at punctuation.",
                    example: "basic_tokenize(\"Héllo, World! 日本 [SEP]\", keep=[\"[SEP]\"])",
                    details: """
                        As Hugging Face's Rust BertNormalizer and BertPreTokenizer (the tokenizer.json of a
                        BERT model): NUL, U+FFFD, control and format characters are dropped; CJK ideographs
                        become words of their own; with lower=true, accents are stripped (Unicode NFD without
                        nonspacing marks) and letters lower-cased (strip_accents=true or false overrides the
                        first, as a cased model's tokenizer_config.json may); the text is split at white space
                        and every punctuation character (ASCII's, which include $ + < = > ^ ` | ~, and
                        Unicode's) is a word. The character classes are the Rust tokenizer's, frozen in tx (an
                        unassigned character is kept, as there, and becomes [UNK]). Each string of keep (a
                        list, e.g. ["[CLS]", "[SEP]"]) found in the text is one word, as written. With limit=n
                        it stops after n words, reading no further.
                        """) { _, text, lower, keep, limit, strip in
                // At most one word per character (and at most limit), each a string value.
                let most = limit == .max ? text.unicodeScalars.count : min(limit, text.utf8.count)
                try Memory.checkRoom(for: most * (MemoryLayout<Value>.stride + StringValue.objectBytes) + text.utf8.count,
                                     "the list of words")
                let words = try WordPiece.basicTokens(text, lower: lower, stripAccents: strip ?? lower, keep: keep, limit: limit)
                return .list(ListValue(words.map { .string($0) }))
            },
            builtin("wordpiece", .words("words"), .argument("vocab"), .unk(unknown), .int("max_chars", default: 100), .limit,
                    summary: "The token ids of words (a list of strings, or one word): WordPiece's greedy longest pieces, later ones with ##.",
                    example: "wordpiece([\"the\", \"cats\", \"xyz\"], index_map([\"[UNK]\", \"the\", \"cat\", \"##s\"]))",
                    details: """
                        vocab is a record token -> id (index_map of the vocabulary's lines). Each word is split
                        into the longest prefix the vocabulary has, then the longest "##" continuation, and so
                        on; a word with a part that has no piece, or longer than max_chars characters (Unicode
                        scalars; tokenizer.json's max_input_chars_per_word), is the one id of unk. With limit=n
                        it gives at most n ids and splits no further word.
                        """) { args, words, vocab, unk, maxCharacters, limit in
                let vocabulary = try Vocabulary(vocab, unk: unk, for: args.builtin.name)
                var ids: [Value] = []
                for word in words {
                    if ids.count >= limit { break }
                    try Interrupt.check()
                    ids += WordPiece.pieces(of: word, vocabulary: vocabulary.id, unknown: vocabulary.unknown, maxCharacters: maxCharacters,
                                            longest: vocabulary.longest)
                        .prefix(limit - ids.count).map { .number(Double($0)) }
                }
                return .list(ListValue(ids))
            },
            builtin("bert_tokenize", .string("text"), .argument("vocab"), .bool("lower", default: true), .keep, .unk(unknown),
                    .int("max_chars", default: 100), .optionalBool("strip_accents"),
                    summary: "wordpiece of basic_tokenize's words, with where each token is in text: {ids, offsets}, offsets[i] = [start, end].",
                    example: "t = bert_tokenize(\"Unaffable cats!\", index_map([\"[UNK]\", \"un\", \"##aff\", \"##able\", \"cat\", \"##s\", \"!\"])); t",
                    details: """
                        The ids are wordpiece(basic_tokenize(text, lower, keep, strip_accents=strip_accents), vocab, unk,
                        max_chars)'s.
                        text[start:end] is the stretch of text token i was made from (as Hugging Face's
                        return_offsets_mapping: a word piece's own characters, an unknown word's whole
                        word), so offsets highlight words. Positions count characters as tx's strings do;
                        Hugging Face counts Unicode code points, which differ only after a character made
                        of several (a letter with a combining accent, an emoji with a skin tone).
                        """) { args, text, vocab, lower, keep, unk, maxCharacters, strip in
                try Memory.checkRoom(for: text.unicodeScalars.count * (4 * MemoryLayout<Value>.stride + 96) + text.utf8.count,
                                     "the tokens and their offsets")
                let vocabulary = try Vocabulary(vocab, unk: unk, for: args.builtin.name)
                let tokens = try WordPiece.locatedTokens(text, lower: lower, stripAccents: strip ?? lower, keep: keep, vocabulary: vocabulary.id,
                                                         unknown: vocabulary.unknown, maxCharacters: maxCharacters,
                                                         longest: vocabulary.longest)
                return .record(RecordValue([
                    ("ids", .list(ListValue(tokens.map { .number(Double($0.id)) }))),
                    ("offsets", .list(ListValue(tokens.map { .list(ListValue([.number(Double($0.start)), .number(Double($0.end))])) }))),
                ]))
            },
        ]
    }
}

/// A vocabulary record (token -> id), with the id of its unknown token.
private struct Vocabulary {
    /// A token's id, or nil when the vocabulary has none.
    let id: (String) -> Int?
    let unknown: Int
    /// The longest token's length (`WordPiece.longestToken`).
    let longest: Int

    /// `vocab`, a record, whose id for the token `unk` is the unknown token's.
    init(_ vocab: RawArgument, unk: String, for name: String) throws {
        let record = try vocab.record()
        func id(_ token: String) -> Int? {
            guard let v = record[token], let x = Convert.number(v), x == x.rounded(), abs(x) < 0x1p53 else { return nil }
            return Int(x)
        }
        guard let unknown = id(unk) else {
            throw TxError(.value, "\(name): the vocabulary has no id for the unknown token \(Display.show(.string(unk)))", at: vocab.span)
        }
        self.id = id
        self.unknown = unknown
        longest = WordPiece.longestToken(in: record)
    }
}

extension Param where T == [String] {
    /// keep: none (no strings) or a list of strings.
    static var keep: Param {
        .optional("keep", default: .none, shown: "none") { args, name in
            switch try args.value(name) {
            case .none: return []
            case .list(let list):
                return try list.items.map { item in
                    guard case .string(let s) = item else { throw args.typeError(name, expected: "a list of strings", got: item) }
                    return s.text
                }
            case let other: throw args.typeError(name, expected: "a list of strings", got: other)
            }
        }
    }

    /// A list of strings, or one string (a list of one).
    static func words(_ name: String) -> Param {
        .required(name) { args, name in
            switch try args.value(name) {
            case .string(let s): return [s.text]
            case .list(let list):
                return try list.items.map { item in
                    guard case .string(let s) = item else { throw args.typeError(name, expected: "a list of strings", got: item) }
                    return s.text
                }
            case let other: throw args.typeError(name, expected: "a list of strings", got: other)
            }
        }
    }
}

extension Param where T == String {
    /// The unknown token, `[UNK]` unless given (`unknown` is that default, one string value
    /// for every builtin that takes it: each counts against the memory limit).
    static func unk(_ unknown: Value) -> Param {
        .optional("unk", default: unknown, shown: "\"[UNK]\"") { try $0.string($1) }
    }
}

extension Param where T == Int {
    /// limit: at most this many results; none (the default) is no limit (`Int.max`).
    static var limit: Param {
        .optional("limit", default: .none, shown: "none") { args, name in
            let limit = try args.optionalInt(name) ?? .max
            guard limit >= 0 else {
                throw TxError(.value, "\(args.builtin.name): limit must be at least 0, got \(limit)", at: args.span(name))
            }
            return limit
        }
    }
}

extension Param where T == ListValue {
    /// A list (the list itself, so that a body may change it in place).
    static func list(_ name: String, expected: String) -> Param {
        .required(name) { args, name in
            let v = try args.value(name)
            guard case .list(let list) = v else { throw args.typeError(name, expected: expected, got: v) }
            return list
        }
    }
}
