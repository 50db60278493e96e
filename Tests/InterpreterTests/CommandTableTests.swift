@testable import Console
import Interpreter
import Testing

// The REPL's `:commands` and the step prompt's commands are each one table
// (`Command.all`, `StepCommand.all`): dispatch, `:help`, `?` and completion read it. What
// the compiler cannot check is the manual: these tests catch a command missing from
// docs/REPL.md (or LANGUAGE.md), or a command the manual names that the table lacks.

private let folder = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")

/// The text of `file` from the line starting with `start` to the next blank line.
private func paragraph(_ file: String, from start: String) throws -> String {
    let text = try Runner.readSource(path: folder + "/" + file)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let first = try #require(lines.firstIndex { $0.hasPrefix(start) }, "\(file) has no line starting with \(start)")
    return lines[first...].prefix { !$0.allSatisfy { $0 == " " || $0 == "\t" } }.joined(separator: "\n")
}

/// The first word of each `code span` in `text`.
private func codeWords(_ text: String) -> [String] {
    text.split(separator: "`", omittingEmptySubsequences: false).enumerated()
        .filter { $0.offset % 2 == 1 }
        .compactMap { $0.element.split(separator: " ").first.map(String.init) }
}

@Test func everyREPLCommandIsInTheManualAndTheManualNamesNoOther() throws {
    let listed = codeWords(try paragraph("docs/REPL.md", from: "REPL commands:")).filter { $0.hasPrefix(":") }
    for name in listed {
        #expect(Command.named(name) != nil, "docs/REPL.md lists \(name), which is no command")
    }
    let language = try paragraph("docs/LANGUAGE.md", from: "- REPL commands:")
    for command in Command.all {
        #expect(listed.contains(command.name), "docs/REPL.md's list of REPL commands lacks \(command.name)")
        #expect(language.contains("`" + command.name), "docs/LANGUAGE.md's REPL commands lack \(command.name)")
    }
}

@Test func everyREPLCommandIsInHelpAndCompletion() {
    let interpreter = Interpreter(output: { _ in })
    let overview = Help.overview(interpreter)
    for command in Command.all {
        let usage = command.name + (command.argument.isEmpty ? "" : " " + command.argument)
        #expect(overview.contains("\n  " + usage + " "), "the :help overview lacks \(usage)")
        #expect(Help.topic(command.name, interpreter)?.hasPrefix(usage + "\n  " + command.summary) == true, "\(command.name)")
        for alias in command.aliases {
            #expect(Command.named(alias)?.name == command.name)
        }
    }
    #expect(Completion.candidates(for: ":", in: interpreter) == Command.all.map(\.name))
}

@Test func everyStepCommandIsInTheManualAndTheManualNamesNoOther() throws {
    let table = try paragraph("docs/REPL.md", from: "| type | to |")
    // The keys the table lists: the one-character code spans (`b`, `j 12`, `?`).
    let keys = table.split(separator: "\n").compactMap { $0.split(separator: "|").first }
        .flatMap { codeWords(String($0)) }.filter { $0.count == 1 }
    #expect(!keys.isEmpty)
    for key in keys {
        #expect(StepCommand.all.contains { $0.keys.contains(key) }, "docs/REPL.md lists the step key \(key), which is no command")
    }
    for command in StepCommand.all {
        #expect(keys.contains(command.keys[0]), "docs/REPL.md's step table lacks \(command.keys[0])")
    }
    // The colon forms the manual names are commands with a colon.
    let colons = codeWords(try paragraph("docs/REPL.md", from: "A variable's name shows the variable")).filter { $0.hasPrefix(":") }
    #expect(!colons.isEmpty)
    for word in colons {
        #expect(StepCommand.named(word + " 12", variables: []) != nil || StepCommand.named(word, variables: []) != nil,
                "docs/REPL.md names the step command \(word), which is none")
    }
}

@Test func everyStepCommandIsDispatchedAndListed() {
    let list = StepCommand.list(stepCount: 7)
    let help = Help.topic(":step", Interpreter(output: { _ in })) ?? ""
    for command in StepCommand.all {
        for key in command.keys {
            let typed = command.argument.isEmpty ? key : key + " 3"
            #expect(StepCommand.named(typed, variables: [])?.0.keys == command.keys, "\(typed)")
            #expect(StepCommand.named(typed, variables: [key]) == nil, "a variable \(key) hides \(typed)")
            #expect((StepCommand.named(":" + typed, variables: [key]) != nil) == command.takesColon, ":\(typed)")
        }
        if command.summary != nil {
            #expect(list.contains("\n  " + command.usage + " "), "? lacks \(command.usage)")
            #expect(help.contains("\n    " + command.usage + " "), ":help :step lacks \(command.usage)")
        }
    }
    #expect(list.contains("j N, jump N  go to step N (1 to 7)\n"))
}

@Test func everyBreakpointCommandIsAStepKeyListedAndInTheManual() throws {
    // Each is typed as a step command is, and means what the table says.
    for command in BreakpointCommand.all {
        guard let key = command.stepKey else { continue }
        let step = try #require(StepCommand.all.first { $0.keys[0] == key }, "breakpoint()'s \(key) is no step command")
        for typed in step.keys + (step.takesColon ? [":" + key] : []) {
            #expect(BreakpointCommand.named(typed)?.action == command.action, "\(typed)")
        }
    }
    #expect(BreakpointCommand.named("")?.action == .goOn(toEnd: false))
    // The step prompt's other commands are tx code at a breakpoint.
    #expect(BreakpointCommand.named("b") == nil && BreakpointCommand.named("j 3") == nil)
    // `?` lists each with its line, when stepping and in `tx FILE`.
    for stepping in [true, false] {
        let list = BreakpointCommand.list(stepping: stepping)
        for command in BreakpointCommand.all {
            guard let summary = stepping ? command.stepping : command.running else { continue }
            #expect(list.split(separator: "\n").contains { $0.hasPrefix("  ") && $0.contains(command.usage) && $0.hasSuffix(" " + summary) },
                    "? lacks \(command.usage): \(summary)")
        }
    }
    // The manual names the keys the table has, and no other.
    let keys = Set(BreakpointCommand.all.compactMap(\.stepKey))
    let manual = try paragraph("docs/REPL.md", from: "`breakpoint()` in a script")
    #expect(Set(codeWords(manual).filter { $0.count == 1 }) == keys, "\(manual)")
    let language = try paragraph("docs/LANGUAGE.md", from: "- `breakpoint()`")
    #expect(Set(codeWords(language).filter { $0.count == 1 }) == keys, "\(language)")
    for text in [manual, language] {
        #expect(text.contains("Enter"))
    }
}
