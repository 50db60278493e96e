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
    // So it does after an edit of the block (a space after its `}`): Down on its last
    // line used to search for inputs starting with the whole block, and found none.
    let edited = terminal.text.count
    terminal.type("\u{1B}[A\u{1B}[A \u{1B}[B")
    #expect(terminal.wait(for: "f(1)", after: edited))
    terminal.type("\r")
    #expect(terminal.wait(for: "40\ntx> ", after: edited))
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

/// At a `...>` prompt Ctrl-X Ctrl-E opens the whole input being typed, its earlier lines
/// too, and what the editor leaves replaces that input (it opened only the current line:
/// the function kept its old name).
@Test func ctrlXCtrlEAtAContinuationPromptEditsTheWholeBlock() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1",
                                                    "EDITOR": try sevensEditor(), "VISUAL": ""])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("fn g1(a) {\r")
    #expect(terminal.wait(for: "...> "))
    terminal.type("  a + 1\u{18}\u{5}")
    // Still unfinished: the block as edited, and the prompt for its next line.
    #expect(terminal.wait(for: "fn g7(a) {\n  a + 7\n...> "), "\(terminal.text.suffix(300))")
    terminal.type("}\r")
    #expect(terminal.wait(for: "...> }\ntx> "))
    let ran = terminal.text.count
    terminal.type("g7(1)\r")
    #expect(terminal.wait(for: "g7(1)\n8\ntx> ", after: ran), "\(terminal.text.suffix(300))")
    // The history holds the block as it ran.
    let shown = terminal.text.count
    terminal.type("\u{1B}[A\u{1B}[A")
    #expect(terminal.wait(for: "  a + 7\n}", after: shown), "\(terminal.text.suffix(300))")
    terminal.type("\u{3}\u{4}")
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
    #expect(terminal.wait(for: "x₁    number                3\ntotal: 0 B in 2 variables\ntx> "))
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// What a terminal of `rows` x `columns` shows after `output`: enough of a VT100 for
/// readline's and tx's drawing (cursor moves, erasing, inserting and deleting
/// characters, saving the cursor; colours ignored), one cell per character.
private func screen(_ output: Data, rows: Int = 30, columns: Int = 100) -> [String] {
    var cells = Array(repeating: Array(repeating: Character(" "), count: columns), count: rows)
    var row = 0, column = 0, saved = (0, 0)
    let characters = Array(String(decoding: output, as: UTF8.self).unicodeScalars.map(Character.init))
    func lineFeed() {
        if row == rows - 1 { cells.removeFirst(); cells.append(Array(repeating: " ", count: columns)) } else { row += 1 }
    }
    var i = 0
    while i < characters.count {
        let c = characters[i]
        i += 1
        switch c {
        case "\r": column = 0
        case "\n": lineFeed()
        case "\u{8}": column = max(0, column - 1)
        case "\u{7}", "\u{1}", "\u{2}": break
        case "\u{1B}":
            guard i < characters.count else { break }
            let kind = characters[i]
            i += 1
            if kind == "7" { saved = (row, column) } else if kind == "8" { (row, column) = saved }
            guard kind == "[" else { break }
            var parameters = ""
            while i < characters.count, characters[i].isNumber || characters[i] == ";" || characters[i] == "?" {
                parameters.append(characters[i])
                i += 1
            }
            guard i < characters.count else { break }
            let final = characters[i]
            i += 1
            let numbers = parameters.split(separator: ";").compactMap { Int($0) }
            let n = max(1, numbers.first ?? 1)
            switch final {
            case "A": row = max(0, row - n)
            case "B": row = min(rows - 1, row + n)
            case "C": column = min(columns - 1, column + n)
            case "D": column = max(0, column - n)
            case "G": column = min(columns - 1, n - 1)
            case "H": (row, column) = (min(rows, max(1, numbers.first ?? 1)) - 1, min(columns, max(1, numbers.count > 1 ? numbers[1] : 1)) - 1)
            case "K": for k in column..<columns { cells[row][k] = " " }
            case "J":
                for k in column..<columns { cells[row][k] = " " }
                for r in (row + 1)..<rows { cells[r] = Array(repeating: " ", count: columns) }
            case "P":
                cells[row].removeSubrange(column..<min(columns, column + n))
                cells[row] += Array(repeating: " ", count: columns - cells[row].count)
            case "@":
                cells[row].insert(contentsOf: Array(repeating: " ", count: n), at: column)
                cells[row].removeLast(n)
            default: break
            }
        default:
            if column == columns { column = 0; lineFeed() }
            cells[row][column] = c
            column += 1
        }
    }
    return cells.map { line in String(line[..<(line.lastIndex { $0 != " " }.map { $0 + 1 } ?? 0)]) }
}

