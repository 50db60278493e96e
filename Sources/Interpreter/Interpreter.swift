@preconcurrency import Glibc
import Lang
import Tensor

/// A tx session: the global variables, the random generator and the builtin table.
/// The script runner, `-e`, the REPL and the tests all go through `run`.
public final class Interpreter {
    let globals = Globals()
    /// The frame top-level functions close over (top-level names are globals).
    let rootFrame = Frame(size: 0, parent: nil)
    public private(set) var builtins: [String: Builtin] = [:]
    public private(set) var builtinList: [Builtin] = []
    var random = RandomGenerator(seed: 0)
    /// Where `print` and echoed values go.
    public var output: (String) -> Void
    /// The colours of `output`: tensor headers, and heatmap's cells.
    public var style = Style.plain
    /// Whether each echoed value becomes `ans` (in the REPL, as in Julia and MATLAB).
    public var keepsAnswer = false
    /// Told of every assert, assert_close and expect_error as it passes or fails (the
    /// stepper shows them as check marks).
    public var checkObserver: ((Check) -> Void)?
    /// What `breakpoint()` opens: a prompt in the script's scope, set when standard input
    /// is a terminal; without one `breakpoint()` does nothing.
    public var breakpointHandler: ((SourceSpan) throws -> Void)?
    /// The variables of the function a `breakpoint()` call stands in, set by that call
    /// while it runs: the prompt sees and may change them.
    var breakpointLocals: [(name: String, frame: Frame, slot: Int)] = []
    /// Takes the maps `heatmap` draws instead of printing them (the HTML transcript).
    public var figureObserver: ((any Figure) throws -> Void)?
    /// Told of each picture `savefig` wrote, with its path (the stepper names the file, and
    /// the HTML transcript shows the picture).
    public var savedFigureObserver: ((any Figure, String) throws -> Void)?
    /// Nested user-function calls allowed before a recursion error.
    public var maxCallDepth = 2_000
    private var callDepth = 0
    /// Files being included, innermost last (include inside include).
    private var including: [String] = []
    /// The session that runs lib/bert.tx, the tx functions behind `load_model` and the
    /// other model builtins, made on first use; its names stay out of this session's variables.
    private var modelSession: Interpreter?
    /// How this session prints tensors, lists and records (`print_options`); bound while
    /// it runs code or prints (see `printing`).
    public let printSettings = PrintSettings()
    /// Script arguments (`tx FILE.tx a b` gives args = ["a", "b"]).
    public var scriptArguments: [String] = [] {
        didSet { globals.define("args", .list(ListValue(scriptArguments.map { .string($0) }))) }
    }

    /// Address space a session maps besides its data: the interpreter's large stack, and
    /// OpenBLAS's buffers and threads (about 300 MiB once attention has run). An
    /// address-space limit (`ulimit -v`) leaves the rest for data.
    public static let reservedAddressSpace = LargeStack.size + (320 << 20)

    public init(output: @escaping (String) -> Void = StandardOutput.write) {
        self.output = output
        // Reading a long source stops on Ctrl-C too.
        ReadingInterrupt.stop = { Interrupt.isRequested }
        for builtin in Library.all() {
            builtins[builtin.name] = builtin
            builtinList.append(builtin)
        }
        defineBuiltins()
    }

    deinit {
        // Releasing deeply nested values recurses: do it on the large stack.
        _ = try? LargeStack.run { globals.removeAll() }
    }

    private func defineBuiltins() {
        for builtin in builtinList { globals.define(builtin.name, .builtin(builtin)) }
        for constant in Interpreter.constants {
            globals.define(constant.name, constant.value.map(Value.number) ?? .list(ListValue(scriptArguments.map { .string($0) })))
        }
    }

    /// The names a session starts with besides the builtins, and their help: defined
    /// here, listed by `:help`, completed, and never shown by `:vars`. `args` (no value
    /// here) holds the script's arguments.
    static let constants: [(name: String, value: Double?, help: String)] = [
        ("pi", Double.pi, "The number 3.141592653589793.\n\n  example: sin(pi / 2)"),
        ("inf", Double.infinity, "Positive infinity; -inf is what masks put where attention is not allowed.\n\n  example: softmax([0, -inf])"),
        ("nan", Double.nan, "Not a number: the result of 0 / 0; it is never equal to anything, itself included.\n\n  example: nan == nan"),
        ("args", nil, "The extra command-line arguments of `tx FILE.tx [args]`, as a list of strings\n  (empty in the REPL and for -e).\n\n  example: len(args)"),
    ]

    /// Forgets every variable and reseeds the generator: a fresh session.
    public func reset() {
        // Releasing deeply nested values recurses: do it on the large stack.
        _ = try? LargeStack.run { globals.removeAll() }
        Memory.trimCache()
        defineBuiltins()
        random = RandomGenerator(seed: 0)
        printSettings.options = PrintOptions()
    }

