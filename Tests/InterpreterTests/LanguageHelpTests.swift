import Console
import Interpreter
import Lang
import Testing

// :help of keywords, operators and REPL commands, and Julia's LaTeX completion (issue
// 21): each of these had no entry before.

@Test func helpOfAKeyword() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Help.topic("for", interpreter) == """
        for x in items { ... }      for (i, x) in pairs { ... }      [e for x in xs]
          Runs the block once per item: a range's numbers, a list's items, a tensor's
          rows (its first axis), a string's characters, a record's keys. break leaves
          the loop and continue goes on with the next item; Ctrl-C stops it.
          for (i, x) in ... (or for i, x in ...) takes each item apart: a pair from
          enumerate or zip, a list or a tensor row of that many items.
          [e for x in items if c] is a comprehension: e for each item x for which c
          holds (more for/if clauses may follow); x is its own. Its value follows the
          rule of [1, 2, 3]: numbers or tensors of one shape make a tensor (gradients
          flow through it), anything else a list.

          example: s = 0; for (i, x) in enumerate([3, 4]) { s += i * x }; s

        """)
    // in is an operator of its own now (x in xs), and its help says so.
    #expect(Help.topic("in", interpreter)?.hasPrefix("x in items      x not in items      for x in items { ... }\n") == true)
    #expect(Help.topic("not in", interpreter) == Help.topic("in", interpreter))
    #expect(Help.topic("if", interpreter)?.hasPrefix("if c { a } else if d { b } else { e }\n") == true)
}

@Test func helpOfAnOperator() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Help.topic("@", interpreter) == """
        a @ b
          The matrix product: [n, k] @ [k, m] gives [n, m]. A 1-D side is a vector
          ([k] @ [k, m] gives [m]); leading axes are batch axes and broadcast
          ([b, n, k] @ [k, m]). It runs on BLAS sgemm, and views such as K' go to it
          with a transpose flag instead of a copy.

          example: [[1, 2], [3, 4]] @ [1, 1]

        """)
    #expect(Help.topic("'", interpreter) == """
        x'
          Swaps the last two axes, as a view (no copy); on a 1-D or 0-d tensor it
          changes nothing. NumPy's x.T, MATLAB's x.'.

          example: shape(zeros(2, 3)')

        """)
    #expect(Help.topic("^", interpreter)?.hasPrefix("x ^ y\n  The power, elementwise with broadcasting (Python's **, Julia's .^).") == true)
}

@Test func helpOfACommand() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Help.topic(":time", interpreter) == """
        :time EXPR
          time it as %timeit: best, median, GFLOP/s, memory

          Compiles EXPR once and runs it again and again for about half a second
          (once when one run takes longer), printing nothing, then shows one line:
          the best and the median time, the number of runs, the GFLOP/s of its
          matrix products and attention, and the most tensor memory it held at once.
          IPython's %timeit x and Julia's @time x are :time x here.

        """)
    // Without the colon too, and an alias names its command.
    #expect(Help.topic("history", interpreter) == Help.topic(":history", interpreter))
    #expect(Help.topic(":q", interpreter)?.hasPrefix(":quit\n  leave (or Ctrl-D)\n  (also :q, :exit)\n") == true)
    // :help completes the commands too.
    #expect(Completion.candidates(for: ":hi", before: ":help ", in: interpreter) == [":history"])
    for command in Command.all {
        #expect(Help.topic(command.name, interpreter)?.hasPrefix(command.name) == true, "\(command.name)")
    }
}

/// Every keyword and every operator of the lexer has an entry, whose example runs.
@Test func everyKeywordAndOperatorHasHelpWhoseExampleRuns() {
    let interpreter = Interpreter(output: { _ in })
    let symbols = "+ - * / // @ % ^ == != < <= > >= && || ! = += -= *= /= [ ] : . ' # ;".split(separator: " ").map(String.init)
    for name in Token.keywordTable.map(\.name) + symbols {
        let text = Help.topic(name, interpreter) ?? ""
        #expect(text.contains("\n  example: "), "\(name)")
        #expect(Help.topics(interpreter).contains(name), "\(name)")
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(name)")
        let example = text.split(separator: "\n  example: ").last.map { String($0.dropLast()) } ?? ""
        let (_, error) = runScript(example, name: "example of \(name)")
        #expect(error == nil, "\(name): \(example): \(error?.rendered() ?? "")")
    }
}

@Test func aLatexNameCompletesToItsSymbol() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Completion.candidates(for: "\\alpha", in: interpreter) == ["α"])
    #expect(Completion.candidates(for: "\\Omega", in: interpreter) == ["Ω"])
    #expect(Completion.candidates(for: "x\\_1", in: interpreter) == ["x₁"])
    #expect(Completion.candidates(for: "θ\\hat", in: interpreter) == ["θ̂"])
    #expect(Completion.candidates(for: "\\sqrt", in: interpreter) == ["√"])
    // A unique start is enough; a name that is whole wins over longer ones.
    #expect(Completion.candidates(for: "\\lamb", in: interpreter) == ["λ"])
    #expect(Completion.candidates(for: "\\in", in: interpreter) == ["∈"])
    #expect(Completion.candidates(for: "\\inf", in: interpreter) == ["∞"])
    #expect(Completion.candidates(for: "\\ps", in: interpreter) == ["ψ"])
    #expect(Completion.candidates(for: "\\va", in: interpreter) == ["\\varepsilon", "\\varphi", "\\varpi", "\\varrho", "\\varsigma", "\\vartheta"])
    #expect(Completion.candidates(for: "\\nosuch", in: interpreter) == [])
    // The names these give are names in tx.
    let (output, error) = runScript("α = 1; x₁ = 2; θ̂ = 3; α + x₁ + θ̂")
    #expect(error == nil && output == "6\n")
}

/// `not` is a name, but typed before `in` it is coloured as the keyword it forms with it.
@Test func notBeforeInIsHighlightedAsAKeyword() {
    let style = Style(enabled: true)
    let painted = Highlight.paint("a not in b; not", style: style, isBuiltin: { _ in false })
    #expect(painted == "a " + style.paint("not", .keyword) + " " + style.paint("in", .keyword) + " b; not")
}
