import Foundation
import Testing
import TestSupport

// The habits of IPython and Julia users in the REPL (issue 21), through a pipe: what
// they type does what they mean or gets a hint naming tx's spelling; :history, :save,
// :edit and :sh; :help of the user's own functions. Each of these failed before.

@Test func whoAndNameQuestionMarkAreVarsAndHelp() throws {
    let run = try tx([], input: "x = 2\nwho\nsqrt?\nx?\n")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out == """
        name  kind    shape  bytes  value
        x     number                2
        total: 0 B in 1 variable
        sqrt(x)
          The square root, elementwise. Numbers give numbers, tensors tensors.

          example: sqrt(8)
        x
          your variable: a number (:vars shows it with the others)

        """)
}

/// `!ls` is the negation of `ls` in tx: it keeps that meaning, and its error names :sh.
@Test func aShellEscapeGetsAHintAndNegationKeepsItsMeaning() throws {
    let run = try tx([], input: "!ls -la\nls = false\n!ls\n")
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: name error: unknown name 'ls'; a shell command is :sh ls -la\n  --> <stdin>:1:2\n"))
    #expect(run.out == "true\n")
}

@Test func shRunsAShellCommandAndShowsAFailingStatus() throws {
    let folder = NSTemporaryDirectory() + "tx-sh-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(FileManager.default.createFile(atPath: folder + "/data.csv", contents: Data("a,b\n".utf8)))
    let run = try tx([], input: ":sh ls \(folder)\n:sh exit 3\n1 + 1\n:sh\n")
    #expect(run.out == "data.csv\n2\n")
    #expect(run.err == "exit status 3\nerror: :sh needs a command, e.g. :sh ls\n")
}

