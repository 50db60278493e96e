/// A piece of tx source text: a script file, a `-e` expression or one REPL entry.
public final class Source: Sendable {
    /// What errors call it: a file path, `<expr>`, `<stdin>` or `<repl 3>` (the third input).
    public let name: String
    public let text: String
    /// The UTF-8 bytes of `text`; spans are byte offsets into these.
    public let bytes: [UInt8]
    /// Byte offset at which each line starts (line 1 at index 0).
    public let lineStarts: [Int]

    /// The line number of the text's first line: 1, unless the text is a piece of a
    /// longer input (a statement read from a pipe), whose errors then give its lines.
    public let firstLine: Int

    /// A UTF-8 byte-order mark at the start is dropped: it is not part of the program,
    /// and columns count from the first character the reader sees.
    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        let text = text.hasPrefix("\u{FEFF}") ? String(text.unicodeScalars.dropFirst()) : text
        self.text = text
        self.firstLine = firstLine
        let bytes = Array(text.utf8)
        self.bytes = bytes
        var starts = [0]
        // A plain loop over the buffer: a source may be tens of megabytes, and this is
        // not polled for Ctrl-C (the generic enumerated() took seconds in a debug build).
        bytes.withUnsafeBufferPointer { buffer in
            for offset in 0..<buffer.count where buffer[offset] == 10 { starts.append(offset + 1) }
        }
        self.lineStarts = starts
    }

    /// The index in `lineStarts` of the line holding `offset`.
    private func lineIndex(at offset: Int) -> Int {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The line number (counting from `firstLine`) of the line holding `offset`.
    public func line(at offset: Int) -> Int {
        lineIndex(at: offset) + firstLine
    }

    /// The byte offset just past the text of the line holding `offset` (before its newline).
    public func lineEnd(at offset: Int) -> Int {
        let next = lineIndex(at: offset) + 1
        return next < lineStarts.count ? lineStarts[next] - 1 : bytes.count
    }

    /// The text of a line (numbered as `line(at:)` numbers them), without its newline.
    public func lineText(_ line: Int) -> String {
        let index = line - firstLine
        guard index >= 0, index < lineStarts.count else { return "" }
        let start = lineStarts[index]
        var end = index + 1 < lineStarts.count ? lineStarts[index + 1] : bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The 1-based column (in characters) of `offset` within its line.
    public func column(at offset: Int) -> Int {
        let start = lineStarts[lineIndex(at: offset)]
        let clamped = min(max(offset, start), bytes.count)
        return String(decoding: bytes[start..<clamped], as: UTF8.self).count + 1
    }
}

/// Where a node or an error sits in its source: the bytes `start..<end`.
public struct SourceSpan: Sendable {
    public let source: Source
    public let start: Int
    public let end: Int

    public init(source: Source, start: Int, end: Int) {
        self.source = source
        self.start = start
        self.end = max(start, end)
    }

    public var line: Int { source.line(at: start) }
    public var column: Int { source.column(at: start) }

    /// The span from the start of `self` to the end of `other`.
    public func through(_ other: SourceSpan) -> SourceSpan {
        SourceSpan(source: source, start: min(start, other.start), end: max(end, other.end))
    }

    /// The source text the span covers.
    public var text: String {
        let lo = min(max(start, 0), source.bytes.count), hi = min(max(end, lo), source.bytes.count)
        return String(decoding: source.bytes[lo..<hi], as: UTF8.self)
    }
}
