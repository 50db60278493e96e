/// The syntax tree of docs/LANGUAGE.md §2–§5. Every node carries the span it was parsed from.

public enum UnaryOperator: String, Sendable {
    case negate = "-"
    case not = "!"
}

public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", matmul = "@", modulo = "%"
    case power = "^"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    /// `x in xs` and `x not in xs`: membership, at the comparisons' level.
    case contains = "in", notContains = "not in"

    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .contains, .notContains: return true
        default: return false
        }
    }
}

public enum LogicalOperator: String, Sendable {
    case and = "&&"
    case or = "||"
}

public final class Expr: Sendable {
    public let kind: ExprKind
    public let span: SourceSpan
    /// How deep the tree below this node goes (1 for a leaf), through blocks and function
    /// bodies too: compiling, evaluating and freeing it recurse this deep, so the parser
    /// refuses deeper expressions (`Parser.maxDepth`).
    public let depth: Int
    public init(_ kind: ExprKind, _ span: SourceSpan) {
        self.kind = kind
        self.span = span
        depth = 1 + kind.childDepth
    }
}

extension ExprKind {
    /// The depth of the deepest child.
    var childDepth: Int {
        switch self {
        case .number, .string, .bool, .none, .name: return 0
        case .list(let items): return items.reduce(0) { max($0, $1.depth) }
        case .record(let entries): return entries.reduce(0) { max($0, $1.value.depth) }
        case .unary(_, let e), .field(let e, _), .transpose(let e): return e.depth
        case .binary(_, let a, let b), .logical(_, let a, let b): return max(a.depth, b.depth)
        case .call(let callee, let arguments): return arguments.reduce(callee.depth) { max($0, $1.value.depth) }
        case .index(let target, let items): return items.reduce(target.depth) { max($0, $1.depth) }
        case .ifElse(let condition, let then, let otherwise): return max(condition.depth, then.depth, otherwise?.depth ?? 0)
        case .function(let decl): return decl.depth
        case .comprehension(let element, let clauses):
            return clauses.reduce(element.depth) { max($0, $1.iterable.depth, $1.conditions.reduce(0) { max($0, $1.depth) }) }
        }
    }
}

public indirect enum ExprKind: Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case none
    case name(String)
    /// `[a, b, c]`: a tensor literal or a list, decided when evaluated (§3).
    case list([Expr])
    /// `{a: 1, "b.c": x}`; keys are identifiers or strings, in order.
    case record([RecordEntry])
    case unary(UnaryOperator, Expr)
    case binary(BinaryOperator, Expr, Expr)
    case logical(LogicalOperator, Expr, Expr)
    case call(callee: Expr, arguments: [Argument])
    case index(Expr, [IndexItem])
    case field(Expr, name: String)
    /// `x'`: swaps the last two axes.
    case transpose(Expr)
    /// `if c { a } else { b }`; `else if` is an else block holding one `if` expression.
    case ifElse(condition: Expr, then: Block, otherwise: Block?)
    /// `fn(x) = x * 2` or `fn(x) { ... }`.
    case function(FunctionDecl)
    /// `[element for x in xs if c]`: a list literal built by loops (§3); the clauses in
    /// order, the first loop outermost.
    case comprehension(element: Expr, clauses: [ComprehensionClause])
}

/// The names a `for` binds: one name, or two or more that take a pair's (a list's) items
/// apart (`for (i, x) in enumerate(xs)`, `for i, x in ...`).
public struct LoopVariables: Sendable {
    public let names: [String]
    /// Each name's span.
    public let spans: [SourceSpan]
    /// From the first name (or its parenthesis) to the last.
    public let span: SourceSpan
    public init(names: [String], spans: [SourceSpan], span: SourceSpan) {
        self.names = names
        self.spans = spans
        self.span = span
    }
    /// Whether the loop takes each item apart into several names.
    public var destructures: Bool { names.count > 1 }
}

/// One `for x in xs` of a comprehension, with the `if` conditions that follow it.
public struct ComprehensionClause: Sendable {
    public let variables: LoopVariables
    public let iterable: Expr
    public let conditions: [Expr]
    public init(variables: LoopVariables, iterable: Expr, conditions: [Expr]) {
        self.variables = variables
        self.iterable = iterable
        self.conditions = conditions
    }
}

public struct RecordEntry: Sendable {
    public let key: String
    public let value: Expr
    public let keySpan: SourceSpan
    public init(key: String, value: Expr, keySpan: SourceSpan) {
        self.key = key
        self.value = value
        self.keySpan = keySpan
    }
}

