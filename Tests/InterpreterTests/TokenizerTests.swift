import Interpreter
import Lang
import Tensor
import Testing

/// tx's tokenizer against all-MiniLM-L6-v2's own tokenizer.json as Hugging Face's Rust
/// tokenizer reads it: the fixtures (Fixtures/tokenizer, written by make_fixtures.py
/// there) hold hard texts, natural-language texts and a sweep of every code point of
/// planes 0 to 3, each with the reference ids.
enum TokenizerFixtures {
    static let folder: String = {
        let path = #filePath
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/Fixtures/tokenizer"
    }()

    /// The reference ids of each code point swept (sweep.txt, run-length coded), in order.
    static func sweep() throws -> [[Int]] {
        let text = String(decoding: try readFile(path: folder + "/sweep.txt"), as: UTF8.self)
        var items: [[Int]] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "*")
            let ids = parts[0].split(separator: ",").compactMap { Int($0) }
            let count = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
            items += Array(repeating: ids, count: count)
        }
        return items
    }
}

extension OneAtATime {
    /// The texts of one fixture file: tokenize's ids must equal the reference ids (with
    /// [CLS] and [SEP], cut to 256 tokens). Prints each text that differs.
    static func differences(_ file: String) -> (output: String, error: TxError?) {
        MiniLM.run("""
            t = read_json("\(TokenizerFixtures.folder)/\(file)")
            wrong = 0
            for i in range(len(t.texts)) {
                ids = tokenize(m, t.texts[i])
                if ids != t.ids[i] {
                    wrong += 1
                    if wrong <= 10 { print(format("text {}: {}\\n  tx: {}\\n  hf: {}", i, t.texts[i], tokens(m, t.texts[i]), t.ids[i])) }
                }
            }
            print(len(t.texts), "texts,", wrong, "differ")
            """)
    }

    @Test(MiniLM.needed) func tokenIdsEqualTheRustTokenizersOnHardTexts() {
        let (output, error) = OneAtATime.differences("hard.json")
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "658 texts, 0 differ\n")
    }

    @Test(MiniLM.needed) func tokenIdsEqualTheRustTokenizersOnNaturalTexts() {
        let (output, error) = OneAtATime.differences("natural.json")
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "384 texts, 0 differ\n")
    }

    /// Every code point of planes 0 to 3 between two letters, 1,024 to a text: the ids of
    /// each text are the reference items' ids one after the other.
    @Test(MiniLM.needed) func tokenIdsEqualTheRustTokenizersOnEveryCodePointOfPlanes0To3() throws {
        let (output, error) = MiniLM.run("""
            for k in range(256) {
                if k == 54 || k == 55 { continue }
                parts = []
                for c in range(k * 1024, k * 1024 + 1024) { push(parts, "a" + chr(c) + "b") }
                ids = wordpiece(basic_tokenize(join(parts, " "), keep=m.special), m.ids, max_chars=m.max_chars)
                print(join(ids, " "))
            }
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        let items = try TokenizerFixtures.sweep()
        let codePoints = (0..<0x40000).filter { !(0xD800...0xDFFF).contains($0) }
        try #require(items.count == codePoints.count, "sweep.txt has \(items.count) items for \(codePoints.count) code points")
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        try #require(lines.count == 254)
        var wrong: [String] = []
        for (k, line) in lines.enumerated() {
            var got = line.split(separator: " ").compactMap { Int($0) }[...]
            for i in (k * 1024)..<((k + 1) * 1024) {
                let want = items[i]
                if Array(got.prefix(want.count)) != want {
                    wrong.append("U+\(String(codePoints[i], radix: 16, uppercase: true)): tx \(Array(got.prefix(want.count))), reference \(want)")
                    break
                }
                got = got.dropFirst(want.count)
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) texts differ; first differing code point of each: \(wrong.prefix(20).joined(separator: "; "))")
    }
}
