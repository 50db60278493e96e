import Lang
import Testing

/// The tree as an S-expression, to check a parse at a glance.
func sexp(_ e: Expr) -> String {
    switch e.kind {
    case .number(let x): return x == x.rounded() ? String(Int(x)) : String(x)
    case .string(let s): return "\"\(s)\""
    case .bool(let b): return b ? "true" : "false"
    case .none: return "none"
    case .name(let n): return n
    case .list(let items): return "[" + items.map(sexp).joined(separator: " ") + "]"
    case .record(let entries): return "{" + entries.map { "\($0.key):\(sexp($0.value))" }.joined(separator: " ") + "}"
    case .unary(let op, let x): return "(\(op.rawValue) \(sexp(x)))"
    case .binary(let op, let l, let r): return "(\(op.rawValue) \(sexp(l)) \(sexp(r)))"
    case .logical(let op, let l, let r): return "(\(op.rawValue) \(sexp(l)) \(sexp(r)))"
    case .call(let callee, let args):
        return "(call \(sexp(callee))" + args.map { " " + ($0.label.map { "\($0)=" } ?? "") + sexp($0.value) }.joined() + ")"
    case .index(let target, let items):
        return "(index \(sexp(target))" + items.map { item -> String in
            switch item {
            case .single(let e): return " " + sexp(e)
            case .slice(let a, let b, let c, _): return " " + [a, b, c].map { $0.map(sexp) ?? "_" }.joined(separator: ":")
            case .ellipsis: return " ..."
            }
        }.joined() + ")"
    case .field(let x, let name): return "(. \(sexp(x)) \(name))"
    case .transpose(let x): return "(' \(sexp(x)))"
    case .ifElse(let c, let t, let o):
        return "(if \(sexp(c)) \(sexp(t))" + (o.map { " " + sexp($0) } ?? "") + ")"
    case .function(let decl): return sexp(decl)
    case .comprehension(let element, let clauses):
        return "(list-for \(sexp(element))" + clauses.map { clause in
            " (for \(sexp(clause.variables)) \(sexp(clause.iterable))" + clause.conditions.map { " (if \(sexp($0)))" }.joined() + ")"
        }.joined() + ")"
    }
}

/// A loop's names: `x`, or `(i x)` when it takes items apart.
func sexp(_ v: LoopVariables) -> String {
    v.destructures ? "(" + v.names.joined(separator: " ") + ")" : v.names[0]
}

/// Statements of a block, space-separated; a statement silenced by `;` shows it.
func sexp(_ b: Block) -> String { "{" + b.statements.map(sexp).joined(separator: " ") + "}" }

func sexp(_ d: FunctionDecl) -> String {
    let params = d.parameters.map { p in p.defaultValue.map { "\(p.name)=\(sexp($0))" } ?? p.name }.joined(separator: " ")
    let body: String
    switch d.body {
    case .expression(let e): body = sexp(e)
    case .block(let b): body = sexp(b)
    }
    return "(fn \(d.name ?? "_") (\(params)) \(body))"
}

func sexp(_ s: Stmt) -> String {
    let text: String
    switch s.kind {
    case .expression(let e): text = sexp(e)
    case .assign(let t, let v): text = "(= \(sexp(t)) \(sexp(v)))"
    case .compoundAssign(let op, let t, let v): text = "(\(op.rawValue)= \(sexp(t)) \(sexp(v)))"
    case .function(let d): text = sexp(d)
    case .forLoop(let v, let it, let body): text = "(for \(sexp(v)) \(sexp(it)) \(sexp(body)))"
    case .whileLoop(let c, let body): text = "(while \(sexp(c)) \(sexp(body)))"
    case .breakLoop: text = "break"
    case .continueLoop: text = "continue"
    case .returnValue(let e): text = "(return" + (e.map { " " + sexp($0) } ?? "") + ")"
    }
    return s.silenced ? text + ";" : text
}

func parse(_ text: String) throws -> [String] {
    try Parser.parse(Source(name: "t.tx", text: text)).statements.map(sexp)
}

func parseError(_ text: String) -> TxError? {
    do {
        _ = try Parser.parse(Source(name: "t.tx", text: text))
        return nil
    } catch {
        return error as? TxError
    }
}

