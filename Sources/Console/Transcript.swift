import Interpreter

/// `tx --step FILE --html OUT.html`: what the stepper showed, as one self-contained page
/// (narration, code, output, check marks and heatmaps as inline SVG; no scripts, fonts or
/// anything else from the network), readable offline and printable. The page is also
/// well-formed XML. Heatmaps are interactive by CSS alone: pointing at a query's row
/// dims the other rows of every panel, so one token's attention shows in all heads.
public final class Transcript {
    enum Piece {
        case narration([String?])
        case code(String)
        /// What the script printed.
        case output(String)
        /// The stepper's own lines: values, summaries, `ok`.
        case result(String)
        case check(Check)
        case error(String)
        case figure(String)
    }

    private var pieces: [Piece] = []
    let title: String

    public init(title: String) { self.title = title }

    // Text comes in as the terminal got it; the page takes it without terminal escapes
    // (colour from a terminal would leave ESC characters, which no HTML or XML allows).
    func narration(_ lines: [String?]) {
        if !lines.isEmpty { pieces.append(.narration(lines.map { $0.map(Self.withoutEscapes) })) }
    }
    func code(_ text: String) { pieces.append(.code(Self.withoutEscapes(text))) }
    func output(_ text: String) { pieces.append(.output(Self.withoutEscapes(text))) }
    func result(_ text: String) { pieces.append(.result(Self.withoutEscapes(text))) }
    func check(_ check: Check) {
        pieces.append(.check(Check(passed: check.passed, text: Self.withoutEscapes(check.text),
                                   detail: Self.withoutEscapes(check.detail), source: check.source)))
    }
    func error(_ text: String) { pieces.append(.error(Self.withoutEscapes(text))) }

    /// `text` without terminal escape sequences: CSI (`ESC [ ... m`, colours and cursor
    /// moves), OSC (`ESC ] ... BEL` or `ESC \`, titles and links) and two-character
    /// escapes; a lone ESC goes too.
    static func withoutEscapes(_ text: String) -> String {
        guard text.utf8.contains(0x1B) else { return text }
        var kept: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == 0x1B else {
                kept.append(bytes[i])
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            switch bytes[i] {
            case UInt8(ascii: "["):
                // Parameters and intermediates (0x20-0x3F), then one final byte (0x40-0x7E).
                i += 1
                while i < bytes.count, (0x20...0x3F).contains(bytes[i]) { i += 1 }
                if i < bytes.count, (0x40...0x7E).contains(bytes[i]) { i += 1 }
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "_"), UInt8(ascii: "^"):
                // A string, to BEL or ESC \.
                i += 1
                while i < bytes.count, bytes[i] != 0x07, bytes[i] != 0x1B { i += 1 }
                if i < bytes.count, bytes[i] == 0x07 { i += 1 }
                else if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\\") { i += 2 }
            default:
                if (0x20...0x7E).contains(bytes[i]) { i += 1 }
            }
        }
        return String(decoding: kept, as: UTF8.self)
    }
    func figure(_ svg: String) { pieces.append(.figure(svg)) }

    static let style = """
        body { font-family: Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
        h1 { font-size: 1.4rem; }
        p.narration { margin: 1.2rem 0 0.4rem; line-height: 1.45; }
        pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.85rem;
              margin: 0.2rem 0; padding: 0.3rem 0.6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
        pre.code { background: #f3f3f7; border-left: 3px solid #6a6ad0; font-weight: bold; }
        pre.output { background: #fafafa; }
        pre.result { color: #444; }
        pre.check.passed { color: #17702a; }
        pre.check.failed, pre.error { color: #b0161e; }
        div.figure { margin: 0.4rem 0; overflow-x: auto; }
        @media print {
          body { max-width: none; margin: 0; }
          pre, div.figure { break-inside: avoid; }
          div.figure svg { max-width: 100%; height: auto; }
          * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
        }
        """

    public func html() -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<title>\(escapeXML(title))</title>\n<style>\n\(Self.style)\n</style>\n</head>\n<body>\n"
        out += "<h1>\(escapeXML(title))</h1>\n"
        var index = 0
        while index < pieces.count {
            switch pieces[index] {
            case .narration(let lines):
                for paragraph in Self.paragraphs(lines) {
                    out += "<p class=\"narration\">\(escapeXML(paragraph))</p>\n"
                }
            case .code(let text):
                out += "<pre class=\"code\">\(escapeXML(text))</pre>\n"
            case .output:
                // Consecutive pieces of printed output make one block.
                var text = ""
                while index < pieces.count, case .output(let piece) = pieces[index] {
                    text += piece
                    index += 1
                }
                index -= 1
                if text.hasSuffix("\n") { text.removeLast() }
                out += "<pre class=\"output\">\(escapeXML(text))</pre>\n"
            case .result(let text):
                out += "<pre class=\"result\">\(escapeXML(text))</pre>\n"
            case .check(let check):
                // A failed check's message comes next, with its place, in the error.
                let detail = check.detail.isEmpty || !check.passed ? "" : "  " + check.detail
                out += "<pre class=\"check \(check.passed ? "passed" : "failed")\">\(check.passed ? "✓" : "✗") \(escapeXML(check.text + detail))</pre>\n"
            case .error(let text):
                out += "<pre class=\"error\">\(escapeXML(text.hasSuffix("\n") ? String(text.dropLast()) : text))</pre>\n"
            case .figure(let svg):
                out += "<div class=\"figure\">\n\(svg)</div>\n"
            }
            index += 1
        }
        return out + "</body>\n</html>\n"
    }

    /// Narration lines joined into paragraphs, which blank lines and lone `#` lines separate.
    static func paragraphs(_ lines: [String?]) -> [String] {
        var result: [String] = []
        var current: [String] = []
        for line in lines {
            if let line, !line.isEmpty {
                current.append(line)
            } else if !current.isEmpty {
                result.append(current.joined(separator: " "))
                current = []
            }
        }
        if !current.isEmpty { result.append(current.joined(separator: " ")) }
        return result
    }
}
