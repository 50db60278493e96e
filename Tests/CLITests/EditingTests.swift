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

/// `\alpha` Tab inside a string gives `α` there too, as in Julia (it completed file names,
/// found none and left `\alpha`, an unknown escape); the string stays open. Text in a
/// string that ends in no LaTeX name still completes as a file name, closing the string.
@Test func backslashAlphaTabInsideAStringGivesAlphaAndFilesStillComplete() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"],
                                      directory: repositoryRoot)
    #expect(terminal.wait(for: "tx> "))
    // (Without the completions `\a` would be an unknown escape.)
    terminal.type("s = \"angle \\alp\t, x\\_1\t\"; s\r")
    #expect(terminal.wait(for: "\n\"angle α, x₁\"\ntx> "), "\(terminal.text.suffix(300))")
    let typed = terminal.text.count
    terminal.type("p = \"examples/03_se\t; p\r")
    #expect(terminal.wait(for: "\n\"examples/03_self_attention.tx\"\ntx> ", after: typed), "\(terminal.text.suffix(300))")
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// A block taller than the screen (39 lines on 30 rows), recalled and edited on a line
/// that scrolled off the top: the screen shows the block's rows around the cursor, the
/// edit where it happens, and once entered the whole block as it ran. Readline, told of a
/// tall screen, moved the cursor up past the top row, where xterm stops it, and wrote
/// the edit and every later redraw on the wrong rows.
@Test func editingABlockTallerThanTheScreenShowsTheLinesBeingEdited() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"])
    #expect(terminal.wait(for: "tx> "))
    let body = (1...36).map { "  a = a + \($0)" }
    let block = ["fn f(a) {"] + body + ["  a", "}"]
    terminal.type("\u{1B}[200~" + block.joined(separator: "\n") + "\u{1B}[201~\r")
    #expect(terminal.wait(for: "  a\n}\ntx> "), "\(terminal.text.suffix(300))")
    terminal.type("f(0)\r")
    #expect(terminal.wait(for: "f(0)\n666\ntx> "))
    // Up twice: the block, the cursor after its `}` (row 38 of the block); 35 times Up:
    // its row 3, `  a = a + 3`, long gone from the screen; Ctrl-E and a 0 make it + 30.
    terminal.type("\u{1B}[A\u{1B}[A")
    #expect(waitForScreen(terminal) { $0.last == "}" })
    terminal.type(String(repeating: "\u{1B}[A", count: 35) + "\u{5}0")
    let edited = ["  a = a + 30"] + (4...32).map { "  a = a + \($0)" }
    #expect(waitForScreen(terminal) { $0 == edited }, "\(screen(terminal.output).joined(separator: "\n"))")
    // Down to the end of the block and back up: the rows follow the cursor.
    terminal.type(String(repeating: "\u{1B}[B", count: 35) + "\u{1B}[A")
    #expect(waitForScreen(terminal) { $0 == Array(block[9...]) }, "\(screen(terminal.output).joined(separator: "\n"))")
    let typed = terminal.text.count
    terminal.type("\r")
    #expect(terminal.wait(for: "tx> ", after: typed))
    terminal.type("f(0)\r")
    #expect(terminal.wait(for: "tx> f(0)\n693\ntx> ", after: typed), "\(terminal.text.suffix(300))")
    // The block as it ran stands whole in the output, and under it on the screen.
    let ran = (["tx> fn f(a) {"] + body.map { $0 == "  a = a + 3" ? "  a = a + 30" : $0 } + ["  a", "}", "tx> f(0)", "693"])
    #expect(String(terminal.text.dropFirst(typed)).contains(ran.joined(separator: "\n")), "\(terminal.text.dropFirst(typed))")
    #expect(Array(screen(terminal.output).suffix(6)) == ["  a = a + 36", "  a", "}", "tx> f(0)", "693", "tx>"],
            "\(screen(terminal.output).joined(separator: "\n"))")
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// Home and End keep to the line the cursor is on also where an inputrc binds them (as
/// Debian's /etc/inputrc does, ESC [1~ and ESC [4~): it was read after tx bound its
/// keys, and End went to the end of the whole block.
@Test func homeAndEndKeepToTheLineWhereTheInputrcBindsThem() throws {
    let inputrc = try temporaryScript("\"\\e[1~\": beginning-of-line\n\"\\e[4~\": end-of-line\n", name: "inputrc")
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1", "INPUTRC": inputrc])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("fn g(a) {\r")
    #expect(terminal.wait(for: "...> "))
    terminal.type("  a + 1\r}\r")
    #expect(terminal.wait(for: "...> }\ntx> "))
    // Up: the block; Up: its line `  a + 1`; End, 0: `  a + 10`; Home, `2 * `: the
    // line `2 *   a + 10` (at the start of the block it would not parse).
    terminal.type("\u{1B}[A\u{1B}[A\u{1B}[4~0\u{1B}[1~2 * \r")
    #expect(terminal.wait(for: "tx> "))
    let ran = terminal.text.count
    terminal.type("g(1)\r")
    #expect(terminal.wait(for: "g(1)\n12\ntx> ", after: ran), "\(terminal.text.suffix(300))")
    terminal.type("\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// A builtin's signature, shown when Tab completes it on a line of a block above its last,
/// goes under the whole block (it was written over the block's next line).
@Test func aSignatureShownInABlockGoesUnderTheBlock() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"])
    #expect(terminal.wait(for: "tx> "))
    terminal.type("fn g(a) {\r")
    #expect(terminal.wait(for: "...> "))
    terminal.type("  a + 1\r  a + 2\r}\r")
    #expect(terminal.wait(for: "...> }\ntx> "))
    terminal.type("\u{1B}[A\u{1B}[A\u{1B}[A\u{5} + softm\t")
    let shown = ["tx> fn g(a) {", "  a + 1 + softm", "  a + 2", "}", "softmax(x, axis=-1)", "tx> fn g(a) {", "  a + 1 + softmax", "  a + 2", "}"]
    #expect(waitForScreen(terminal) { $0.prefix(shown.count + 5).suffix(shown.count) == shown[...] },
            "\(screen(terminal.output).joined(separator: "\n"))")
    terminal.type("\u{3}\u{4}")
    #expect(terminal.exitStatus() == 0)
}

/// After the terminal shrinks (30 rows to 20), a block taller than it is drawn in the
/// rows it has: tx asked readline for the size, which readline learns only from a
/// SIGWINCH that comes while it handles a key, and drew 30 rows on 20.
@Test func aTallBlockIsDrawnInTheRowsLeftAfterAResize() throws {
    let terminal = try PseudoTerminal(environment: ["TX_HISTORY": try temporaryHistory(), "NO_COLOR": "1"])
    #expect(terminal.wait(for: "tx> "))
    let block = ["fn f(a) {"] + (1...36).map { "  a = a + \($0)" } + ["  a", "}"]
    terminal.type("\u{1B}[200~" + block.joined(separator: "\n") + "\u{1B}[201~\r")
    #expect(terminal.wait(for: "  a\n}\ntx> "))
    terminal.type("\u{1B}[A")
    #expect(waitForScreen(terminal) { $0.last == "}" })
    terminal.resize(rows: 20, columns: 100)
    // What is drawn from here on, on a screen of 20 rows: Up 25 times, to `  a = a + 13`,
    // and a 0 typed there.
    let resized = terminal.output.count
    terminal.type(String(repeating: "\u{1B}[A", count: 25) + "\u{5}0")
    let expected = ["  a = a + 130"] + (14...32).map { "  a = a + \($0)" }
    #expect(waitForScreen(terminal) { _ in screen(terminal.output.dropFirst(resized), rows: 20) == expected },
            "\(screen(terminal.output.dropFirst(resized), rows: 20).joined(separator: "\n"))")
    terminal.type("\u{3}\u{4}")
    #expect(terminal.exitStatus() == 0)
}