@Test(arguments: [
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
    ("a - b - c", "(- (- a b) c)"),
    ("2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"),
    ("-x ^ 2", "(- (^ x 2))"),
    ("2 ^ -1", "(^ 2 (- 1))"),
    ("!a && b || c", "(|| (&& (! a) b) c)"),
    ("a == b + 1", "(== a (+ b 1))"),
    ("Q @ K' / sqrt(d)", "(/ (@ Q (' K)) (call sqrt d))"),
    ("a % b * c", "(* (% a b) c)"),
    ("x'' ", "(' (' x))"),
    ("softmax(e, axis=-1)", "(call softmax e axis=(- 1))"),
    ("f()", "(call f)"),
    ("x[i, j]", "(index x i j)"),
    ("x[1:3]", "(index x 1:3:_)"),
    ("x[:, -1]", "(index x _:_:_ (- 1))"),
    ("x[::2]", "(index x _:_:2)"),
    ("x[1:]", "(index x 1:_:_)"),
    ("x[..., 0]", "(index x ... 0)"),
    ("x[..., a:b]", "(index x ... a:b:_)"),
    ("x[i, ...]", "(index x i ...)"),
    ("x[...]", "(index x ...)"),
    ("x[0, ..., none]", "(index x 0 ... none)"),
    ("r.name.inner", "(. (. r name) inner)"),
    ("p.layers[0].attn.Wq", "(. (. (index (. p layers) 0) attn) Wq)"),
    ("[1, 2, 3]", "[1 2 3]"),
    ("[]", "[]"),
    ("{Wq: w, \"b.c\": 2}", "{Wq:w b.c:2}"),
    ("{}", "{}"),
    ("if c { a } else { b }", "(if c {a} {b})"),
    ("if c { a } else if d { b } else { e }", "(if c {a} {(if d {b} {e})})"),
    ("fn(x) = x * 2", "(fn _ (x) (* x 2))"),
    ("fn(x, h=2) { y = x; y * h }", "(fn _ (x h=2) {(= y x); (* y h)})"),
    (".5 + 1e-4", "(+ 0.5 0.0001)"),
    ("\"a\\tb\"", "\"a\tb\""),
    ("true && false || none == none", "(|| (&& true false) (== none none))"),
    ("[i * 2 for i in range(3)]", "(list-for (* i 2) (for i (call range 3)))"),
    ("[x for x in xs if x > 0]", "(list-for x (for x xs (if (> x 0))))"),
    ("[[i, j] for i in a if i for j in b if j != i if j]", "(list-for [i j] (for i a (if i)) (for j b (if (!= j i)) (if j)))"),
    ("[x for (i, x) in enumerate(xs)]", "(list-for x (for (i x) (call enumerate xs)))"),
    ("[x for i, x in pairs]", "(list-for x (for (i x) pairs))"),
    ("[x in s for x in xs]", "(list-for (in x s) (for x xs))"),
    ("[\n  x\n  for x in xs\n  if x\n]", "(list-for x (for x xs (if x)))"),
    ("\"ab\" in \"cab\"", "(in \"ab\" \"cab\")"),
    ("a not in b", "(not in a b)"),
    ("not + 1", "(+ not 1)"),
    ("f(not)[not]", "(index (call f not) not)"),
    ("a + 1 in b && c", "(&& (in (+ a 1) b) c)"),
    ("!(a in b) || a == b", "(|| (! (in a b)) (== a b))"),
    ("\"ab\" * 3", "(* \"ab\" 3)"),
])
func expressions(_ text: String, _ expected: String) throws {
    #expect(try parse(text) == [expected])
}

