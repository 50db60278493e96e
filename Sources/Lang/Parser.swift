/// A recursive-descent parser for docs/LANGUAGE.md §2–§5, with precedence climbing for the
/// binary operators. Every node gets the span of its text; errors say what was
/// expected and where. A nesting limit turns pathological input into an error rather
/// than a stack overflow.
public struct Parser {
    private let source: Source
    private let tokens: [Token]
    /// Counts every token looked at (the lexer's bytes too).
    private let steps: ReadingSteps
    private let commentLines: [Int: String]
    private var position = 0
    private let maxNesting: Int
    private var nesting = 0
    /// Whether newlines are insignificant here: inside ( [ and record braces, true;
    /// inside blocks, false. Blocks nested in brackets push false again.
    private var newlineInsensitive: [Bool] = [false]
    /// False in the condition of if/while and the iterable of for, where `{` opens the
    /// body rather than a record.
    private var recordsAllowed = true
    /// Open brackets, for "expected ')' to close '(' from line 3".
    private var openBrackets: [Token] = []

    /// Parses the whole source; `steps` counts the bytes and tokens looked at.
    public static func parse(_ source: Source, maxNesting: Int = 256, steps: ReadingSteps = ReadingSteps()) throws -> Program {
        let lexer = try Lexer.tokenize(source, steps: steps)
        var parser = Parser(source: source, tokens: lexer.tokens, commentLines: lexer.commentLines, maxNesting: maxNesting, steps: steps)
        let statements = try parser.statements(until: nil)
        return Program(statements: statements, source: source)
    }

    /// Whether `text` fails only because it ended too early (an open bracket or block,
    /// a trailing operator...), so that the REPL should read another line.
    public static func isIncomplete(_ text: String) -> Bool {
        let source = Source(name: "<repl>", text: text)
        do {
            _ = try parse(source)
            return false
        } catch let error as TxError {
            guard error.kind == .syntax, let span = error.span else { return false }
            if error.detail.hasPrefix("unterminated string") { return false }
            return span.start >= source.bytes.count
        } catch {
            return false
        }
    }

    private init(source: Source, tokens: [Token], commentLines: [Int: String], maxNesting: Int, steps: ReadingSteps) {
        self.source = source
        self.tokens = tokens
        self.steps = steps
        self.commentLines = commentLines
        self.maxNesting = maxNesting
    }

    // MARK: Tokens

    /// The token at `index`, counted.
    private func look(_ index: Int) -> Token {
        steps.count += 1
        return tokens[index]
    }

    private mutating func peek() -> Token {
        if newlineInsensitive.last == true {
            while look(position).kind == .newline { position += 1 }
        }
        return look(position)
    }

    @discardableResult
    private mutating func advance() -> Token {
        let token = peek()
        if token.kind != .endOfInput { position += 1 }
        return token
    }

    private mutating func skipNewlines() {
        while look(position).kind == .newline { position += 1 }
    }

    private var previousEnd: Int { position > 0 ? look(position - 1).end : 0 }

    private func span(_ start: Int, _ end: Int) -> SourceSpan {
        SourceSpan(source: source, start: start, end: end)
    }

    private func span(of token: Token) -> SourceSpan {
        span(token.start, token.end)
    }

    private mutating func check(symbol: String) -> Bool { peek().isSymbol(symbol) }

    private mutating func match(symbol: String) -> Bool {
        if peek().isSymbol(symbol) { advance(); return true }
        return false
    }

    /// A syntax error at `token`, with a hint when it is another language's spelling.
    private func error(_ message: String, at token: Token) -> TxError {
        TxError(.syntax, "\(message)" + (Habits.hint(at: token, in: source) ?? ""), at: span(of: token))
    }

    /// Consumes the closing bracket of `open`, or explains which bracket is unclosed.
    private mutating func close(_ symbol: String, opening open: Token) throws {
        let token = peek()
        guard token.isSymbol(symbol) else {
            let line = source.line(at: open.start)
            throw error("expected '\(symbol)' to close '\(open.text)' from line \(line), found \(token.described)", at: token)
        }
        advance()
    }

