import Interpreter

/// The console's `:help`: the overview (the commands, then the language's index), and
/// `:help NAME` for a command, a function of the user's, a variable, or what the
/// language's `Help.entry` explains.
extension Help {
    public static func overview(_ interpreter: Interpreter) -> String {
        var out = """
            tx: type formulas, get tensors. Examples:
              x = randn(4, 8); W = randn(8, 8)
              a = softmax(x @ W @ x' / sqrt(8), axis=-1)


            """
        for command in Command.all {
            let usage = command.name + (command.argument.isEmpty ? "" : " " + command.argument)
            out += "  " + usage + String(repeating: " ", count: max(1, 20 - usage.count)) + command.summary + "\n"
        }
        out += """
              ?NAME, NAME? and help(NAME) are :help NAME, whos and who are :vars, exit
              and quit leave. ans is the last value shown. :help NAME also explains
              your functions, keywords (for), operators (@) and commands (:time).
              Tab completes what may stand there: names, axis= inside softmax(...),
              fields (p.attn.W), files after :load and :step and in strings; \\alpha
              Tab gives α, in strings too.
              Up and Down find earlier inputs that start with what is typed, and move
              between the lines of a block; Ctrl-X Ctrl-E edits the input in $EDITOR;
              Ctrl-D on a ...> line drops the unfinished input. NO_COLOR=1 turns
              colour off.
              Ctrl-C stops a running computation (a product, elementwise function or
              reduction of any size too) within a fraction of a second; the
              interrupted statement assigns nothing.

            """
        return out + index(interpreter)
    }

    /// Every name `:help NAME` knows: `syntax`, the constants, the builtins, the user's
    /// functions, the keywords, the operators and the commands.
    public static func topics(_ interpreter: Interpreter) -> [String] {
        let functions = interpreter.userVariables.filter { if case .function = $0.value { true } else { false } }.map(\.name)
        return ["syntax", "vars"] + constantNames + interpreter.builtinList.map(\.name) + functions
            + languageNames + Command.all.map(\.name)
    }

    /// The help of `name`; a function of the user's is shown with where it was defined,
    /// which for a REPL input is found among `inputs`.
    public static func topic(_ name: String, _ interpreter: Interpreter, inputs: [REPL.Input] = []) -> String? {
        switch name {
        case "syntax": return syntax
        case "vars": return vars
        default: break
        }
        if name.hasPrefix(":"), name.count > 1 { return commandTopic(name) }
        if case .function(let function)? = interpreter.value(named: name) {
            return functionTopic(name, function, inputs: inputs)
        }
        if let text = entry(name, interpreter) { return text }
        // `x?` for a variable of the user's: what it holds.
        if let value = interpreter.userVariables.first(where: { $0.name == name })?.value {
            return "\(name)\n  your variable: \(article(value.typeDescription)) (:vars shows it with the others)\n"
        }
        return commandTopic(":" + name)
    }

    static let vars = """
        :vars (also whos) lists your variables in the order they were defined: name,
          kind (tensor, mask, number, string, list, record, function), shape (or how
          many items, fields or characters), the bytes held, and the value on one line.
          Numbers, strings, lists and records are cut between items with … to fit the
          terminal's width (80 columns through a pipe). A tensor shows its elements as
          printing formats them when they fit: [-0.0190, -1.3559, -0.4037] or
          [[1, 2], [3, 4]]; a longer vector its first elements, … and its last:
          [0.2334, 1.6251, …, 0.1912]; a larger tensor of rank 2 or more nothing (its
          shape says it). Last comes the total memory held, each tensor's storage
          counted once however many variables share it.

        """

    /// `:help :time`: a command's usage, summary and details.
    static func commandTopic(_ name: String) -> String? {
        guard let command = Command.named(name) else { return nil }
        var out = command.name + (command.argument.isEmpty ? "" : " " + command.argument) + "\n  " + command.summary + "\n"
        if !command.aliases.isEmpty { out += "  (also " + command.aliases.joined(separator: ", ") + ")\n" }
        if !command.details.isEmpty { out += "\n" + indented(command.details) }
        return out
    }

    /// `:help f` for a function of the user's: its signature, where it was defined (the
    /// REPL's input number, or the file and line), and the comment lines right above the
    /// definition (for a definition typed alone, the comment-only inputs just before it).
    static func functionTopic(_ name: String, _ function: FunctionValue, inputs: [REPL.Input]) -> String {
        let signature = function.declaredName == name ? function.signature : "\(name) = \(function.signature)"
        let source = function.span.source
        let input = inputs.firstIndex { $0.source === source }
        let place = if let input, source.name.hasPrefix("<repl") {
            "in input \(inputs[input].number)"
        } else {
            "at \(source.name):\(source.line(at: function.span.start))"
        }
        var comments = function.comments
        if comments.isEmpty, let input, source.line(at: function.span.start) == source.firstLine {
            var i = input
            while !inputs[i].followsABlankLine, i > 0, inputs[i - 1].isCode, let lines = commentLines(inputs[i - 1].text) {
                comments = lines + comments
                i -= 1
            }
        }
        return "\(signature)\n  your function, defined \(place)\n" + (comments.isEmpty
            ? "  (no comment above it: # lines right above its definition become its help)\n"
            : "\n" + comments.map { "  " + $0 }.joined(separator: "\n") + "\n")
    }

    /// The text of an input that holds only comments, each line's `#` (and one space after
    /// it) removed; nil for any other input.
    private static func commentLines(_ text: String) -> [String]? {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("#") else { return nil }
            var comment = trimmed.dropFirst()
            if comment.hasPrefix(" ") { comment = comment.dropFirst() }
            lines.append(String(comment).trimmingTrailingSpaces)
        }
        return lines
    }

    private static func indented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
    }
}
