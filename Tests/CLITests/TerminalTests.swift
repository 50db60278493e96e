import Foundation
import Testing

// The REPL on a pseudo-terminal, driven by typed keys.

/// A history file of its own for each session, so tests do not share one.
func temporaryHistory() throws -> String {
    try temporaryScript("", name: "history")
}

@Test func colourOnATerminal() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory()])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("zeros(2, 2)\rnope\r:quit\r")
    #expect(terminal.exitStatus() == 0)
    let screen = String(decoding: terminal.output, as: UTF8.self)
    // The prompt, the tensor's header, the error's label and its caret.
    #expect(screen.contains("\u{1B}[1;32mtx> \u{1B}[0m"))
    #expect(screen.contains("\u{1B}[2;36mtensor [2, 2]\u{1B}[0m\r\n[[0, 0],"))
    #expect(screen.contains("\u{1B}[1;31merror:\u{1B}[0m \u{1B}[1mname error:\u{1B}[0m unknown name 'nope'"))
    #expect(screen.contains("\u{1B}[1;31m^^^^\u{1B}[0m"))
}

@Test(arguments: [["NO_COLOR": "1"], ["TERM": "dumb"]])
func noColourWithNoColorOrADumbTerminal(environment: [String: String]) throws {
    let terminal = try PseudoTerminal(environment: environment.merging(["TX_HISTORY": try temporaryHistory()]) { a, _ in a })
    #expect(terminal.wait(for: "tx> "))
    terminal.type("zeros(2, 2)\rnope\r:quit\r")
    #expect(terminal.exitStatus() == 0)
    let screen = String(decoding: terminal.output, as: UTF8.self)
    #expect(!screen.contains("\u{1B}[1;32m") && !screen.contains("\u{1B}[0m") && !screen.contains("\u{1B}[2;36m"))
    #expect(screen.contains("tensor [2, 2]\r\n[[0, 0],"))
    #expect(screen.contains("error: name error: unknown name 'nope'"))
}
