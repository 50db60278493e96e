@preconcurrency import CReadline
@preconcurrency import Glibc

/// Tab completion in the REPL: builtins, variables and keywords; record fields after
/// `name.` (`p.layers[0].at` is not followed, `p.la` is); file paths inside a string
/// (a unique file match also closes the string) and after `:load` and `:step`.
public enum Completion {
    /// Candidates for `word`, given what comes before it on the line.
    public static func candidates(for word: String, in interpreter: Interpreter) -> [String] {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, let last = parts.last {
            // Walk the record fields named before the last dot.
            guard var value = interpreter.value(named: parts[0]) else { return [] }
            for part in parts.dropFirst().dropLast() {
                guard case .record(let r) = value, let next = r[part] else { return [] }
                value = next
            }
            guard case .record(let record) = value else { return [] }
            let prefix = parts.dropLast().joined(separator: ".") + "."
            return record.keys.filter { $0.hasPrefix(last) }.map { prefix + $0 }.sorted()
        }
        let keywords = ["fn", "if", "else", "for", "in", "while", "break", "continue", "return", "true", "false", "none"]
        let commands = [":help", ":vars", ":time", ":load", ":step", ":reset", ":quit"]
        let names = Set(interpreter.definedNames + keywords + commands)
        return names.filter { $0.hasPrefix(word) }.sorted()
    }

    /// Whether the word after `before` is a file name: inside a string, or the argument
    /// of `:load` or `:step`.
    public static func completesFileNames(before: String, insideString: Bool) -> Bool {
        let command = before.drop(while: { $0 == " " })
        return insideString || command.hasPrefix(":load ") || command.hasPrefix(":step ")
    }

    nonisolated(unsafe) private static var interpreter: Interpreter?
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var next = 0

    /// Installs completion for `interpreter` in GNU readline.
    public static func install(for interpreter: Interpreter) {
        Completion.interpreter = interpreter
        // '.' and ':' stay inside words, so that fields and commands complete.
        rl_completer_word_break_characters = UnsafePointer(strdup(" \t\n\"\\'`@$><=;|&{(,+-*/^%![]"))
        // Readline then knows when the word is inside a string, and closes the string
        // after a unique file match.
        rl_completer_quote_characters = UnsafePointer(strdup("\""))
        rl_attempted_completion_function = { text, start, _ in
            guard let text else { return nil }
            // Inside a string, or the argument of :load and :step: file names
            // (readline's own completion; directories get a '/').
            let line = rl_line_buffer.map { String(cString: $0) } ?? ""
            let before = String(decoding: line.utf8.prefix(Int(start)), as: UTF8.self)
            if Completion.completesFileNames(before: before, insideString: rl_completion_quote_character != 0) {
                rl_completion_append_character = rl_completion_quote_character != 0 ? 0 : 32
                return nil
            }
            rl_attempted_completion_over = 1
            rl_completion_append_character = 0
            guard let interpreter = Completion.interpreter else { return nil }
            Completion.matches = Completion.candidates(for: String(cString: text), in: interpreter)
            Completion.next = 0
            return rl_completion_matches(text) { _, _ in
                guard Completion.next < Completion.matches.count else { return nil }
                defer { Completion.next += 1 }
                return strdup(Completion.matches[Completion.next])
            }
        }
    }
}