    /// Runs `body` with this session's print options in force.
    public func printing<T>(_ body: () throws -> T) rethrows -> T {
        try TensorFormatter.$settings.withValue(printSettings, operation: body)
    }

    /// Names the user defined (not builtins or constants), in definition order.
    public var userVariables: [(name: String, value: Value)] {
        globals.names.indices.compactMap(userVariable(at:))
    }

    /// The user's variable in a global slot: nil when the slot is unset, or holds a
    /// builtin under its own name, a constant or `ans`.
    func userVariable(at slot: Int) -> (name: String, value: Value)? {
        guard let value = globals.get(slot) else { return nil }
        let name = globals.names[slot]
        if case .builtin(let b) = value, b.name == name { return nil }
        if name == "ans" || Interpreter.constants.contains(where: { $0.name == name }) { return nil }
        return (name, value)
    }

    /// Every name that currently has a value (for completion and suggestions).
    public var definedNames: [String] { globals.definedNames }

    public func value(named name: String) -> Value? { globals.value(named: name) }

    /// The global variables and the random generator's state, to go back to.
    public struct Snapshot {
        let globals: [Value?]
        let random: RandomGenerator
    }

    public func snapshot() -> Snapshot { Snapshot(globals: globals.values, random: random) }

    /// Runs `body` with the locals of the function `breakpoint()` was called in as
    /// top-level names, shadowing globals of the same name; afterwards each local takes
    /// the value its name then has, and the globals are as they were.
    func withBreakpointLocals(_ body: () throws -> Void) rethrows {
        let locals = breakpointLocals.filter { $0.frame.slots[$0.slot] != nil }
        let shadowed = locals.map { globals.value(named: $0.name) }
        for local in locals { if let value = local.frame.slots[local.slot] { globals.define(local.name, value) } }
        defer {
            for (local, old) in zip(locals, shadowed) {
                if let value = globals.value(named: local.name) { local.frame.slots[local.slot] = value }
                globals.put(globals.slot(for: local.name), old)
            }
        }
        try body()
    }

    public func restore(_ snapshot: Snapshot) {
        _ = try? LargeStack.run { globals.restore(snapshot.globals) }
        random = snapshot.random
    }

    // MARK: Running code

    /// One top-level statement's outcome, for the REPL and `--step`.
    public struct StatementResult {
        public let statement: Stmt
        public let value: Value
        /// Whether the REPL shows `value`: an expression statement, not silenced by `;`,
        /// whose value is not none.
        public let shouldEcho: Bool
    }

    /// Parses and runs `text` (whose lines are numbered from `firstLine` in errors);
    /// echoes the values of top-level expression statements to `output` when `echo` is
    /// set. Returns the value of the last statement.
    @discardableResult
    public func run(_ text: String, name: String, firstLine: Int = 1, echo: Bool) throws -> Value {
        try run(Source(name: name, text: text, firstLine: firstLine), echo: echo)
    }

    /// Parses and runs `source` as `run(_:name:firstLine:echo:)` does (the REPL keeps
    /// each input's source: the functions it defines point into it).
    @discardableResult
    public func run(_ source: Source, echo: Bool) throws -> Value {
        try printing { try LargeStack.run {
            var program = try Parser.parse(source, steps: Self.reading(source.name))
            var codes: [Code] = []
            defer { Leftovers.release(&program, &codes) }
            var last = Value.none
            try runStatements(of: program, codes: &codes, topLevel: true) { result in
                last = result.value
                if echo, result.shouldEcho {
                    try write(Display.show(result.value, style: style) + "\n", at: result.statement.span)
                    if keepsAnswer { globals.define("ans", result.value) }
                }
            }
            return last
        } }
    }

    /// Writes `text` to `output`, a long text (a huge list) in pieces with a check for
    /// Ctrl-C between them, so that an interrupt stops the printing too.
    public func write(_ text: String, at span: SourceSpan?) throws {
        let piece = 1 << 16
        var rest = Substring(text)
        while let cut = rest.index(rest.startIndex, offsetBy: piece, limitedBy: rest.endIndex), cut < rest.endIndex {
            output(String(rest[..<cut]))
            rest = rest[cut...]
            try Interrupt.stop(at: span)
        }
        output(String(rest))
    }

    /// Compiles the whole program first (so a misplaced `break` is reported before
    /// anything runs), then runs its statements in order. Parsing, compiling and
    /// running happen on a thread with a large stack (see `LargeStack`).
    public func run(_ program: Program, each: (StatementResult) throws -> Void) throws {
        var codes: [Code] = []
        try printing { try LargeStack.run { try runStatements(of: program, codes: &codes, topLevel: true, each: each) } }
    }