/// Reads until what `terminal` shows satisfies `found` (true), or 90 seconds pass or tx
/// exits (false).
private func waitForScreen(_ terminal: PseudoTerminal, _ found: ([String]) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(90)
    while Date() < deadline {
        if found(screen(terminal.output)) { return true }
        guard terminal.readAvailable(milliseconds: 50) else { break }
    }
    return found(screen(terminal.output))
}

/// Ctrl-R finds a block; leaving the search (Ctrl-G), taking its match to edit (Right)
/// or running it (Enter) leaves the prompt and the block on the screen and no part of
/// the search prompt, with colour on (readline used to leave "earch)`b': " after "tx> ").
@Test(arguments: ["\u{7}", "\u{1B}[C", "\r"])
func ctrlROverABlockLeavesNoJunkWithColour(key: String) throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory()])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("fn f(a) {\r")
    #expect(terminal.wait(for: "...> "))
    terminal.type("  b = a + 1\r  b * 2\r}\r")
    #expect(terminal.wait(for: "}\ntx> "))
    terminal.type("f(1)\r")
    #expect(terminal.wait(for: "4\ntx> "))
    terminal.type("\u{12}b")
    #expect(waitForScreen(terminal) { $0.contains("(reverse-i-search)`b': fn f(a) {") })
    let searched = terminal.text.count
    terminal.type(key + (key == "\r" ? "" : "\u{15}\u{B}") + "f(2)\r")
    #expect(terminal.wait(for: "6\ntx> ", after: searched))
    let shown = screen(terminal.output)
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
    #expect(!shown.contains { $0.contains("earch)") }, "\(shown.joined(separator: "\n"))")
    let last = try #require(shown.lastIndex { $0.hasPrefix("tx> f(2)") })
    if key == "\r" {
        // The block ran again: it stands whole above f(2).
        #expect(Array(shown[(last - 4)..<last]) == ["tx> fn f(a) {", "  b = a + 1", "  b * 2", "}"], "\(shown.joined(separator: "\n"))")
    } else {
        // Ctrl-G: the empty line; Right: the block, then cut (Ctrl-U Ctrl-K): the prompt's
        // row holds f(2) alone.
        #expect(shown[last] == "tx> f(2)", "\(shown.joined(separator: "\n"))")
    }
}

/// A paste taller than the screen (42 lines on 30 rows) is echoed line under line; the
/// lines past the screen's last row used to be written over one another on that row.
@Test func aPasteTallerThanTheScreenIsEchoedWhole() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"])
    #expect(terminal.wait(for: "tx> "))
    let lines = ["x = ["] + (0..<40).map { "  \($0)," } + ["]"]
    terminal.type("\u{1B}[200~" + lines.joined(separator: "\n") + "\u{1B}[201~")
    #expect(terminal.wait(for: "  39,\n]"), "\(terminal.text.suffix(200).debugDescription)")
    terminal.type("\rsum(x)\r")
    #expect(terminal.wait(for: "tx> sum(x)\ntensor(780)\ntx> "))
    let shown = screen(terminal.output)
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
    let end = try #require(shown.firstIndex { $0 == "tx> sum(x)" })
    #expect(Array(shown[(end - 12)..<end]) == (29..<40).map { "  \($0)," } + ["]"], "\(shown.joined(separator: "\n"))")
}
