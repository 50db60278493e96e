import Lang
import Tensor

/// Turns the syntax tree into Swift closures, once, so that running code does no name
/// look-ups or tree walks: every variable is resolved here to a frame slot or a global
/// slot, and every operator to a specialised closure.
final class Compiler {
    private unowned let interpreter: Interpreter
    private var scope: FunctionScope?
    private var loopDepth = 0
    /// Expressions compiled so far (Ctrl-C is looked for every 65,536).
    private var compiled = 0

    init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    // MARK: Statements

    func statement(_ s: Stmt) throws -> Code {
        switch s.kind {
        case .expression(let e):
            return try expression(e)

        case .assign(let target, let value):
            // `f = fn(x) = ...`: the comments above are the function's help too.
            let valueCode = if case .function(let decl) = value.kind { try function(decl, comments: s.comments) } else { try expression(value) }
            let store = try storer(for: target)
            let span = s.span
            return { frame in
                let result = try valueCode(frame)
                // Ctrl-C during work that could not stop (one long BLAS call) keeps the
                // old value: an interrupted statement assigns nothing.
                try Interrupt.stop(at: span)
                try store(frame, result)
                return .none
            }

        case .compoundAssign(let op, let target, let value):
            return try compoundAssignment(op, target, value)

        case .function(let decl):
            let make = try function(decl, comments: s.comments)
            guard let name = decl.name else { return make }
            let store = setter(for: name)
            return { frame in
                store(frame, try make(frame))
                return .none
            }

        case .forLoop(let variables, let iterable, let body):
            let items = try expression(iterable)
            let store = binder(for: variables)
            loopDepth += 1
            defer { loopDepth -= 1 }
            let bodyCode = try block(body)
            let span = s.span, iterableSpan = iterable.span
            return { frame in
                let sequence = try items(frame)
                try Iteration.forEach(sequence, at: iterableSpan) { item in
                    try Interrupt.stop(at: span)
                    try store(frame, item)
                    do {
                        _ = try bodyCode(frame)
                    } catch let signal as ControlSignal {
                        switch signal.kind {
                        case .breakLoop: return false
                        case .continueLoop: return true
                        case .returnValue: throw signal
                        }
                    }
                    return true
                }
                return .none
            }

        case .whileLoop(let condition, let body):
            let test = try expression(condition)
            loopDepth += 1
            defer { loopDepth -= 1 }
            let bodyCode = try block(body)
            let span = s.span, conditionSpan = condition.span
            return { frame in
                while try Convert.truth(try test(frame), context: "while", at: conditionSpan) {
                    try Interrupt.stop(at: span)
                    do {
                        _ = try bodyCode(frame)
                    } catch let signal as ControlSignal {
                        switch signal.kind {
                        case .breakLoop: return .none
                        case .continueLoop: continue
                        case .returnValue: throw signal
                        }
                    }
                }
                return .none
            }

        case .breakLoop, .continueLoop:
            let isBreak: Bool
            if case .breakLoop = s.kind { isBreak = true } else { isBreak = false }
            guard loopDepth > 0 else {
                throw TxError(.syntax, "\(isBreak ? "break" : "continue") outside a loop", at: s.span)
            }
            let signal = ControlSignal(kind: isBreak ? .breakLoop : .continueLoop, value: .none)
            return { _ in throw signal }

        case .returnValue(let e):
            guard inFunction else {
                throw TxError(.syntax, "return outside a function", at: s.span)
            }
            let code = try e.map(expression) ?? { _ in .none }
            return { frame in throw ControlSignal(kind: .returnValue, value: try code(frame)) }
        }
    }

    /// A block's value is the value of its last statement (none for loops and
    /// assignments).
    func block(_ b: Block) throws -> Code {
        let codes = try b.statements.map(statement)
        switch codes.count {
        case 0: return { _ in .none }
        case 1: return codes[0]
        default:
            return { frame in
                var last = Value.none
                for code in codes { last = try code(frame) }
                return last
            }
        }
    }

    // MARK: Names

    private func resolve(_ name: String) -> Location {
        var depth = 0
        var current = scope
        while let s = current {
            if let slot = s.slotOfName[name] { return .local(depth: depth, slot: slot) }
            depth += 1
            current = s.parent
        }
        return .global(slot: interpreter.globals.slot(for: name))
    }