    /// What `run` and `include` share: compiles every statement, then runs them in
    /// order, checking for Ctrl-C between them. At the top level each statement starts
    /// a fresh call depth (`execute`); an included file runs inside the statement that
    /// includes it. The compiled statements go to `codes`, so that the caller, which
    /// owns the program too, can hand both to `Leftovers` to free.
    private func runStatements(of program: Program, codes: inout [Code], topLevel: Bool,
                               each: (StatementResult) throws -> Void) throws {
        let compiler = Compiler(interpreter: self)
        codes.reserveCapacity(program.statements.count)
        for statement in program.statements {
            // Ctrl-C: compiling 10^6 statements takes seconds.
            try Interrupt.stop(at: statement.span)
            codes.append(try compiler.statement(statement))
        }
        for (statement, code) in zip(program.statements, codes) {
            let value: Value
            if topLevel {
                value = try execute(code, at: statement.span)
            } else {
                value = try code(rootFrame)
                try Interrupt.stop(at: statement.span)
            }
            try each(StatementResult(statement: statement, value: value, shouldEcho: Self.echoes(statement, value)))
        }
    }

    /// Runs one statement (used by `--step`, which shows each before running it).
    public func run(statement: Stmt) throws -> StatementResult {
        try printing { try LargeStack.run {
            let code = try Compiler(interpreter: self).statement(statement)
            let value = try execute(code, at: statement.span)
            return StatementResult(statement: statement, value: value, shouldEcho: Self.echoes(statement, value))
        } }
    }

    /// Runs a compiled statement. An interrupt that arrived since the last prompt stops
    /// it (the REPL's readers drop the ones pressed while typing), and one that arrived
    /// during work that could not stop is reported when the statement ends, instead of
    /// its value.
    func execute(_ code: Code, at span: SourceSpan) throws -> Value {
        callDepth = 0
        let value: Value
        do {
            value = try code(rootFrame)
        } catch let error as TensorError {
            throw TxError(error, at: nil)
        }
        try Interrupt.stop(at: span)
        return value
    }

    private static func echoes(_ statement: Stmt, _ value: Value) -> Bool {
        guard case .expression = statement.kind, !statement.silenced else { return false }
        return !value.isNone
    }

    /// The checks made while a source is read: Ctrl-C, and the memory limit for its tokens
    /// and syntax tree, which take about 170 bytes a token (a 54 MB file of short
    /// statements, 17 million tokens, took 3.2 GB, uncounted, before it ran).
    static func reading(_ name: String) -> ReadingSteps {
        ReadingSteps { steps in
            try Interrupt.stop(at: nil)
            do {
                try Memory.checkRoom(for: steps.tokens * 176, "reading \(name) (\(steps.tokens) tokens so far)")
            } catch let error as TensorError {
                throw TxError(error, at: nil)
            }
        }
    }

    /// `include(path)`: runs a file's statements in this session's global scope, as if
    /// typed here; its functions and variables stay defined.
    func include(path: String) throws {
        guard including.count < 32 else {
            throw TxError(.limit, label: "recursion limit", "include nested more than 32 files deep (does \(path) include itself?)")
        }
        var program = try Parser.parse(Source(name: path, text: try Runner.readSource(path: path)), steps: Self.reading(path))
        var codes: [Code] = []
        defer { Leftovers.release(&program, &codes) }
        including.append(path)
        defer { including.removeLast() }
        try runStatements(of: program, codes: &codes, topLevel: false) { _ in }
    }

    /// The tx function `name` of lib/bert.tx (the model functions), and the session it
    /// runs in.
    func modelFunction(_ name: String) throws -> (Interpreter, Value) {
        let session: Interpreter
        if let existing = modelSession {
            session = existing
        } else {
            guard let folder = LibFolder.path else {
                throw TxError(.io, "tx's library folder (lib/ with bert.tx) was not found beside the tx executable or its source tree; set TX_LIB to it")
            }
            session = Interpreter(output: { [unowned self] text in self.output(text) })
            try session.include(path: folder + "/bert.tx")
            modelSession = session
        }
        guard let function = session.value(named: name) else {
            throw TxError(.name, "the model library has no function '\(name)'")
        }
        return (session, function)
    }

    // MARK: Calls

    func call(_ callee: Value, positional: [(Value, SourceSpan)], keywords: [(String, Value, SourceSpan)],
              span: SourceSpan, calleeSpan: SourceSpan) throws -> Value {
        switch callee {
        case .builtin(let builtin):
            let arguments = try Arguments(builtin: builtin, positional: positional, keywords: keywords,
                                          span: span, interpreter: self)
            do {
                let result = try builtin.body(arguments)
                if let tape = Tape.active {
                    try Gradients.checkFlow(builtin, tape, positional: positional, keywords: keywords, result: result, at: span)
                }
                return result
            } catch {
                throw located(error, at: arguments.place(of: error))
            }
        case .function(let function):
            return try callUser(function, positional: positional, keywords: keywords, span: span)
        default:
            throw TxError(.type, "\(article(callee.typeDescription)) is not a function", at: calleeSpan)
        }
    }

