@preconcurrency import CReadline
@preconcurrency import Glibc
import Interpreter
import Lang

/// The input coloured as it is typed: numbers, strings, keywords, builtins, comments,
/// and closing brackets that match nothing.
public enum Highlight {
    /// `line` with `style`'s escapes around its parts; the visible text is unchanged.
    public static func paint(_ line: String, style: Style, isBuiltin: (String) -> Bool) -> String {
        let characters = Array(line)
        var roles = [Style.Role?](repeating: nil, count: characters.count)
        var open: [(bracket: Character, at: Int)] = []
        let closers: [Character: Character] = [")": "(", "]": "[", "}": "{"]
        func isNamePart(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c.unicodeScalars.first?.properties.generalCategory == .nonspacingMark }
        func isDigit(_ i: Int) -> Bool { i < characters.count && characters[i].isASCII && characters[i].isNumber }
        var i = 0
        while i < characters.count {
            let c = characters[i]
            let start = i
            var role: Style.Role? = nil
            if c == "#" {
                i = characters.count
                role = .comment
            } else if c == "\"" {
                i += 1
                while i < characters.count, characters[i] != "\"" { i += characters[i] == "\\" ? 2 : 1 }
                i = min(i + 1, characters.count)
                role = .string
            } else if isDigit(i) || (c == "." && isDigit(i + 1)) {
                while isDigit(i) || (i < characters.count && characters[i] == ".") { i += 1 }
                if i < characters.count, characters[i] == "e" || characters[i] == "E" {
                    var look = i + 1
                    if look < characters.count, characters[look] == "+" || characters[look] == "-" { look += 1 }
                    if isDigit(look) {
                        i = look
                        while isDigit(i) { i += 1 }
                    }
                }
                role = .number
            } else if isNamePart(c) {
                while i < characters.count, isNamePart(characters[i]) { i += 1 }
                let name = String(characters[start..<i])
                // `not` is a name, but in `x not in xs` part of the operator.
                var after = i
                while after < characters.count, characters[after] == " " { after += 1 }
                let notIn = name == "not" && after + 2 <= characters.count && String(characters[after..<(after + 2)]) == "in"
                    && (after + 2 == characters.count || !isNamePart(characters[after + 2]))
                role = Token.keywords.contains(name) || notIn ? .keyword : isBuiltin(name) ? .builtin : nil
            } else {
                i += 1
                if "([{".contains(c) {
                    open.append((c, start))
                } else if let opener = closers[c] {
                    if open.last?.bracket == opener { open.removeLast() } else { role = .unmatchedBracket }
                }
            }
            if let role { for j in start..<i { roles[j] = role } }
        }
        var out = ""
        var j = 0
        while j < characters.count {
            var k = j
            while k < characters.count, roles[k] == roles[j] { k += 1 }
            let text = String(characters[j..<k])
            out += roles[j].map { style.paint(text, $0) } ?? text
            j = k
        }
        return out
    }

    nonisolated(unsafe) private static var interpreter: Interpreter?
    nonisolated(unsafe) private static var style = Style.plain

    /// Colours what is typed in `interpreter`'s session (when `style` has colour).
    public static func install(for interpreter: Interpreter, style: Style) {
        Highlight.interpreter = interpreter
        Highlight.style = style
    }

    /// Called after readline has handled a key (and drawn the line plainly): writes the
    /// same characters again in colour over it, from the start of the input, and puts
    /// the cursor back. (A redisplay function of tx's own would turn readline's
    /// bracketed paste off.) Lines of several rows of text (a recalled block), lines
    /// taller than the screen, and the search prompt of Ctrl-R stay plain.
    static func colourLine() {
        guard style.isEnabled, let buffer = rl_line_buffer, let prompt = rl_prompt, let shown = rl_display_prompt,
              strcmp(prompt, shown) == 0, rl_end > 0 else { return }
        let line = String(cString: buffer)
        guard !line.contains("\n"), !line.contains(where: { $0.isASCII && $0.asciiValue.map { $0 < 32 || $0 == 127 } == true }) else { return }
        var rows: Int32 = 0, columns: Int32 = 0
        rl_get_screen_size(&rows, &columns)
        rows = Terminal.screenRows
        guard columns > 0 else { return }
        // The prompt's visible width: its escapes sit between \001 and \002.
        var promptWidth = 0, invisible = false
        for c in String(cString: prompt) {
            if c == "\u{1}" { invisible = true } else if c == "\u{2}" { invisible = false } else if !invisible { promptWidth += displayWidth(c) }
        }
        let width = { (text: Substring) in text.reduce(0) { $0 + displayWidth($1) } }
        let beforeCursor = String(decoding: line.utf8.prefix(Int(rl_point)), as: UTF8.self)
        let cursor = promptWidth + width(Substring(beforeCursor))
        let end = promptWidth + width(Substring(line))
        guard end / Int(columns) < Int(rows) - 1 else { return }
        let up = cursor / Int(columns) - promptWidth / Int(columns)
        var out = "\u{1B}7" + (up > 0 ? "\u{1B}[\(up)A" : "") + "\r"
        if promptWidth % Int(columns) > 0 { out += "\u{1B}[\(promptWidth % Int(columns))C" }
        let isBuiltin = { (name: String) in
            if case .builtin? = interpreter?.value(named: name) { return true }
            return false
        }
        out += paint(line, style: style, isBuiltin: isBuiltin) + "\u{1B}8"
        fputs(out, rl_outstream)
        fflush(rl_outstream)
    }
}