    private mutating func enter(at token: Token) throws {
        nesting += 1
        if nesting > maxNesting {
            throw TxError(.limit, "more than \(maxNesting) levels of nesting", at: span(of: token))
        }
    }

    private mutating func leave() { nesting -= 1 }

    /// The deepest expression tree allowed (`Expr.depth`). A chain of operators, calls,
    /// fields or indexes (`1 + 1 + ... + 1`, a transpose repeated) is built by a loop
    /// rather than by nesting, but compiling, evaluating and freeing it recurse once per link.
    public static let maxDepth = 10_000

    /// A node of the tree, unless it is deeper than `maxDepth` (the error points at the
    /// node's last character: where the chain went too deep).
    private func node(_ kind: ExprKind, _ whole: SourceSpan) throws -> Expr {
        let expr = Expr(kind, whole)
        guard expr.depth <= Parser.maxDepth else {
            throw TxError(.limit, "an expression more than \(Parser.maxDepth) operations deep",
                          at: span(max(whole.start, whole.end - 1), whole.end))
        }
        return expr
    }

    // MARK: Statements

    /// Statements up to `}` (not consumed) or the end of input.
    private mutating func statements(until terminator: String?) throws -> [Stmt] {
        var result: [Stmt] = []
        while true {
            skipSeparators()
            let token = peek()
            if token.kind == .endOfInput {
                if terminator != nil {
                    throw error("expected '}' to close '{' from line \(openBrackets.last.map { source.line(at: $0.start) } ?? 1), found end of input", at: token)
                }
                return result
            }
            if let terminator, token.isSymbol(terminator) { return result }
            if terminator == nil, token.isSymbol("}") || token.isSymbol(")") || token.isSymbol("]") {
                throw error("unexpected '\(token.text)'", at: token)
            }
            try ReadingInterrupt.check(source, at: token.start)
            var statement = try self.statement()
            // A statement ends at a newline, ';', the closing brace, or the end.
            let next = peek()
            if next.isSymbol(";") {
                advance()
                statement = Stmt(kind: statement.kind, span: statement.span, silenced: true, comments: statement.comments)
            } else if next.kind != .newline && next.kind != .endOfInput && !(terminator.map { next.isSymbol($0) } ?? false) {
                throw error("expected the end of the statement, found \(next.described)", at: next)
            }
            result.append(statement)
        }
    }

    private mutating func skipSeparators() {
        while true {
            let token = look(position)
            if token.kind == .newline || token.isSymbol(";") { position += 1 } else { return }
        }
    }

    /// The comment lines directly above the line where a statement starts.
    private func comments(before offset: Int) -> [String] {
        var line = source.line(at: offset) - 1
        var lines: [String] = []
        while line >= source.firstLine, let text = commentLines[line] {
            lines.append(text)
            line -= 1
        }
        return lines.reversed()
    }

    private mutating func statement() throws -> Stmt {
        let token = peek()
        let notes = comments(before: token.start)
        func make(_ kind: StmtKind) -> Stmt {
            Stmt(kind: kind, span: span(token.start, previousEnd), comments: notes)
        }
        if token.isKeyword("fn"), position + 1 < tokens.count, look(position + 1).kind == .identifier {
            return make(.function(try functionDeclaration()))
        }
        if token.isKeyword("for") {
            advance()
            let variables = try loopVariables()
            let iterable = try condition()
            let body = try block(after: "for ... in ...")
            return make(.forLoop(variables: variables, iterable: iterable, body: body))
        }
        if token.isKeyword("while") {
            advance()
            let test = try condition()
            let body = try block(after: "while ...")
            return make(.whileLoop(condition: test, body: body))
        }
        if token.isKeyword("break") { advance(); return make(.breakLoop) }
        if token.isKeyword("continue") { advance(); return make(.continueLoop) }
        if token.isKeyword("return") {
            advance()
            let next = peek()
            if next.kind == .newline || next.kind == .endOfInput || next.isSymbol(";") || next.isSymbol("}") {
                return make(.returnValue(nil))
            }
            return make(.returnValue(try expression()))
        }
        let target = try expression()
        let next = peek()
        if next.isSymbol("=") {
            try checkAssignable(target)
            advance()
            skipNewlines()
            let value = try expression()
            return make(.assign(target: target, value: value))
        }
        let compound: [String: BinaryOperator] = ["+=": .add, "-=": .subtract, "*=": .multiply, "/=": .divide]
        if next.kind == .symbol, let op = compound[next.text] {
            try checkAssignable(target)
            advance()
            skipNewlines()
            let value = try expression()
            return make(.compoundAssign(op, target: target, value: value))
        }
        return make(.expression(target))
    }