@Test(arguments: [
    ("x = 1", ["(= x 1)"]),
    ("r.f = 2; x[0, :] = 3", ["(= (. r f) 2);", "(= (index x 0 _:_:_) 3)"]),
    ("x += 1\nx -= 2\nx *= 3\nx /= 4", ["(+= x 1)", "(-= x 2)", "(*= x 3)", "(/= x 4)"]),
    ("fn f(a, b, h=2) = a * h", ["(fn f (a b h=2) (* a h))"]),
    ("fn f(a) {\n  c = a\n  c * 2\n}", ["(fn f (a) {(= c a) (* c 2)})"]),
    ("for i in range(3) { s = s + i }", ["(for i (call range 3) {(= s (+ s i))})"]),
    ("for (i, x) in enumerate(xs) { s = x }", ["(for (i x) (call enumerate xs) {(= s x)})"]),
    ("for i, x in zip(a, b) { s = x }", ["(for (i x) (call zip a b) {(= s x)})"]),
    ("for (x) in xs {}", ["(for x xs {})"]),
    ("for x in a in b {}", ["(for x (in a b) {})"]),
    ("if x in ({a: 1}) {}", ["(if (in x {a:1}) {})"]),
    ("while x > 0 { x = x - 1; break }", ["(while (> x 0) {(= x (- x 1)); break})"]),
    ("fn f() { return }", ["(fn f () {(return)})"]),
    ("fn f() { return 1; continue }", ["(fn f () {(return 1); continue})"]),
    ("1; 2;", ["1;", "2;"]),
    ("x = [1,\n 2,\n 3]", ["(= x [1 2 3])"]),
    ("y = a +\n b", ["(= y (+ a b))"]),
    ("f(a,\n  b=2\n)", ["(call f a b=2)"]),
    ("f(a\n  =1)", ["(call f a=1)"]),
    ("m = map(fn(x) {\n a = x\n a * 2\n}, xs)", ["(= m (call map (fn _ (x) {(= a x) (* a 2)}) xs))"]),
    ("if a {\n 1\n}\nelse {\n 2\n}", ["(if a {1} {2})"]),
    ("r = {a: 1,\n b: {c: 2}}", ["(= r {a:1 b:{c:2}})"]),
    ("#! shebang\nx", ["x"]),
    ("x # comment\ny", ["x", "y"]),
])
func statements(_ text: String, _ expected: [String]) throws {
    #expect(try parse(text) == expected)
}

@Test(arguments: [
    ("(1 + 2", "syntax error: expected ')' to close '(' from line 1, found end of input", 1, 7),
    ("[1, 2", "syntax error: expected ']' to close '[' from line 1, found end of input", 1, 6),
    ("x = [1,\n2", "syntax error: expected ']' to close '[' from line 1, found end of input", 2, 2),
    ("fn f() {\n 1", "syntax error: expected '}' to close '{' from line 1, found end of input", 2, 3),
    ("\"abc", "syntax error: unterminated string", 1, 1),
    ("\"a\\qb\"", "syntax error: unknown escape '\\q' in a string (use \\n \\t \\r \\\" \\\\ \\u{e9})", 1, 3),
    ("x = \"a\\u41\"", "syntax error: \\u needs its code point in braces, as \\u{e9} or \\u{1F600}", 1, 7),
    ("x = \"a\\u{}\"", "syntax error: \\u{...} needs 1 to 6 hex digits and a closing }, as \\u{e9} or \\u{1F600}", 1, 7),
    ("x = \"\\u{12g}\"", "syntax error: \\u{...} needs 1 to 6 hex digits and a closing }, as \\u{e9} or \\u{1F600}", 1, 6),
    ("x = \"\\u{1234567}\"", "syntax error: \\u{...} needs 1 to 6 hex digits and a closing }, as \\u{e9} or \\u{1F600}", 1, 6),
    ("x = \"\\u{41", "syntax error: \\u{...} needs 1 to 6 hex digits and a closing }, as \\u{e9} or \\u{1F600}", 1, 6),
    ("x = \"\\u{D800}\"", "syntax error: \\u{D800} is not a Unicode scalar (surrogates D800-DFFF and values above 10FFFF are not)", 1, 6),
    ("x = \"\\u{110000}\"", "syntax error: \\u{110000} is not a Unicode scalar (surrogates D800-DFFF and values above 10FFFF are not)", 1, 6),
    ("x = $", "syntax error: unexpected character '$'", 1, 5),
    ("a & b", "syntax error: unexpected character '&' (logical and/or are && and ||)", 1, 3),
    ("1 +", "syntax error: expected an expression, found end of input", 1, 4),
    ("]", "syntax error: unexpected ']'", 1, 1),
    ("a < b < c", "syntax error: comparisons do not chain; write a < b && b < c", 1, 7),
    ("1 = x", "syntax error: cannot assign to '1' (only to a name, r.field or x[...])", 1, 1),
    ("f(a=1, 2)", "syntax error: a positional argument cannot follow keyword arguments", 1, 8),
    ("fn f(a=1, b) = a", "syntax error: parameter 'b' without a default follows one with a default", 1, 11),
    ("if x 1", "syntax error: expected '{' to start the body of if, found '1'", 1, 6),
    ("for 3 in x {}", "syntax error: expected a loop variable after 'for', found '3'", 1, 5),
    ("for (i, 2) in x {}", "syntax error: expected a loop variable after ',', found '2'", 1, 9),
    ("for (i, x in y {}", "syntax error: expected ')' to close '(' from line 1, found 'in'", 1, 11),
    ("for i, i in y {}", "syntax error: loop variable 'i' appears twice", 1, 8),
    ("for i x in y {}", "syntax error: expected 'in' after 'for i', found 'x'", 1, 7),
    ("[x for x xs]", "syntax error: expected 'in' after 'for x', found 'xs'", 1, 10),
    ("[x for x in xs, 2]", "syntax error: expected ']' to close '[' from line 1, found ','", 1, 15),
    ("[1, x for x in xs]", "syntax error: expected ']' to close '[' from line 1, found 'for'", 1, 7),
    ("a in b in c", "syntax error: comparisons do not chain; write a < b && b < c", 1, 8),
    ("a not b", "syntax error: expected the end of the statement, found 'not'", 1, 3),
    ("x y", "syntax error: expected the end of the statement, found 'y'", 1, 3),
    ("12abc", "syntax error: '12abc' is not a number or a name", 1, 1),
    ("1e+", "syntax error: a number's exponent needs digits", 1, 1),
    ("{a 1}", "syntax error: expected ':' after the field name 'a', found '1'", 1, 4),
    ("x[]", "syntax error: expected an index, found ']'", 1, 3),
    ("x[..., 0, ...]", "syntax error: a subscript takes one '...' (it stands for all the axes the other indices leave)", 1, 11),
    ("x[...:2]", "syntax error: expected ']' to close '[' from line 1, found ':'", 1, 6),
])
func syntaxErrors(_ text: String, _ message: String, _ line: Int, _ column: Int) {
    let error = parseError(text)
    #expect(error?.message == message)
    #expect(error?.span?.line == line)
    #expect(error?.span?.column == column)
}