    private func reader(for name: String, at span: SourceSpan) -> Code {
        // What the error needs lives in one object, so that the closures capture little
        // and a read copies nothing but the value.
        let missing = MissingName(interpreter: interpreter, name: name, span: span, visible: visibleNames())
        switch resolve(name) {
        case .local(let depth, let slot):
            if depth == 0 {
                return { frame in
                    if let v = frame.slots[slot] { return v }
                    throw missing.unassignedLocal()
                }
            }
            return { frame in
                if let v = frame.ancestor(depth).slots[slot] { return v }
                throw missing.unknown()
            }
        case .global(let slot):
            let globals = interpreter.globals
            return { _ in
                if let v = globals.get(slot) { return v }
                throw missing.unknown()
            }
        }
    }

    private func isEnclosingLocal(_ name: String) -> Bool {
        if case .local = resolve(name) { return true }
        return false
    }

    private func visibleNames() -> [String] {
        var names: [String] = []
        var current = scope
        while let s = current {
            names += s.names
            current = s.parent
        }
        return names
    }

    private func setter(for name: String) -> (Frame, Value) -> Void {
        switch resolve(name) {
        case .local(let depth, let slot):
            if depth == 0 { return { frame, value in frame.slots[slot] = value } }
            return { frame, value in frame.ancestor(depth).slots[slot] = value }
        case .global(let slot):
            let globals = interpreter.globals
            return { _, value in globals.set(slot, value) }
        }
    }

    /// Whether the code being compiled is in a function's body (a comprehension's own
    /// scope does not count: `return` there at the top level has no function to leave).
    private var inFunction: Bool {
        var current = scope
        while let s = current {
            if !s.isComprehension { return true }
            current = s.parent
        }
        return false
    }

    /// Code that binds a loop's variables to one item: the item itself for one name; for
    /// several, the item's own items (what `for` over it gives), one to each name.
    private func binder(for variables: LoopVariables) -> (Frame, Value) throws -> Void {
        let stores = variables.names.map(setter)
        guard variables.destructures else {
            let store = stores[0]
            return { frame, value in store(frame, value) }
        }
        let span = variables.span, count = stores.count, names = variables.names.joined(separator: ", ")
        return { frame, value in
            var parts: [Value] = []
            parts.reserveCapacity(count)
            switch value {
            case .tensor(let t) where t.rank == 0:
                throw TxError(.type, "cannot take a 0-d tensor apart into \(count) loop variables (\(names))", at: span)
            case .list, .tensor, .string, .range:
                try Iteration.forEach(value, at: span) { part in
                    parts.append(part)
                    return parts.count <= count
                }
            default:
                throw TxError(.type, "cannot take \(article(value.typeDescription)) apart into \(count) loop variables (\(names))", at: span)
            }
            guard parts.count == count else {
                let many = Iteration.count(of: value).map(String.init) ?? "more than \(count)"
                throw TxError(.value, "cannot take \(article(value.typeDescription)) of \(many) items apart into \(count) loop variables (\(names))", at: span)
            }
            for (store, part) in zip(stores, parts) { store(frame, part) }
        }
    }

