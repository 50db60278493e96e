import Tensor

/// Where each WordPiece token of a text came from, as Hugging Face's
/// `return_offsets_mapping`: the tokens are found as `basicTokens` and `pieces` find
/// them (so the ids are the same), and each gets the range of `text`'s characters it
/// was made from.
extension WordPiece {
    /// A token's id and the characters of the text it came from (`start..<end`,
    /// counted in the text's characters, as tx's string indices count them).
    struct Located {
        let id: Int
        let start: Int
        let end: Int
    }

    /// The tokens of `text` with their places: `basicTokens`, then `pieces` of each word.
    static func locatedTokens(_ text: String, lower: Bool, stripAccents: Bool, keep: [String], vocabulary: (String) -> Int?,
                              unknown: Int, maxCharacters: Int, longest: Int) throws -> [Located] {
        var origins: [[Int]]? = []
        let words = try basicTokens(text, lower: lower, stripAccents: stripAccents, keep: keep, origins: &origins)
        guard let origins, origins.count == words.count else { return [] }
        // The character each scalar of the text belongs to.
        var character: [Int] = []
        character.reserveCapacity(text.unicodeScalars.count)
        for (k, c) in text.enumerated() {
            for _ in c.unicodeScalars { character.append(k) }
        }
        var located: [Located] = []
        for (i, word) in words.enumerated() {
            if i & 0xFFFF == 0xFFFF { try Interrupt.check() }
            let from = origins[i]
            let ids = pieces(of: word, vocabulary: vocabulary, unknown: unknown, maxCharacters: maxCharacters, longest: longest)
            let spans = pieceSpans(of: word, ids: ids, vocabulary: vocabulary)
            for (id, span) in zip(ids, spans) {
                // A piece's characters run from its first scalar's to its last's.
                guard let last = from.last, last < character.count, !span.isEmpty else {
                    located.append(Located(id: id, start: 0, end: 0))
                    continue
                }
                let start = from[min(span.lowerBound, from.count - 1)]
                let end = from[min(span.upperBound - 1, from.count - 1)]
                located.append(Located(id: id, start: character[start], end: character[end] + 1))
            }
        }
        return located
    }

    /// The scalars of `word` that each of its pieces `ids` covers: each piece is the
    /// shortest stretch from where the last one ended whose vocabulary entry (with "##"
    /// after the first) has the piece's id; the whole word when it is one unknown id.
    static func pieceSpans(of word: String, ids: [Int], vocabulary: (String) -> Int?) -> [Range<Int>] {
        let scalars = Array(word.unicodeScalars)
        let whole = 0..<scalars.count
        if ids.count <= 1 { return ids.map { _ in whole } }
        var spans: [Range<Int>] = []
        var start = 0
        for id in ids {
            var end = start + 1
            while end <= scalars.count {
                var piece = start > 0 ? "##" : ""
                piece.unicodeScalars.append(contentsOf: scalars[start..<end])
                if vocabulary(piece) == id { break }
                end += 1
            }
            // Pieces always spell the word; if they did not, the rest is the whole word.
            guard end <= scalars.count else { return ids.map { _ in whole } }
            spans.append(start..<end)
            start = end
        }
        return spans
    }
}