@Test func renderedErrorUnderlinesTheSpan() {
    let error = parseError("x = 1\ny = (2 +\n   3")
    #expect(error?.rendered() == """
        error: syntax error: expected ')' to close '(' from line 2, found end of input
          --> t.tx:3:5
          |
        3 |    3
          |     ^
        """)
}

@Test func caretsUnderWideCharactersTakeTwoColumns() {
    let error = parseError("s = \"日本\" @@ 1")
    #expect(error?.rendered() == """
        error: syntax error: expected an expression, found '@'
          --> t.tx:1:11
          |
        1 | s = "日本" @@ 1
          |             ^
        """)
}

@Test func identifiersMayUseLettersOfAnyScript() throws {
    let program = try Parser.parse(Source(name: "t.tx", text: "α₁ = θ̂ + λ"))
    guard case .assign(let target, let value) = program.statements[0].kind,
          case .binary(_, let l, let r) = value.kind else {
        Issue.record("not an assignment of a sum")
        return
    }
    #expect(target.span.text == "α₁")
    #expect(l.span.text == "θ̂")
    #expect(r.span.text == "λ")
    #expect(parseError("x = 1 € 2")?.message == "syntax error: unexpected character '€'")
    #expect(parseError("₁x = 2")?.message == "syntax error: unexpected character '₁'")
}

@Test func aForLoopMayIterateOverARecordLiteral() throws {
    let program = try Parser.parse(Source(name: "t.tx", text: "for k in {a: 1, \"b c\": 2} { k }\nfor k in {} { k }"))
    #expect(program.statements.count == 2)
    #expect(parseError("for k in { k }")?.message == "syntax error: expected an expression, found '{'")
}

@Test func spansCoverTheirText() throws {
    let program = try Parser.parse(Source(name: "t.tx", text: "a = 1\nresult = foo(x, y=2) @ W'"))
    guard case .assign(let target, let value) = program.statements[1].kind else {
        Issue.record("not an assignment")
        return
    }
    #expect(target.span.text == "result")
    #expect(value.span.text == "foo(x, y=2) @ W'")
    #expect(value.span.line == 2)
    #expect(value.span.column == 10)
    #expect(program.statements[1].span.text == "result = foo(x, y=2) @ W'")
    if case .binary(_, let l, let r) = value.kind {
        #expect(l.span.text == "foo(x, y=2)")
        #expect(r.span.text == "W'")
    }
}

@Test func commentsAboveAStatementAreItsNarration() throws {
    let program = try Parser.parse(Source(name: "t.tx", text: """
        # unrelated

        # first line
        #second line
        x = 1   # trailing
        y = 2
        """))
    #expect(program.statements[0].comments == ["first line", "second line"])
    #expect(program.statements[1].comments == [])
}

@Test(arguments: [
    ("(1 + 2", true), ("[1,", true), ("fn f(x) {", true), ("x = 1 +", true), ("if a { 1 } else", true),
    ("x = 1", false), ("x = )", false), ("\"abc", false), ("x = [1, 2]", false), ("", false),
])
func incompleteInput(_ text: String, _ incomplete: Bool) {
    #expect(Parser.isIncomplete(text) == incomplete)
}

/// Pathological nesting, 5,000 levels deep, named briefly for the test report.
struct Deep: CustomTestStringConvertible, Sendable {
    let name: String
    let text: String
    var testDescription: String { name }
}

@Test(arguments: [
    Deep(name: "parentheses", text: String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)),
    Deep(name: "brackets", text: String(repeating: "[", count: 5000) + "1" + String(repeating: "]", count: 5000)),
    Deep(name: "unary minus", text: String(repeating: "-", count: 5000) + "x"),
    Deep(name: "not", text: String(repeating: "!", count: 5000) + "x"),
    Deep(name: "powers", text: Array(repeating: "2", count: 5000).joined(separator: "^")),
    Deep(name: "ifs", text: String(repeating: "if a { ", count: 5000) + "1" + String(repeating: " }", count: 5000)),
    Deep(name: "records", text: String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000)),
    Deep(name: "calls", text: String(repeating: "f(", count: 5000) + "1" + String(repeating: ")", count: 5000)),
    Deep(name: "indexing", text: String(repeating: "x[", count: 5000) + "1" + String(repeating: "]", count: 5000)),
    Deep(name: "functions", text: String(repeating: "fn() = ", count: 5000) + "1"),
    Deep(name: "blocks", text: String(repeating: "while a { ", count: 5000) + "1" + String(repeating: " }", count: 5000)),
    Deep(name: "unclosed", text: String(repeating: "(", count: 5000)),
    Deep(name: "long sum", text: Array(repeating: "1", count: 5000).joined(separator: " + ")),
])
func deepNestingIsAnErrorNotACrash(_ deep: Deep) {
    let error = parseError(deep.text)
    if let error {
        #expect(error.kind == .limit || error.kind == .syntax)
        if error.kind == .limit {
            #expect(error.message == "nesting limit: more than 256 levels of nesting")
        }
    }
}

@Test func nestingWithinTheLimitParses() throws {
    let text = String(repeating: "(", count: 200) + "1" + String(repeating: ")", count: 200)
    #expect(try parse(text) == ["1"])
}

/// Editors may start a file with a UTF-8 byte-order mark, and old ones put a form feed
/// between pages: both are white space, and columns after them are as the eye sees them.
@Test func byteOrderMarkAndFormFeedAreWhiteSpace() throws {
    for text in ["\u{FEFF}1 + 1", "\u{0C}1 + 1", "\u{FEFF}#!/usr/bin/env tx\n1 + 1", "1 +\u{0C} 1"] {
        #expect(throws: Never.self, "\(Array(text.utf8))") { try Parser.parse(Source(name: "t.tx", text: text)) }
    }
    let error = parseError("\u{FEFF}x = $")
    #expect(error?.span?.column == 5)
}

/// A NUL byte is refused where it stands, and the rendered error holds no NUL (a C
/// string would end there and lose the place).
@Test func aNulByteIsAnErrorWithItsPlace() {
    for text in ["x = 1\ny = 2 \u{0} + 3", "x = 1\ny = \"a\u{0}b\"", "x = 1\ny = 2 # \u{0}"] {
        let error = parseError(text)
        #expect(error?.message == "syntax error: a NUL character (byte 0) in the source", "\(text)")
        #expect(error?.span?.line == 2)
        let rendered = error?.rendered() ?? "\u{0}"
        #expect(!rendered.utf8.contains(0), "\(rendered)")
        #expect(rendered.contains("--> t.tx:2:"))
    }
}