    /// `[element for x in xs if c for y in ys ...]`: the loop variables live in a scope of
    /// their own, a frame made for each evaluation; the first iterable is evaluated
    /// outside it (as in Python). The values collected follow the literal rule (§3).
    private func comprehension(_ element: Expr, _ clauses: [ComprehensionClause], span: SourceSpan) throws -> Code {
        guard let first = clauses.first else { return try expression(element) }
        let firstIterable = try expression(first.iterable)
        let inner = FunctionScope(parent: scope, isComprehension: true)
        for clause in clauses { for name in clause.variables.names { inner.declare(name) } }
        let saved = (scope, loopDepth)
        scope = inner
        loopDepth = 0
        defer { (scope, loopDepth) = saved }
        struct Loop {
            let iterable: Code?
            let iterableSpan: SourceSpan
            let store: (Frame, Value) throws -> Void
            let conditions: [(Code, SourceSpan)]
        }
        let loops = try clauses.enumerated().map { k, clause in
            Loop(iterable: k == 0 ? nil : try expression(clause.iterable), iterableSpan: clause.iterable.span,
                 store: binder(for: clause.variables),
                 conditions: try clause.conditions.map { (try expression($0), $0.span) })
        }
        let elementCode = try expression(element)
        let size = inner.size
        return { frame in
            let local = Frame(size: size, parent: frame)
            var values: [Value] = []
            func run(_ k: Int) throws {
                guard k < loops.count else {
                    if values.count & 0xFFF == 0xFFF {
                        try Memory.checkRoom(for: 2 * values.count * MemoryLayout<Value>.stride, "building a list")
                    }
                    values.append(try elementCode(local))
                    return
                }
                let loop = loops[k]
                let sequence = try loop.iterable?(local) ?? firstIterable(frame)
                try Iteration.forEach(sequence, at: loop.iterableSpan) { item in
                    try Interrupt.stop(at: span)
                    try loop.store(local, item)
                    for (condition, conditionSpan) in loop.conditions
                    where try !Convert.truth(try condition(local), context: "if", at: conditionSpan) { return true }
                    try run(k + 1)
                    return true
                }
            }
            do {
                try run(0)
                return try Convert.literal(values) ?? .list(ListValue(values))
            } catch let error as TensorError {
                throw TxError(error, at: span)
            }
        }
    }

    /// Code that stores a value into an assignment target.
    private func storer(for target: Expr) throws -> (Frame, Value) throws -> Void {
        switch target.kind {
        case .name(let name):
            let store = setter(for: name)
            return { frame, value in store(frame, value) }
        case .field(let object, let name):
            let objectCode = try expression(object)
            let span = target.span
            return { frame, value in try Compiler.setField(name, of: try objectCode(frame), to: value, at: span) }
        case .index(let object, let items):
            let objectCode = try expression(object)
            let itemCodes = try indexItems(items)
            let span = target.span
            return { frame, value in
                let holder = try objectCode(frame)
                try Subscripts.set(holder, try itemCodes(frame), value, at: span)
            }
        default:
            throw TxError(.syntax, "cannot assign to this expression", at: target.span)
        }
    }

    /// `t op= v`: the parts of t (the record of a field, the list and indices of `x[i]`)
    /// are evaluated once, as in Python, so `x[f()] += 1` calls f once; then t is read,
    /// v evaluated, and the result stored where t was read.
    private func compoundAssignment(_ op: BinaryOperator, _ target: Expr, _ value: Expr) throws -> Code {
        let valueCode = try expression(value)
        let span = target.span, opSpan = operatorSpan(op, between: target.span, and: value.span)
        switch target.kind {
        case .name(let name):
            let read = reader(for: name, at: span), store = setter(for: name)
            return { frame in
                store(frame, try Compiler.apply(op, try read(frame), try valueCode(frame), at: opSpan))
                return .none
            }
        case .field(let object, let name):
            let objectCode = try expression(object)
            return { frame in
                let holder = try objectCode(frame)
                let current = try Compiler.field(name, of: holder, at: span)
                try Compiler.setField(name, of: holder, to: try Compiler.apply(op, current, try valueCode(frame), at: opSpan), at: span)
                return .none
            }
        case .index(let object, let items):
            let objectCode = try expression(object)
            let itemCodes = try indexItems(items)
            return { frame in
                let holder = try objectCode(frame), indices = try itemCodes(frame)
                let current = try Subscripts.get(holder, indices, at: span)
                try Subscripts.set(holder, indices, try Compiler.apply(op, current, try valueCode(frame), at: opSpan), at: span)
                return .none
            }
        default:
            throw TxError(.syntax, "cannot assign to this expression", at: span)
        }
    }

