import Synchronization

/// Where the characters of a string are. A Swift string finds its n-th character
/// (a grapheme cluster) by walking from the start, so `s[i]` and `len(s)` cost the
/// whole string; in a loop over a 1 MB string that is quadratic. For long strings the
/// position of every `stride`-th character is found once and kept for the few strings
/// used last, so that a look-up walks at most `stride` characters.
enum CharacterPositions {
    /// Strings shorter than this (in UTF-8 bytes) are walked each time: that is as fast.
    static let minimumLength = 4096
    /// Every how many characters a position is kept: 8 bytes per 256 characters.
    static let stride = 256

    /// The kept positions of one string.
    private final class Marks: Sendable {
        let text: String
        let marks: [String.Index]
        let count: Int

        init(_ text: String) {
            var marks: [String.Index] = []
            var count = 0
            var i = text.startIndex
            while i < text.endIndex {
                if count % CharacterPositions.stride == 0 { marks.append(i) }
                i = text.index(after: i)
                count += 1
            }
            self.text = text
            self.marks = marks
            self.count = count
        }
    }

    /// The strings indexed last, newest first.
    private static let recent = Mutex<[Marks]>([])
    private static let kept = 4

    /// The kept positions of `text` when it is long, made on first use. A string is
    /// recognised by its storage (its bytes' address and length), which the kept copy
    /// holds alive, so recognising it reads none of its text.
    private static func marks(of text: String) -> Marks? {
        guard text.utf8.count >= minimumLength,
              let address = text.utf8.withContiguousStorageIfAvailable({ $0.baseAddress }) ?? nil else { return nil }
        func same(_ m: Marks) -> Bool {
            m.text.utf8.count == text.utf8.count && m.text.utf8.withContiguousStorageIfAvailable({ $0.baseAddress }) == address
        }
        if let found = recent.withLock({ list in list.first(where: same) }) { return found }
        let made = Marks(text)
        recent.withLock { list in
            list.insert(made, at: 0)
            if list.count > kept { list.removeLast() }
        }
        return made
    }

    /// The number of characters, as `text.count`.
    static func count(of text: String) -> Int {
        marks(of: text)?.count ?? text.count
    }

    /// The index of character `position` of `text` (0 ... count; count gives the end).
    static func index(_ position: Int, in text: String) -> String.Index {
        guard let m = marks(of: text) else { return text.index(text.startIndex, offsetBy: position) }
        guard position < m.count else { return text.endIndex }
        return text.index(m.marks[position / stride], offsetBy: position % stride)
    }
}