/// The session's inputs, numbered: a block is one input, commands and failures count.
@Test func historyListsTheSessionsInputsNumbered() throws {
    let input = "x = 2\nfn f(a) {\n  a + 1\n}\nnope\n:vars\nf(x)\n:history\n:history 2 4-5\n:history 3-\n:history 9\n:history 2-x\n"
    let run = try tx([], input: input)
    #expect(run.out.hasSuffix("""
        3
        1  x = 2
        2  fn f(a) {
             a + 1
           }
        3  nope
        4  :vars
        5  f(x)
        2  fn f(a) {
             a + 1
           }
        4  :vars
        5  f(x)
        3  nope
        4  :vars
        5  f(x)
        6  :history
        7  :history 2 4-5

        """))
    #expect(run.err.contains("error: no input 9: this session has inputs 1 to 8\n"))
    #expect(run.err.contains("error: cannot read the range '2-x': write input numbers as 4, 3-7 or 3- (:history numbers them)\n"))
}

/// :save writes the inputs as a script that runs: without a range those that ran
/// without an error, never :commands; it replaces a file only as :save!.
@Test func saveWritesTheInputsAsAScriptAndReplacesOnlyWithABang() throws {
    let path = NSTemporaryDirectory() + "tx-save-\(getpid()).tx"
    defer { unlink(path) }
    unlink(path)
    let input = "# weights\nw = eye(2)\nnope\n:vars\nfn double(a) {\n  a * 2\n}\ndouble(w)\n:save \(path)\n:save \(path) 2\n"
    let run = try tx([], input: input)
    #expect(run.out.hasSuffix("wrote 4 inputs (6 lines) to \(path)\n"))
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "# weights\nw = eye(2)\nfn double(a) {\n  a * 2\n}\ndouble(w)\n")
    #expect(run.err.contains("error: \(path) exists; :save! \(path) 2 replaces it\n"))
    let script = try tx([path])
    #expect(script.status == 0)
    #expect(script.out == "tensor [2, 2]\n[[2, 0],\n [0, 2]]\n")

    let again = try tx([], input: "a = 1\nb = 2\nnope\n:save! \(path) 2-3\n:save! \(path) 4\n")
    #expect(again.out == "wrote 2 inputs (2 lines) to \(path)\n")
    #expect(again.err.contains("error: nothing to save: inputs 4 hold only :commands\n"))
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "b = 2\nnope\n")
}

/// :edit opens the last input (or input N) in $EDITOR and runs what the editor left;
/// an editor that fails runs nothing.
@Test func editRunsWhatTheEditorLeft() throws {
    let editor = try temporaryScript("#!/bin/sh\nsed -i 's/a + 1/a + 100/' \"$1\"\n", name: "editor.sh")
    chmod(editor, 0o755)
    let failing = try temporaryScript("#!/bin/sh\nexit 4\n", name: "failing.sh")
    chmod(failing, 0o755)
    let input = "fn f(a) {\n  a + 1\n}\nf(1)\n:edit 1\nf(1)\n:edit\n:history\n"
    let run = try tx([], input: input, environment: ["EDITOR": editor, "VISUAL": ""])
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out == """
        2
        101
        101
        1  fn f(a) {
             a + 1
           }
        2  f(1)
        3  :edit 1
        4  fn f(a) {
             a + 100
           }
        5  f(1)
        6  :edit
        7  f(1)

        """)
    let failed = try tx([], input: "x = 1\n:edit\nx\n", environment: ["EDITOR": failing, "VISUAL": ""])
    #expect(failed.out == "1\n")
    #expect(failed.err == "error: the editor (\(failing)) exited with status 4; nothing was run\n")
}

/// :help of the user's function: its signature, where it was defined, and the comment
/// lines right above it (in a pipe each line is an input of its own).
@Test func helpOfAUserFunctionShowsWhereAndItsComments() throws {
    let input = """
        # Attention weights of q against k.
        # q, k: [n, d]
        fn weights(q, k) = softmax(q @ k', axis=-1)

        # unrelated

        fn plain(a, b=2) {
          a * b
        }
        # Halves x.
        scale = fn(x) = x / 2
        :help weights
        :help plain
        :help scale
        :help wieghts

        """
    let run = try tx([], input: input)
    #expect(run.out == """
        weights(q, k)
          your function, defined at <stdin>:3

          Attention weights of q against k.
          q, k: [n, d]
        plain(a, b=2)
          your function, defined at <stdin>:7
          (no comment above it: # lines right above its definition become its help)
        scale = fn(x)
          your function, defined at <stdin>:11

          Halves x.

        """)
    #expect(run.err == "error: no help for 'wieghts' (did you mean 'weights'?)\n")
}

/// A function from a file: the file and line, and the comment block in the file.
@Test func helpOfAFunctionFromAFileNamesTheFileAndLine() throws {
    let path = try temporaryScript("x = 1\n\n# Doubles a.\n# (any shape)\nfn double(a) = a * 2\n", name: "lib.tx")
    let run = try tx([], input: ":load \(path)\n:help double\n")
    #expect(run.out == "double(a)\n  your function, defined at \(path):5\n\n  Doubles a.\n  (any shape)\n")
}

/// Mutated habit lines (f-strings with stray braces, colons and conversions, %magics,
/// @macros, dotted operators, `?`, ranges for :history and :save, help topics) through
/// one piped session: each ends in output or an error, and the session survives. The
/// hints read the text around an error, and the ranges are a small parser of their own.
@Test func habitLinesThroughTX() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let seeds = [
        "f\"loss {x:.3f} at {y!r:>8} {{}}\"", "f\"{x=}\"", "f\"{x[1:2]}\"", "f\"{\"", "f\"}{\"", "%timeit -n 10 x @ x",
        "%%time", "@time x", "@. x + 1", "@", "%", "x ** 2", "x .^ 2", "f.(x)", "x.'", "softmax?", "c ? a : b", "_",
        "x.sum()", "!ls -la", "who", ":history 3-", ":history 2-1", ":history ,-,", ":save \(folder)/s.tx 1-3 x",
        ":help :", ":help '", ":help \\", "?", "??", ":sh true", "\\alpha",
    ]
    var random = Seeded(state: 34)
    let alphabet = Array("{}[]():!=%@.^*?\"'\\-, 0123456789xf_:")
    try fuzz("habit lines", in: folder, expectedError: "error") { n in
        var line = Array(random.pick(seeds))
        // Commands that write or run something are kept as they are.
        let fixed = line.starts(with: Array(":save")) || line.starts(with: Array(":sh"))
        for _ in 0..<(fixed ? 0 : random.below(4)) {
            let at = random.below(line.count + 1)
            switch random.below(3) {
            case 0: line.insert(random.pick(alphabet), at: at)
            case 1: if at < line.count { line.remove(at: at) }
            default: if at < line.count { line[at] = random.pick(alphabet) }
            }
        }
        return n == 0 ? "x = ones(2, 2); y = 1; c = true; a = 1; b = 2" : complete(String(line))
    }
}

/// `line` made a whole input: the brackets it leaves open closed and a `;` after it
/// (so that a trailing operator or an open block does not swallow the next line).
private func complete(_ line: String) -> String {
    var open: [Character] = [], inString = false, escaped = false
    for c in line {
        if inString {
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
        } else if c == "\"" {
            inString = true
        } else if let close = (["(": ")", "[": "]", "{": "}"] as [Character: Character])[c] {
            open.append(close)
        } else if [")", "]", "}"].contains(c), open.last == c {
            open.removeLast()
        }
    }
    return line + (inString ? "\"" : "") + String(open.reversed()) + ";"
}