    /// `holder.name`, with the errors (and NumPy hints) of a field read; `method` is the
    /// builtin called `name`, if any.
    private static func field(_ name: String, of holder: Value, at span: SourceSpan, method: Builtin? = nil) throws -> Value {
        guard case .record(let record) = holder else {
            var message = "cannot read field '\(name)' of \(article(holder.typeDescription))"
            // NumPy and PyTorch habits: attributes, and methods that are builtins here.
            let hints = ["shape": "shape(x)", "T": "x'", "ndim": "rank(x)", "size": "size(x)", "mT": "x'"]
            let required = method?.parameters.filter { $0.defaultValue == nil }.count ?? 0
            let call = method.map { "\($0.name)(x\(required > 1 ? ", ..." : ""))" }
            if case .tensor = holder, let hint = hints[name] ?? call ?? otherSpellings[name] { message += "; tx writes \(hint)" }
            // Python's string methods: s.lower(), s.split(","), s.startswith("a").
            if case .string = holder, let method { message += "; tx writes \(method.name)(s\(method.parameters.count > 1 ? ", ..." : ""))" }
            throw TxError(.type, message, at: span)
        }
        if let v = record[name] { return v }
        var message = "record has no field '\(name)'"
        if let near = nearestName(to: name, among: record.keys) { message += " (did you mean '\(near)'?)" }
        throw TxError(.name, message, at: span)
    }

    /// `holder.name = value`.
    private static func setField(_ name: String, of holder: Value, to value: Value, at span: SourceSpan) throws {
        guard case .record(let record) = holder else {
            throw TxError(.type, "cannot set field '\(name)' on \(article(holder.typeDescription))", at: span)
        }
        if let refusal = record.role?.refusal(record, name, value) { throw TxError(.value, refusal, at: span) }
        record[name] = value
    }

    // MARK: Expressions

    func expression(_ e: Expr) throws -> Code {
        let span = e.span
        // Ctrl-C stops the compiling of a large source (a list of millions of numbers).
        compiled &+= 1
        if compiled & 0xFFFF == 0 { try Interrupt.check() }
        switch e.kind {
        case .number(let x):
            let v = Value.number(x)
            return { _ in v }
        case .string(let s):
            let v = Value.string(s)
            return { _ in v }
        case .bool(let b):
            let v = Value.bool(b)
            return { _ in v }
        case .none:
            return { _ in .none }
        case .name(let name):
            return reader(for: name, at: span)

        case .list(let items):
            let codes = try items.map(expression)
            return { frame in
                var values = [Value]()
                values.reserveCapacity(codes.count)
                for code in codes { values.append(try code(frame)) }
                do {
                    return try Convert.literal(values) ?? .list(ListValue(values))
                } catch let error as TensorError {
                    throw TxError(error, at: span)
                }
            }

        case .record(let entries):
            let codes = try entries.map { ($0.key, try expression($0.value)) }
            return { frame in
                let record = RecordValue()
                for (key, code) in codes { record[key] = try code(frame) }
                return .record(record)
            }

        case .unary(let op, let operand):
            let code = try expression(operand)
            switch op {
            case .negate:
                return { frame in
                    let v = try code(frame)
                    if case .number(let x) = v { return .number(-x) }
                    do { return try Operators.negate(v) } catch { throw located(error, at: span) }
                }
            case .not:
                return { frame in
                    do { return try Operators.not(try code(frame), at: span) } catch { throw located(error, at: span) }
                }
            }

        case .binary(let op, let l, let r):
            return try binary(op, lhs: try expression(l), rhs: try expression(r), left: l.span, right: r.span)

        case .logical(let op, let l, let r):
            let lhs = try expression(l), rhs = try expression(r)
            let context = op.rawValue
            let leftSpan = l.span, rightSpan = r.span
            // Single values short-circuit as bools; a tensor of several elements on either
            // side makes it elementwise, giving a mask.
            let isAnd = op == .and
            return { frame in
                let a = try lhs(frame)
                if case .tensor(let t) = a, t.count != 1 {
                    do { return try Operators.elementwiseLogic(and: isAnd, a, try rhs(frame)) } catch { throw located(error, at: span) }
                }
                if try Convert.truth(a, context: context, at: leftSpan) != isAnd { return .bool(!isAnd) }
                let b = try rhs(frame)
                if case .tensor(let t) = b, t.count != 1 {
                    do { return try Operators.elementwiseLogic(and: isAnd, a, b) } catch { throw located(error, at: span) }
                }
                return .bool(try Convert.truth(b, context: context, at: rightSpan))
            }

        case .call(let callee, let arguments):
            return try call(callee, arguments, span: span)

        case .index(let object, let items):
            let objectCode = try expression(object)
            let itemCodes = try indexItems(items)
            return { frame in
                let target = try objectCode(frame)
                return try Subscripts.get(target, try itemCodes(frame), at: span)
            }

        case .field(let object, let name):
            let objectCode = try expression(object)
            // x.sum() is NumPy's spelling of the builtin sum(x).
            let method = interpreter.builtins[name]
            return { frame in try Compiler.field(name, of: try objectCode(frame), at: span, method: method) }

        case .transpose(let operand):
            let code = try expression(operand)
            return { frame in
                do { return try Operators.transpose(try code(frame)) } catch { throw located(error, at: span) }
            }

        case .ifElse(let condition, let then, let otherwise):
            let test = try expression(condition)
            let thenCode = try block(then)
            let elseCode = try otherwise.map(block) ?? { _ in .none }
            let conditionSpan = condition.span
            return { frame in
                try Convert.truth(try test(frame), context: "if", at: conditionSpan) ? try thenCode(frame) : try elseCode(frame)
            }

        case .function(let decl):
            return try function(decl)

        case .comprehension(let element, let clauses):
            return try comprehension(element, clauses, span: span)
        }
    }