    /// Calls a function value with plain arguments (for builtins that take functions).
    public func call(_ callee: Value, _ arguments: [Value], at span: SourceSpan) throws -> Value {
        try call(callee, positional: arguments.map { ($0, span) }, keywords: [], span: span, calleeSpan: span)
    }

    private func callUser(_ function: FunctionValue, positional: [(Value, SourceSpan)],
                          keywords: [(String, Value, SourceSpan)], span: SourceSpan) throws -> Value {
        let template = function.template
        let parameters = template.parameters
        guard positional.count <= parameters.count else {
            throw TxError(.arity, "\(template.signature) takes \(parameters.count) argument\(parameters.count == 1 ? "" : "s"), got \(positional.count)", at: span)
        }
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth <= maxCallDepth else {
            throw TxError(.limit, label: "recursion limit", "more than \(maxCallDepth) nested calls (runaway recursion?)", at: span)
        }
        try Interrupt.stop(at: span)
        let frame = Frame(size: template.frameSize, parent: function.captured)
        for (i, argument) in positional.enumerated() { frame.slots[i] = argument.0 }
        for (label, value, argSpan) in keywords {
            guard let i = parameters.firstIndex(of: label) else {
                var message = "\(template.signature) has no parameter '\(label)'"
                if let near = nearestName(to: label, among: parameters) { message += " (did you mean '\(near)'?)" }
                throw TxError(.name, message, at: argSpan)
            }
            guard frame.slots[i] == nil else {
                throw TxError(.arity, "\(template.signature) got two values for '\(label)'", at: argSpan)
            }
            frame.slots[i] = value
        }
        for i in parameters.indices where frame.slots[i] == nil {
            guard let code = template.defaults[i] else {
                throw TxError(.arity, "\(template.signature) needs the argument '\(parameters[i])'", at: span)
            }
            frame.slots[i] = try code(frame)
        }
        do {
            return try template.body(frame)
        } catch let signal as ControlSignal where signal.kind == .returnValue {
            return signal.value
        } catch var error as TxError {
            if error.span != nil, error.trace.count < 8, error.kind != .limit { error.trace.append(TxError.Call(function: function.name, site: span)) }
            throw error
        }
    }

    func unknownName(_ name: String, at span: SourceSpan, locals: [String]) -> TxError {
        var message = "unknown name '\(name)'"
        if let near = nearestName(to: name, among: locals + globals.definedNames) {
            message += " (did you mean '\(near)'?)"
        }
        // PyTorch's and NumPy's names.
        if let spelling = otherSpellings[name] { message = "unknown name '\(name)'; tx writes \(spelling)" }
        // IPython's last value.
        if name == "_" { message = "unknown name '_'; tx writes ans for the last value shown" }
        return TxError(.name, message, at: span)
    }
}

extension Interrupt {
    /// Throws `interrupted` at `span` (clearing the flag) when Ctrl-C was pressed: the
    /// check between statements, loop turns, calls and before a value is stored.
    static func stop(at span: SourceSpan?) throws {
        guard isRequested else { return }
        clear()
        throw TxError(.interrupted, "", at: span)
    }
}

/// Frees what a large program leaves (its statements and compiled code) on a thread of
/// its own: freeing a million statements takes about a second, which Ctrl-C or the end
/// of an `include` would otherwise wait for. Small programs are freed in place.
enum Leftovers {
    private final class Box: @unchecked Sendable {
        var items: [Any]
        init(_ items: [Any]) { self.items = items }
    }

    /// Statements past which a program is freed in the background.
    static let threshold = 10_000

    /// Takes `program`'s statements and `codes` (leaving them empty): the last references,
    /// so that they are freed where this puts them.
    static func release(_ program: inout Program, _ codes: inout [Code]) {
        guard program.statements.count >= threshold else { return }
        let items: [Any] = [program.statements, codes]
        program = Program(statements: [], source: program.source)
        codes = []
        let box = Unmanaged.passRetained(Box(items))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        // Deeply nested expressions free recursively: a large stack, as LargeStack's.
        pthread_attr_setstacksize(&attributes, LargeStack.size)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            guard let context else { return nil }
            Unmanaged<Box>.fromOpaque(context).release()
            return nil
        }, box.toOpaque())
        // No thread: the caller's reference is the last one left, and frees it in place.
        if started != 0 { box.release() }
    }
}
