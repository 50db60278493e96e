/// `:help` for what is not a builtin: the keywords and the operators (the console's
/// commands and the user's own functions are `Sources/Console/CommandHelp.swift`).
extension Help {
    /// One help entry for a keyword or an operator, under each of its names.
    struct Entry {
        let names: [String]
        let usage: String
        let text: String
        /// A line of tx that runs.
        let example: String
    }

    /// Keywords and operators (docs/LANGUAGE.md §2, §4 and §5 say the same at length).
    static let language: [Entry] = [
        Entry(names: ["fn", "return"], usage: "fn name(a, b=2) = expr      fn name(a) { ...; last }      fn(x) = x * 2",
              text: """
                  Defines a function: one expression, or a block whose last line's value is
                  returned (return e leaves early, return alone gives none). Defaults may use
                  earlier parameters, and calls may name parameters: f(1, b=3). Functions see
                  the scope they were defined in; assigning a local of an enclosing function
                  updates it. fn(x) = ... without a name is a value. The comment lines right
                  above fn name(...) are what :help name shows.
                  """,
              example: "fn scaled(x, t=2) = x / t; scaled(6)"),
        Entry(names: ["if", "else"], usage: "if c { a } else if d { b } else { e }",
              text: """
                  An expression: its value is the taken branch's, none when no branch is taken.
                  c is a bool or a one-element tensor (nonzero is true); where(m, a, b) chooses
                  elementwise. tx has no c ? a : b.
                  """,
              example: "x = -3; if x < 0 { -x } else { x }"),
        Entry(names: ["for"], usage: "for x in items { ... }      for (i, x) in pairs { ... }      [e for x in xs]",
              text: """
                  Runs the block once per item: a range's numbers, a list's items, a tensor's
                  rows (its first axis), a string's characters, a record's keys. break leaves
                  the loop and continue goes on with the next item; Ctrl-C stops it.
                  for (i, x) in ... (or for i, x in ...) takes each item apart: a pair from
                  enumerate or zip, a list or a tensor row of that many items.
                  [e for x in items if c] is a comprehension: e for each item x for which c
                  holds (more for/if clauses may follow); x is its own. Its value follows the
                  rule of [1, 2, 3]: numbers or tensors of one shape make a tensor (gradients
                  flow through it), anything else a list.
                  """,
              example: "s = 0; for (i, x) in enumerate([3, 4]) { s += i * x }; s"),
        Entry(names: ["in", "not in"], usage: "x in items      x not in items      for x in items { ... }",
              text: """
                  Membership, at the level of == (and, like it, not chained): a substring of
                  a string, an item of a list (equal as == compares), a key of a record, a
                  number of a range; in a tensor, a number equal to some element (NumPy's
                  x in t) or a tensor equal to one of its rows. not in is its negation.
                  In for x in items, in names what the loop runs over (:help for).
                  """,
              example: "[\"ab\" in \"cab\", \"lr\" in {lr: 0.1}, 3 not in range(3)]"),
        Entry(names: ["while"], usage: "while c { ... }",
              text: """
                  Runs the block as long as c is true (a bool or a one-element tensor). break
                  leaves the loop and continue starts the next turn; Ctrl-C stops it.
                  """,
              example: "n = 1; while n < 100 { n *= 2 }; n"),
        Entry(names: ["break", "continue"], usage: "break      continue",
              text: """
                  Inside for and while: break leaves the innermost loop, continue goes on
                  with its next turn.
                  """,
              example: "for i in range(10) { if i == 3 { break } }; i"),
        Entry(names: ["true", "false"], usage: "true      false",
              text: "The two bools. In arithmetic with a tensor, true counts as 1, false as 0.",
              example: "[true, 3 > 4]"),
        Entry(names: ["none"], usage: "none",
              text: """
                  The absent value: what an if without a taken branch and a bare return
                  give, and the default of optional arguments (mask=none).
                  """,
              example: "f = fn() = none; f() == none"),
        Entry(names: ["@"], usage: "a @ b",
              text: """
                  The matrix product: [n, k] @ [k, m] gives [n, m]. A 1-D side is a vector
                  ([k] @ [k, m] gives [m]); leading axes are batch axes and broadcast
                  ([b, n, k] @ [k, m]). It runs on BLAS sgemm, and views such as K' go to it
                  with a transpose flag instead of a copy.
                  """,
              example: "[[1, 2], [3, 4]] @ [1, 1]"),
        Entry(names: ["'"], usage: "x'",
              text: """
                  Swaps the last two axes, as a view (no copy); on a 1-D or 0-d tensor it
                  changes nothing. NumPy's x.T, MATLAB's x.'.
                  """,
              example: "shape(zeros(2, 3)')"),
        Entry(names: ["^"], usage: "x ^ y",
              text: """
                  The power, elementwise with broadcasting (Python's **, Julia's .^). It binds
                  tighter than unary minus (-2^2 is -4) and is right-associative (2^3^2 is 512).
                  """,
              example: "[1, 2, 3] ^ 2"),
        Entry(names: ["*", "/"], usage: "a * b      a / b",
              text: """
                  Elementwise product and division, with NumPy broadcasting: shapes align at
                  their last axes, and an axis of size 1 stretches. 1 / 0 is inf. The matrix
                  product is @. A string or a list that is not a tensor times a whole number
                  repeats, as in Python: "ab" * 3 is "ababab" ([1, 2] * 2 is a tensor: [2, 4]).
                  """,
              example: "[[1, 2], [3, 4]] * [10, 100]"),
        Entry(names: ["//", "%"], usage: "a // b      a % b",
              text: """
                  Floor division and its remainder, as in Python and NumPy: -7 // 2 is -4
                  and -7 % 3 is 2.
                  """,
              example: "[-7 // 2, -7 % 3]"),
        Entry(names: ["+", "-"], usage: "a + b      a - b      -a",
              text: """
                  Elementwise sum and difference with broadcasting, and negation; + also
                  joins two strings or two lists.
                  """,
              example: "\"tx\" + \"!\""),
        Entry(names: ["==", "!=", "<", "<=", ">", ">="], usage: "a == b   a != b   a < b   a <= b   a > b   a >= b",
              text: """
                  Comparisons: elementwise on tensors, giving a mask (x[x > 0] selects with it);
                  == and != compare any two values (lists and records by content), < and the
                  others numbers, tensors and strings. They do not chain: write a < b && b < c.
                  """,
              example: "[1, 5, 3] > 2"),
        Entry(names: ["&&", "||", "!"], usage: "a && b      a || b      !a",
              text: """
                  And, or, not: on bools (&& and || skip the right side when the left decides),
                  and elementwise on masks and tensors. In the REPL !ls is not a shell command
                  (that is :sh ls).
                  """,
              example: "!(1 > 2) && true"),
        Entry(names: ["=", "+=", "-=", "*=", "/="], usage: "x = e      x += e      r.f = e      x[i, :] = e",
              text: """
                  Assignment: binds a name, sets a record's field or writes into a tensor
                  through an index (in place, broadcasting). x += e is x = x + e, with the
                  parts of x evaluated once.
                  """,
              example: "x = zeros(2, 3); x[0, :] = 1; x"),
        Entry(names: ["[", "]", ":"], usage: "x[i]   x[i, j]   x[a:b:step]   x[ids]   x[mask]   [1, 2, 3]",
              text: """
                  Indexing: integers pick (negative count from the end), slices a:b:step give
                  views, a tensor of integers gathers, a mask selects. Brackets also write
                  lists, and a list of numbers (or of tensors of one shape) is a tensor.
                  """,
              example: "x = [[1, 2, 3], [4, 5, 6]]; x[:, -1]"),
        Entry(names: ["."], usage: "r.name",
              text: """
                  A record's field (r["name"] too). Tensors have no fields: shape(x), not
                  x.shape; sum(x), not x.sum().
                  """,
              example: "r = {a: 1, b: 2}; r.b"),
        Entry(names: ["#", ";"], usage: "# comment      a; b      x = f();",
              text: """
                  # starts a comment that runs to the end of the line. ; separates statements
                  on one line, and ends a statement whose value should not be shown.
                  """,
              example: "x = 2; x * 3  # shows 6"),
    ]

    /// The help of a keyword or operator.
    static func languageTopic(_ name: String) -> String? {
        guard let entry = language.first(where: { $0.names.contains(name) }) else { return nil }
        return "\(entry.usage)\n" + indented(entry.text) + "\n  example: \(entry.example)\n"
    }

    private static func indented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
    }
}