    private func indexItems(_ items: [IndexItem]) throws -> (Frame) throws -> [IndexArgument] {
        enum Compiled {
            case single(Code, SourceSpan)
            case slice(Code?, Code?, Code?, SourceSpan)
            case ellipsis(SourceSpan)
        }
        let compiled: [Compiled] = try items.map { item in
            switch item {
            case .single(let e): return .single(try expression(e), e.span)
            case .slice(let a, let b, let c, let span):
                return .slice(try a.map(expression), try b.map(expression), try c.map(expression), span)
            case .ellipsis(let span): return .ellipsis(span)
            }
        }
        return { frame in
            try compiled.map { item in
                switch item {
                case .single(let code, let span): return .single(try code(frame), span)
                case .slice(let a, let b, let c, let span):
                    return .slice(start: try a?(frame) ?? .none, stop: try b?(frame) ?? .none, step: try c?(frame) ?? .none, span)
                case .ellipsis(let span): return .ellipsis(span)
                }
            }
        }
    }

    private func binary(_ op: BinaryOperator, lhs: @escaping Code, rhs: @escaping Code,
                        left: SourceSpan, right: SourceSpan) throws -> Code {
        let span = operatorSpan(op, between: left, and: right)
        return { frame in try Compiler.apply(op, try lhs(frame), try rhs(frame), at: span) }
    }

    /// `a op b`: numbers take the short way; everything else goes through Operators. An
    /// error points at the operator's span.
    @inline(__always)
    private static func apply(_ op: BinaryOperator, _ a: Value, _ b: Value, at span: SourceSpan) throws -> Value {
        if case .number(let x) = a, case .number(let y) = b, let v = Operators.numbers(op, x, y) { return v }
        do { return try Operators.binary(op, a, b) } catch { throw located(error, at: span) }
    }

    private func call(_ callee: Expr, _ arguments: [Argument], span: SourceSpan) throws -> Code {
        let calleeCode = try expression(callee)
        var positional: [(Code, SourceSpan)] = []
        var keywords: [(String, Code, SourceSpan)] = []
        for argument in arguments {
            let code = try expression(argument.value)
            if let label = argument.label {
                keywords.append((label, code, argument.span))
            } else {
                positional.append((code, argument.span))
            }
        }
        let interpreter = self.interpreter
        let calleeSpan = callee.span
        let code: Code = { frame in
            let function = try calleeCode(frame)
            var positionalValues: [(Value, SourceSpan)] = []
            positionalValues.reserveCapacity(positional.count)
            for (code, argSpan) in positional { positionalValues.append((try code(frame), argSpan)) }
            var keywordValues: [(String, Value, SourceSpan)] = []
            for (label, code, argSpan) in keywords { keywordValues.append((label, try code(frame), argSpan)) }
            return try interpreter.call(function, positional: positionalValues, keywords: keywordValues,
                                        span: span, calleeSpan: calleeSpan)
        }
        // breakpoint() in a function: its prompt sees the function's variables.
        guard case .name("breakpoint") = callee.kind, case .global = resolve("breakpoint"), scope != nil else { return code }
        let locals = visibleLocals()
        return { frame in
            interpreter.breakpointLocals = locals.map { ($0.name, frame.ancestor($0.depth), $0.slot) }
            defer { interpreter.breakpointLocals = [] }
            return try code(frame)
        }
    }

