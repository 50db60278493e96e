import Foundation
import Testing

// Editing at the terminal (issue 21): moving between the lines of a recalled block,
// the input in $EDITOR (Ctrl-X Ctrl-E, :edit), and LaTeX names completed to symbols.
// Each of these failed before.

/// An editor for the tests: replaces every 1 with a 7 in the file it is given.
private func sevensEditor() throws -> String {
    let path = try temporaryScript("#!/bin/sh\nsed -i 's/1/7/g' \"$1\"\n", name: "editor.sh")
    chmod(path, 0o755)
    return path
}

/// Up brings a block back whole with the cursor on its last line; Up again moves to the
/// line above (it used to recall an older input), End goes to the end of that line, and
/// the edited block runs.
@Test func upAndDownMoveBetweenTheLinesOfARecalledBlock() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("fn f(a) {\r")
    #expect(terminal.wait(for: "...> "))
    terminal.type("  b = a + 1\r  b * 2\r}\r")
    #expect(terminal.wait(for: "...> }\ntx> "))
    terminal.type("x = 5\r")
    #expect(terminal.wait(for: "x = 5\ntx> "))
    // Up: x = 5; Up: the block, the cursor after its `}`; Up: the line `  b * 2`;
    // Up and Down: there again; End, and a 0 typed makes it `  b * 20`.
    terminal.type("\u{1B}[A")
    #expect(terminal.wait(for: "tx> x = 5"))
    let shown = terminal.text.count
    terminal.type("\u{1B}[A")
    #expect(terminal.wait(for: "b * 2", after: shown))
    terminal.type("\u{1B}[A\u{1B}[A\u{1B}[B\u{5}0\r")
    #expect(terminal.wait(for: "tx> "))
    let ran = terminal.text.count
    terminal.type("f(1)\r")
    #expect(terminal.wait(for: "f(1)\n40\ntx> ", after: ran), "\(terminal.text.suffix(400))")
    // Down on the last line of a block goes on to newer inputs.
    let before = terminal.text.count
    terminal.type("\u{1B}[A\u{1B}[A\u{1B}[B")
    #expect(terminal.wait(for: "f(1)", after: before))
    terminal.type("\r")
    #expect(terminal.wait(for: "40\ntx> ", after: before))
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// Ctrl-X Ctrl-E opens the line being typed in $EDITOR and runs what it leaves; on an
/// empty line it opens the last input.
@Test func ctrlXCtrlEEditsTheInputInTheEditorAndRunsIt() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1",
                                                    "EDITOR": try sevensEditor(), "VISUAL": ""])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("x = 1 + 1\u{18}\u{5}")
    #expect(terminal.wait(for: "tx> x = 7 + 7\n"))
    terminal.type("x\r")
    #expect(terminal.wait(for: "tx> x\n14\ntx> "))
    terminal.type("x * 10 + 1\r")
    #expect(terminal.wait(for: "tx> x * 10 + 1\n141\ntx> "))
    terminal.type("\u{18}\u{5}")
    #expect(terminal.wait(for: "tx> x * 70 + 7\n987\ntx> "))
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// :edit runs the edited input, shown as if typed, and Up finds it.
@Test func editShowsAndRemembersWhatItRuns() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1",
                                                    "EDITOR": try sevensEditor(), "VISUAL": ""])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("y = 1; y\r")
    #expect(terminal.wait(for: "1\ntx> "))
    terminal.type(":edit\r")
    #expect(terminal.wait(for: "tx> :edit\ntx> y = 7; y\n7\ntx> "))
    let shown = terminal.text.count
    terminal.type("\u{1B}[A")
    #expect(terminal.wait(for: "y = 7; y", after: shown))
    terminal.type("\u{15}\u{4}")
    #expect(terminal.exitStatus() == 0)
}

@Test func backslashAlphaTabGivesAlpha() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"])
    #expect(terminal.wait(for: "tx> "))
    // Without the completions the line would not parse.
    terminal.type("\\alpha\t = 2; x\\_1\t = 3; \\alp\t * 10 + x\\_1\t\r")
    #expect(terminal.wait(for: "\n23\ntx> "))
    terminal.type(":vars\r")
    #expect(terminal.wait(for: "x₁    number                3\n"))
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}