public struct Argument: Sendable {
    /// The keyword in `softmax(e, axis=-1)`; nil for a positional argument.
    public let label: String?
    public let value: Expr
    public let span: SourceSpan
    public init(label: String?, value: Expr, span: SourceSpan) {
        self.label = label
        self.value = value
        self.span = span
    }
}

public enum IndexItem: Sendable {
    /// `x[i]`: a number, a one-element tensor, or an integral tensor to gather with.
    case single(Expr)
    /// `x[a:b:c]`, any part may be missing.
    case slice(start: Expr?, stop: Expr?, step: Expr?, span: SourceSpan)
    /// `x[..., i]`: every axis the other items leave, each taken whole (at most one per
    /// subscript; what it stands for is the indexed value's business).
    case ellipsis(SourceSpan)

    var depth: Int {
        switch self {
        case .ellipsis: return 0
        case .single(let e): return e.depth
        case .slice(let start, let stop, let step, _): return max(start?.depth ?? 0, stop?.depth ?? 0, step?.depth ?? 0)
        }
    }
}

public struct Block: Sendable {
    public let statements: [Stmt]
    public let span: SourceSpan
    /// As `Expr.depth`: one more than its deepest statement.
    public let depth: Int
    public init(statements: [Stmt], span: SourceSpan) {
        self.statements = statements
        self.span = span
        depth = 1 + statements.reduce(0) { max($0, $1.depth) }
    }
}

public struct Parameter: Sendable {
    public let name: String
    public let defaultValue: Expr?
    public let span: SourceSpan
    public init(name: String, defaultValue: Expr?, span: SourceSpan) {
        self.name = name
        self.defaultValue = defaultValue
        self.span = span
    }
}

public enum FunctionBody: Sendable {
    /// `fn f(x) = expr`
    case expression(Expr)
    /// `fn f(x) { ... }`: the value of the last statement is returned.
    case block(Block)
}

public final class FunctionDecl: Sendable {
    /// nil for an anonymous `fn(x) = ...`.
    public let name: String?
    public let parameters: [Parameter]
    public let body: FunctionBody
    public let span: SourceSpan
    /// As `Expr.depth`: one more than its body or deepest default value.
    public let depth: Int
    public init(name: String?, parameters: [Parameter], body: FunctionBody, span: SourceSpan) {
        self.name = name
        self.parameters = parameters
        self.body = body
        self.span = span
        let bodyDepth = switch body {
        case .expression(let e): e.depth
        case .block(let b): b.depth
        }
        depth = 1 + parameters.reduce(bodyDepth) { max($0, $1.defaultValue?.depth ?? 0) }
    }
}

public struct Stmt: Sendable {
    public let kind: StmtKind
    public let span: SourceSpan
    /// A trailing `;` silences the REPL's printing of an expression's value.
    public let silenced: Bool
    /// The `#` comment lines directly above the statement (text after `#`, trimmed of one
    /// leading space), used as narration by `--step`. Empty when there are none.
    public let comments: [String]
    /// As `Expr.depth`: one more than its deepest expression or block.
    public let depth: Int
    public init(kind: StmtKind, span: SourceSpan, silenced: Bool = false, comments: [String] = []) {
        self.kind = kind
        self.span = span
        self.silenced = silenced
        self.comments = comments
        depth = 1 + kind.childDepth
    }
}

public enum StmtKind: Sendable {
    case expression(Expr)
    /// `target = value`; the target is a `.name`, `.field` or `.index` expression.
    case assign(target: Expr, value: Expr)
    /// `target += value` and friends (`+ - * / @ ^ %`).
    case compoundAssign(BinaryOperator, target: Expr, value: Expr)
    /// `fn name(...) ...`
    case function(FunctionDecl)
    case forLoop(variables: LoopVariables, iterable: Expr, body: Block)
    case whileLoop(condition: Expr, body: Block)
    case breakLoop
    case continueLoop
    case returnValue(Expr?)

    var childDepth: Int {
        switch self {
        case .expression(let e): return e.depth
        case .assign(let target, let value), .compoundAssign(_, let target, let value): return max(target.depth, value.depth)
        case .function(let decl): return decl.depth
        case .forLoop(_, let iterable, let body): return max(iterable.depth, body.depth)
        case .whileLoop(let condition, let body): return max(condition.depth, body.depth)
        case .breakLoop, .continueLoop: return 0
        case .returnValue(let e): return e?.depth ?? 0
        }
    }
}

/// A parsed source: its statements in order.
public struct Program: Sendable {
    public let statements: [Stmt]
    public let source: Source
    public init(statements: [Stmt], source: Source) {
        self.statements = statements
        self.source = source
    }
}