    /// The locals the code being compiled sees, innermost first, each name once.
    private func visibleLocals() -> [(name: String, depth: Int, slot: Int)] {
        var locals: [(name: String, depth: Int, slot: Int)] = []
        var seen = Set<String>()
        var depth = 0
        var current = scope
        while let s = current {
            for (name, slot) in s.slotOfName.sorted(by: { $0.value < $1.value }) where seen.insert(name).inserted {
                locals.append((name, depth, slot))
            }
            depth += 1
            current = s.parent
        }
        return locals
    }

    /// Compiles `fn ...` into code that makes a closure over the current frame;
    /// `comments` are the comment lines above a `fn name(...)` statement (its help).
    private func function(_ decl: FunctionDecl, comments: [String] = []) throws -> Code {
        let inner = FunctionScope(parent: scope)
        var seen = Set<String>()
        for parameter in decl.parameters {
            guard seen.insert(parameter.name).inserted else {
                throw TxError(.syntax, "parameter '\(parameter.name)' appears twice", at: parameter.span)
            }
            inner.declare(parameter.name)
        }
        var assigned: [String] = []
        switch decl.body {
        case .expression(let e): AssignedNames.collect(in: e, into: &assigned)
        case .block(let b): AssignedNames.collect(in: b, into: &assigned)
        }
        // As in Julia: assigning a name that is a local of an enclosing function updates
        // that variable (so closures can keep state); any other assigned name is local.
        for name in assigned where !isEnclosingLocal(name) { inner.declare(name) }

        let saved = (scope, loopDepth)
        scope = inner
        loopDepth = 0
        defer { (scope, loopDepth) = saved }

        let defaults = try decl.parameters.map { try $0.defaultValue.map(expression) }
        let body: Code
        switch decl.body {
        case .expression(let e): body = try expression(e)
        case .block(let b): body = try block(b)
        }
        let template = FunctionTemplate(
            name: decl.name, parameters: decl.parameters.map(\.name), defaults: defaults,
            defaultTexts: decl.parameters.map { $0.defaultValue?.span.text },
            frameSize: inner.size, body: body, span: decl.span, comments: comments)
        return { frame in .function(FunctionValue(template: template, captured: frame)) }
    }
}

/// Gives an error without a place the span of the expression that raised it.
func located(_ error: Error, at span: SourceSpan) -> Error {
    if let tensorError = error as? TensorError { return TxError(tensorError, at: span) }
    if var txError = error as? TxError, txError.span == nil {
        txError.span = span
        return txError
    }
    return error
}

/// The span of a binary operator's symbol, found between its operands' spans.
func operatorSpan(_ op: BinaryOperator, between left: SourceSpan, and right: SourceSpan) -> SourceSpan {
    let bytes = left.source.bytes
    let symbol = Array(op.rawValue.utf8)
    var i = left.end
    while i + symbol.count <= min(right.start, bytes.count) {
        if bytes[i] == UInt8(ascii: "#") {
            while i < bytes.count, bytes[i] != UInt8(ascii: "\n") { i += 1 }
            continue
        }
        if Array(bytes[i..<(i + symbol.count)]) == symbol {
            return SourceSpan(source: left.source, start: i, end: i + symbol.count)
        }
        i += 1
    }
    return left.through(right)
}

/// A name read before it has a value, and what its error says.
private final class MissingName {
    let interpreter: Interpreter
    let name: String
    let span: SourceSpan
    let visible: [String]

    init(interpreter: Interpreter, name: String, span: SourceSpan, visible: [String]) {
        self.interpreter = interpreter
        self.name = name
        self.span = span
        self.visible = visible
    }

    func unknown() -> TxError {
        interpreter.unknownName(name, at: span, locals: visible)
    }

    func unassignedLocal() -> TxError {
        TxError(.name, "'\(name)' has no value yet (it is assigned in this function, which makes it local here)", at: span)
    }
}