    private func checkAssignable(_ target: Expr) throws {
        switch target.kind {
        case .name, .field, .index: return
        default:
            throw TxError(.syntax, "cannot assign to '\(target.span.text)' (only to a name, r.field or x[...])", at: target.span)
        }
    }

    /// The names after `for`, up to and including `in`: `x`, `i, x` (Python) or
    /// `(i, x)` (Julia).
    private mutating func loopVariables() throws -> LoopVariables {
        let first = peek()
        let parenthesised = first.isSymbol("(")
        if parenthesised { advance() }
        var names: [String] = [], spans: [SourceSpan] = []
        repeat {
            let name = advance()
            guard name.kind == .identifier else {
                throw error("expected a loop variable after '\(names.isEmpty ? (parenthesised ? "(" : "for") : ",")', found \(name.described)", at: name)
            }
            if names.contains(name.text) { throw TxError(.syntax, "loop variable '\(name.text)' appears twice", at: span(of: name)) }
            names.append(name.text)
            spans.append(span(of: name))
        } while match(symbol: ",")
        if parenthesised { try close(")", opening: first) }
        let whole = span(first.start, previousEnd)
        let keyword = peek()
        guard keyword.isKeyword("in") else {
            throw error("expected 'in' after 'for \(whole.text)', found \(keyword.described)", at: keyword)
        }
        advance()
        return LoopVariables(names: names, spans: spans, span: whole)
    }

    /// The condition of if/while or the iterable of for: `{` ends it, except first,
    /// where it can only open a record: `for k in {a: 1, b: 2} { ... }`.
    private mutating func condition() throws -> Expr {
        let saved = recordsAllowed
        recordsAllowed = looksLikeRecord()
        defer { recordsAllowed = saved }
        return try expression()
    }

    /// Whether a `{` comes next and opens a record: `{}` or `{name: ...`.
    private mutating func looksLikeRecord() -> Bool {
        guard peek().isSymbol("{") else { return false }
        var i = position + 1
        while i < tokens.count, look(i).kind == .newline { i += 1 }
        guard i + 1 < tokens.count else { return false }
        if look(i).isSymbol("}") { return true }
        return (look(i).kind == .identifier || look(i).kind == .string) && look(i + 1).isSymbol(":")
    }

    private mutating func block(after what: String) throws -> Block {
        let open = peek()
        guard open.isSymbol("{") else {
            throw error("expected '{' to start the body of \(what), found \(open.described)", at: open)
        }
        try enter(at: open)
        defer { leave() }
        advance()
        newlineInsensitive.append(false)
        let savedRecords = recordsAllowed
        recordsAllowed = true
        openBrackets.append(open)
        defer {
            newlineInsensitive.removeLast()
            recordsAllowed = savedRecords
            openBrackets.removeLast()
        }
        let body = try statements(until: "}")
        let close = advance()
        return Block(statements: body, span: span(open.start, close.end))
    }

    /// `fn name(params) = expr` or `fn name(params) { ... }` (name optional).
    private mutating func functionDeclaration() throws -> FunctionDecl {
        let keyword = advance()
        try enter(at: keyword)
        defer { leave() }
        var name: String? = nil
        if peek().kind == .identifier { name = advance().text }
        let open = peek()
        guard open.isSymbol("(") else {
            throw error("expected '(' after 'fn\(name.map { " " + $0 } ?? "")', found \(open.described)", at: open)
        }
        advance()
        newlineInsensitive.append(true)
        var parameters: [Parameter] = []
        var seenDefault = false
        while !check(symbol: ")") {
            let token = advance()
            guard token.kind == .identifier else {
                newlineInsensitive.removeLast()
                if token.kind == .endOfInput { throw error("expected ')' to close '(' from line \(source.line(at: open.start)), found end of input", at: token) }
                throw error("expected a parameter name, found \(token.described)", at: token)
            }
            var defaultValue: Expr? = nil
            if match(symbol: "=") {
                defaultValue = try expression()
                seenDefault = true
            } else if seenDefault {
                newlineInsensitive.removeLast()
                throw error("parameter '\(token.text)' without a default follows one with a default", at: token)
            }
            parameters.append(Parameter(name: token.text, defaultValue: defaultValue, span: span(token.start, previousEnd)))
            if !match(symbol: ",") { break }
        }
        do { try close(")", opening: open) } catch { newlineInsensitive.removeLast(); throw error }
        newlineInsensitive.removeLast()
        let body: FunctionBody
        if match(symbol: "=") {
            skipNewlines()
            let saved = recordsAllowed
            recordsAllowed = true
            defer { recordsAllowed = saved }
            body = .expression(try expression())
        } else if check(symbol: "{") {
            body = .block(try block(after: "fn"))
        } else {
            let token = peek()
            throw error("expected '=' or '{' after the parameters of fn, found \(token.described)", at: token)
        }
        return FunctionDecl(name: name, parameters: parameters, body: body, span: span(keyword.start, previousEnd))
    }

    // MARK: Expressions

    /// The binary operator starting at the current token: its text, precedence and how
    /// many tokens it takes (`not in` takes two).
    private mutating func binaryOperator() -> (text: String, precedence: Int, tokens: Int)? {
        let token = peek()
        if token.isKeyword("in") { return ("in", 3, 1) }
        if token.kind == .identifier, token.text == "not", position + 1 < tokens.count, look(position + 1).isKeyword("in") {
            return ("not in", 3, 2)
        }
        return Parser.precedence(token).map { (token.text, $0, 1) }
    }

    private static func precedence(_ token: Token) -> Int? {
        guard token.kind == .symbol else { return nil }
        switch token.text {
        case "||": return 1
        case "&&": return 2
        case "==", "!=", "<", "<=", ">", ">=": return 3
        case "+", "-": return 4
        case "*", "/", "//", "@", "%": return 5
        default: return nil
        }
    }

    public mutating func expression() throws -> Expr {
        try binary(minimum: 1)
    }

    private mutating func binary(minimum: Int) throws -> Expr {
        var left = try unary()
        while true {
            let token = peek()
            guard let (text, precedence, count) = binaryOperator(), precedence >= minimum else { return left }
            try enter(at: token)
            defer { leave() }
            for _ in 0..<count { advance() }
            skipNewlines()
            let right = try binary(minimum: precedence + 1)
            let whole = left.span.through(right.span)
            switch text {
            case "||": left = try node(.logical(.or, left, right), whole)
            case "&&": left = try node(.logical(.and, left, right), whole)
            default:
                guard let op = BinaryOperator(rawValue: text) else { return left }
                left = try node(.binary(op, left, right), whole)
                if op.isComparison, let next = binaryOperator(), next.precedence == 3 {
                    throw error("comparisons do not chain; write a < b && b < c", at: peek())
                }
            }
        }
    }

    private mutating func unary() throws -> Expr {
        let token = peek()
        if token.isSymbol("-") || token.isSymbol("!") {
            try enter(at: token)
            defer { leave() }
            advance()
            let operand = try unary()
            let op: UnaryOperator = token.text == "-" ? .negate : .not
            return try node(.unary(op, operand), span(token.start, operand.span.end))
        }
        return try power()
    }

    /// postfix ('^' unary)?: right-associative, tighter than unary minus on its left.
    private mutating func power() throws -> Expr {
        let base = try postfix()
        let token = peek()
        guard token.isSymbol("^") else { return base }
        try enter(at: token)
        defer { leave() }
        advance()
        skipNewlines()
        let exponent = try unary()
        return try node(.binary(.power, base, exponent), base.span.through(exponent.span))
    }

    private mutating func postfix() throws -> Expr {
        var expr = try primary()
        while true {
            // Postfix operators must follow on the same line (outside brackets).
            let token = peek()
            if token.isSymbol("(") {
                expr = try call(expr)
            } else if token.isSymbol("[") {
                expr = try index(expr)
            } else if token.isSymbol(".") {
                advance()
                let name = advance()
                guard name.kind == .identifier || name.kind == .keyword else {
                    throw error("expected a field name after '.', found \(name.described)", at: name)
                }
                expr = try node(.field(expr, name: name.text), span(expr.span.start, name.end))
            } else if token.isSymbol("'") {
                advance()
                expr = try node(.transpose(expr), span(expr.span.start, token.end))
            } else {
                return expr
            }
        }
    }

    /// Enters brackets: newlines insignificant, records allowed. Returns what
    /// `leaveBracket` restores. (Plain calls rather than a closure, to keep the stack
    /// used per nesting level small.)
    private mutating func enterBracket(_ open: Token) throws -> Bool {
        try enter(at: open)
        newlineInsensitive.append(true)
        let saved = recordsAllowed
        recordsAllowed = true
        openBrackets.append(open)
        return saved
    }

    private mutating func leaveBracket(_ savedRecordsAllowed: Bool) {
        leave()
        newlineInsensitive.removeLast()
        recordsAllowed = savedRecordsAllowed
        openBrackets.removeLast()
    }

    private mutating func call(_ callee: Expr) throws -> Expr {
        let open = advance()
        let saved = try enterBracket(open)
        defer { leaveBracket(saved) }
        var arguments: [Argument] = []
        var sawKeyword = false
        while !check(symbol: ")") {
            let token = peek()
            if token.kind == .endOfInput { break }
            var label: String? = nil
            var ahead = position + 1
            while ahead < tokens.count, look(ahead).kind == .newline { ahead += 1 }
            if token.kind == .identifier, ahead < tokens.count, look(ahead).isSymbol("=") {
                label = token.text
                advance()
                advance()
                sawKeyword = true
            } else if sawKeyword {
                throw error("a positional argument cannot follow keyword arguments", at: token)
            }
            let value = try expression()
            arguments.append(Argument(label: label, value: value, span: span(token.start, value.span.end)))
            if !match(symbol: ",") { break }
        }
        try close(")", opening: open)
        return try node(.call(callee: callee, arguments: arguments), span(callee.span.start, previousEnd))
    }

    private mutating func index(_ target: Expr) throws -> Expr {
        let open = advance()
        let saved = try enterBracket(open)
        defer { leaveBracket(saved) }
        var items: [IndexItem] = []
        var ellipsis: Token? = nil
        repeat {
            if peek().isSymbol("...") {
                let dots = advance()
                if ellipsis != nil { throw error("a subscript takes one '...' (it stands for all the axes the other indices leave)", at: dots) }
                ellipsis = dots
                items.append(.ellipsis(span(dots.start, dots.end)))
                continue
            }
            items.append(try indexItem())
        } while match(symbol: ",")
        try close("]", opening: open)
        return try node(.index(target, items), span(target.span.start, previousEnd))
    }

    private mutating func indexItem() throws -> IndexItem {
        let start = peek()
        func isBound(_ t: Token) -> Bool { !(t.isSymbol(":") || t.isSymbol(",") || t.isSymbol("]")) }
        var first: Expr? = nil
        if isBound(start) {
            if start.kind == .endOfInput { throw error("expected an index, found end of input", at: start) }
            first = try expression()
        }
        guard match(symbol: ":") else {
            guard let first else { throw error("expected an index, found \(peek().described)", at: peek()) }
            return .single(first)
        }
        var stop: Expr? = nil, step: Expr? = nil
        if isBound(peek()) { stop = try expression() }
        if match(symbol: ":") {
            if isBound(peek()) { step = try expression() }
        }
        return .slice(start: first, stop: stop, step: step, span: span(start.start, previousEnd))
    }

    private mutating func primary() throws -> Expr {
        try steps.tick()
        let token = peek()
        switch token.kind {
        case .number:
            advance()
            return Expr(.number(token.number), span(of: token))
        case .string:
            advance()
            return Expr(.string(token.string), span(of: token))
        case .identifier:
            advance()
            return Expr(.name(token.text), span(of: token))
        case .keyword:
            switch token.text {
            case "true", "false":
                advance()
                return Expr(.bool(token.text == "true"), span(of: token))
            case "none":
                advance()
                return Expr(.none, span(of: token))
            case "if":
                return try ifExpression()
            case "fn":
                let decl = try functionDeclaration()
                return try node(.function(decl), decl.span)
            default:
                throw error("expected an expression, found '\(token.text)'", at: token)
            }
        case .symbol:
            if token.isSymbol("(") {
                advance()
                let saved = try enterBracket(token)
                defer { leaveBracket(saved) }
                let inner = try expression()
                try close(")", opening: token)
                return try node(inner.kind, span(token.start, previousEnd))
            }
            if token.isSymbol("[") {
                advance()
                let saved = try enterBracket(token)
                defer { leaveBracket(saved) }
                var items: [Expr] = []
                while !check(symbol: "]") {
                    if peek().kind == .endOfInput { break }
                    items.append(try expression())
                    if items.count == 1, peek().isKeyword("for") {
                        let clauses = try comprehensionClauses()
                        try close("]", opening: token)
                        return try node(.comprehension(element: items[0], clauses: clauses), span(token.start, previousEnd))
                    }
                    if !match(symbol: ",") { break }
                }
                try close("]", opening: token)
                return try node(.list(items), span(token.start, previousEnd))
            }
            if token.isSymbol("{") && recordsAllowed {
                advance()
                return try record(token)
            }
            if token.isSymbol("{") && looksLikeRecord() {
                throw error("expected an expression, found '{' (in a condition, write a record literal in parentheses: ({a: 1}))", at: token)
            }
            throw error("expected an expression, found '\(token.text)'", at: token)
        case .newline, .endOfInput:
            throw error("expected an expression, found \(token.described)", at: token)
        }
    }

    /// `for x in xs if c for y in ys ...` after a comprehension's element: one or more
    /// loops, each followed by any number of conditions.
    private mutating func comprehensionClauses() throws -> [ComprehensionClause] {
        var clauses: [ComprehensionClause] = []
        while peek().isKeyword("for") {
            let keyword = advance()
            try enter(at: keyword)
            defer { leave() }
            let variables = try loopVariables()
            let iterable = try expression()
            var conditions: [Expr] = []
            while peek().isKeyword("if") {
                advance()
                conditions.append(try expression())
            }
            clauses.append(ComprehensionClause(variables: variables, iterable: iterable, conditions: conditions))
        }
        return clauses
    }

    private mutating func record(_ open: Token) throws -> Expr {
        let saved = try enterBracket(open)
        defer { leaveBracket(saved) }
        var entries: [RecordEntry] = []
        while !check(symbol: "}") {
            let key = advance()
            guard key.kind == .identifier || key.kind == .string || key.kind == .keyword else {
                if key.kind == .endOfInput {
                    throw error("expected '}' to close '{' from line \(source.line(at: open.start)), found end of input", at: key)
                }
                throw error("expected a field name in a record, found \(key.described)", at: key)
            }
            let colon = peek()
            guard colon.isSymbol(":") else {
                throw error("expected ':' after the field name '\(key.kind == .string ? key.string : key.text)', found \(colon.described)", at: colon)
            }
            advance()
            let value = try expression()
            entries.append(RecordEntry(key: key.kind == .string ? key.string : key.text, value: value, keySpan: span(of: key)))
            if !match(symbol: ",") { break }
        }
        try close("}", opening: open)
        return try node(.record(entries), span(open.start, previousEnd))
    }

    /// `if c { a } else if d { b } else { c }`.
    private mutating func ifExpression() throws -> Expr {
        let keyword = advance()
        try enter(at: keyword)
        defer { leave() }
        let test = try condition()
        let then = try block(after: "if")
        // `else` may start the next line after the closing brace.
        var ahead = position
        while look(ahead).kind == .newline { ahead += 1 }
        var otherwise: Block? = nil
        if look(ahead).isKeyword("else") {
            position = ahead
            let elseToken = advance()
            if peek().isKeyword("if") {
                let nested = try ifExpression()
                otherwise = Block(statements: [Stmt(kind: .expression(nested), span: nested.span)], span: nested.span)
            } else {
                otherwise = try block(after: "else")
            }
            _ = elseToken
        }
        return try node(.ifElse(condition: test, then: then, otherwise: otherwise), span(keyword.start, previousEnd))
    }
}
