import Lang
import Tensor

/// grad, value_and_grad, jacobian, check_grad and stop_gradient: the function transforms
/// over the tensor-level tape (Sources/Tensor/Autograd).
///
/// A call of grad(f)'s function starts a tape, copies each differentiated argument into
/// fresh tensors the tape watches (a number becomes a 0-d tensor; records and lists are
/// copied with the same structure, so the caller's values are untouched), runs f, and
/// runs the backward pass from f's loss. The gradient is built in the argument's
/// structure: numbers come back as numbers, tensors as tensors of the same shape, leaves
/// that are neither as none, and a leaf the loss does not depend on as zeros.
///
/// grad, value_and_grad and jacobian nest (the inner call's tape records inside the outer
/// one, and its backward pass is recorded by the outer tape); check_grad inside a
/// function being differentiated is an error, as its result is a number read out of
/// tensors.
enum Gradients {
    static let details = """
        f returns a number, a one-element tensor, or a record with a loss field (the other fields
        are ignored by grad; value_and_grad returns them). A number that does not depend on the
        arguments has gradient 0.
        wrt: none differentiates f's first parameter and returns its gradient; a name ("p") that
        parameter's; a list of names (["p", "x"]) gives a record keyed by them.
        A gradient has the shape of its argument: a tensor's is a tensor of the same shape, a
        number's a number, a record's or list's a record or list of the same structure (strings,
        bools and other leaves that are neither numbers nor tensors get none).
        The gradient is PyTorch's autograd's: sums over broadcast axes, E[ids] adds the gradients
        of repeated ids, maximum/minimum split ties evenly, max/min share it evenly among tied
        maxima (as amax), relu'(0) = 0, abs'(0) = 0, x ^ 0 passes 0, std and norm pass 0 where
        they are 0, floor/ceil/round, // and comparisons pass 0.
        item(), comparisons, argmax/argmin, shape queries, masks, creation functions and
        initialisers read values without a gradient (their :help says so); stop_gradient(x) cuts
        on purpose. Any other builtin whose result would cut the gradient off is an error naming
        it.
        Writing in place (x[i] = v) into a tensor the gradient still needs (an argument, or
        what a rule reads: exp's result, a product's operands) is an error at the write, as
        PyTorch's backward would refuse it. Writing into a fresh tensor (y = zeros(n), or a
        copy, a sum or a product by a number) is differentiated: the written region's gradient
        goes to the value, the rest to what the tensor held. Write through the
        tensor itself (y[i, j] = v, not y[i][j] = v) and read it after the writes; reading another
        view of it is an error.
        Control flow, loops, recursion and closures need nothing special: the tape records what
        ran. Tensors saved for the backward pass count against the memory limit, and Ctrl-C stops
        the backward pass as it stops the forward one.
        grad and value_and_grad nest: grad(grad(f)) is the second derivative, and
        grad(fn(x) = sum(grad(f)(x) * v))(x) a Hessian-vector product (the inner backward pass is
        itself recorded); so does jacobian. check_grad inside a function being differentiated
        is an error.
        """

    /// A float32 gradient as a number: the double its shortest decimal form names, so
    /// that grad(sin)(1) shows 0.5403023 rather than the float's binary expansion.
    static func number(_ x: Float) -> Double {
        Double(String(describing: x)) ?? Double(x)
    }

    /// The error for a transform called while another one is recording.
    static func nestedError(_ name: String) -> TxError {
        TxError(.value, label: "gradient error", "\(name) inside a function being differentiated is not supported (nested gradients)")
    }

    // MARK: The transforms

    /// grad(f, wrt) or value_and_grad(f, wrt): a function with f's parameters.
    static func transform(_ f: FunctionArgument, wrt: WithRespectTo, name: String, valueToo: Bool) throws -> Value {
        let names: [String]
        if let given = wrt.names {
            names = given
        } else {
            guard let first = f.parameters.first else {
                throw TxError(.value, "\(name) needs a function with at least one parameter", at: f.span)
            }
            names = [first]
        }
        for n in names where !f.parameters.contains(n) {
            var message = "\(name): f has no parameter '\(n)'"
            if let near = nearestName(to: n, among: f.parameters) { message += " (did you mean '\(near)'?)" }
            throw TxError(.name, message, at: wrt.span)
        }
        let asRecord = wrt.asRecord
        let label = "\(name)(\(functionName(f.value)))"
        return .builtin(wrapper(f.value, label: label) { interpreter, call, span in
            let run = try differentiate(f.value, call: call, names: names, interpreter: interpreter, span: span)
            let gradient: Value = asRecord
                ? .record(RecordValue(zip(names, run.gradients).map { ($0, $1) }))
                : run.gradients[0]
            return valueToo ? .record(RecordValue([("value", run.value), ("grad", gradient)])) : gradient
        })
    }

    /// jacobian(f): a function with f's parameters.
    static func jacobian(_ function: FunctionArgument) throws -> Value {
        let f = function.value
        guard let first = function.parameters.first else {
            throw TxError(.value, "jacobian needs a function with at least one parameter", at: function.span)
        }
        return .builtin(wrapper(f, label: "jacobian(\(functionName(f)))") { interpreter, call, span in
            guard let index = call.firstIndex(where: { $0.name == first }) else {
                throw TxError(.arity, "jacobian(\(functionName(f))) needs the argument '\(first)'", at: span)
            }
            let input = call[index].value
            let leaf: Tensor
            switch input {
            case .number(let x): leaf = try Tensor(scalar: Float(x))
            case .tensor(let t): leaf = try t.copy()   // recorded by an outer tape, if any
            default:
                throw TxError(.type, "jacobian differentiates with respect to a number or a tensor, got \(article(input.typeDescription))", at: call[index].span)
            }
            let tape = Tape()
            tape.watch(leaf)
            var arguments = call
            arguments[index].value = .tensor(leaf)
            let result = try tape.activate {
                try interpreter.call(f, positional: [], keywords: arguments.map { ($0.name, $0.value, $0.span) }, span: span, calleeSpan: span)
            }
            let output: Tensor
            switch result {
            case .number(let y): output = try Tensor(scalar: Float(y))
            case .tensor(let t): output = t
            default:
                throw TxError(.type, "jacobian needs f to return a number or a tensor, got \(article(result.typeDescription))", at: span)
            }
            let (m, n) = (output.count, leaf.count)
            guard m.multipliedReportingOverflow(by: n).partialValue <= 1 << 24, m <= 1 << 24, n <= 1 << 24 else {
                throw TxError(.value, "jacobian is for small functions: \(m) outputs x \(n) inputs is more than 2^24 entries", at: span)
            }
            // One backward pass per output element; the rows are stacked by a recorded
            // operation, so that an outer gradient flows through the Jacobian too.
            var rows: [Tensor] = []
            for i in 0..<m {
                let seed = try Tensor.zeros(output.shape)
                seed.storage.pointer[i] = 1
                rows.append(try Tape.gradient(leaf, in: tape.backward(from: output, seed: seed)).reshaped([n]))
            }
            let jac = try m == 0 ? Tensor.zeros(output.shape + leaf.shape) : Tensor.stack(rows, axis: 0).reshaped(output.shape + leaf.shape)
            // A number's derivative is a number, unless an outer gradient flows through it.
            if case .number = input, output.rank == 0, Tape.active.map({ !$0.tracks(jac) }) ?? true {
                return .number(number(jac.scalarValue ?? 0))
            }
            return .tensor(jac)
        })
    }

    /// check_grad(f, args..., step): the relative error of the directional derivative.
    static func check(_ f: Value, _ inputs: [Value], step given: RawArgument, _ args: Arguments) throws -> Value {
        guard Tape.active == nil else { throw nestedError("check_grad") }
        let step = try given.number()
        guard step > 0, step.isFinite else {
            throw TxError(.value, "check_grad needs a positive step, got \(TensorFormatter.formatNumber(step))", at: given.span)
        }
        let interpreter = args.interpreter, span = args.span
        // The analytic directional derivative: sum over leaves of <gradient, v>.
        let tape = Tape()
        var leaves = Leaves(tape: tape)
        let watched = try inputs.map { try leaves.watch($0) }
        let result = try tape.activate {
            try interpreter.call(f, positional: watched.map { ($0, span) }, keywords: [], span: span, calleeSpan: span)
        }
        let gradients = try loss(of: result, name: "check_grad", at: span).map { try tape.backward(from: $0) } ?? [:]
        var random = RandomGenerator(seed: 0x7478)
        var analytic = 0.0
        var directions: [ObjectIdentifier: Tensor] = [:]
        for leaf in leaves.tensors {
            let v = try Tensor.randn(leaf.shape, using: &random)
            directions[ObjectIdentifier(leaf)] = v
            let g = try Tape.gradient(leaf, in: gradients)
            analytic += Double(try Tensor.binary(.multiply, g, v).reduce(.sum).scalarValue ?? 0)
        }
        // The numeric one: f along the same direction, at +step and -step.
        func value(at sign: Double) throws -> Double {
            let moved = try watched.map { try leaves.moved($0, by: sign * step, along: directions) }
            let result = try interpreter.call(f, positional: moved.map { ($0, span) }, keywords: [], span: span, calleeSpan: span)
            guard let tensor = try loss(of: result, name: "check_grad", at: span) else {
                if case .number(let x) = result { return x }
                if case .record(let r) = result, case .number(let x)? = r["loss"] { return x }
                return 0
            }
            return Double(tensor.scalarValue ?? .nan)
        }
        let numeric = (try value(at: 1) - value(at: -1)) / (2 * step)
        let scale = max(abs(analytic), abs(numeric))
        return .number(scale == 0 ? 0 : abs(analytic - numeric) / scale)
    }

    /// stop_gradient(x): the same values in tensor objects the tape does not know.
    static func detached(_ value: Value) -> Value {
        (try? mapLeaves(value) { leaf in
            guard case .tensor(let t) = leaf else { return leaf }
            return .tensor(Tensor(storage: t.storage, shape: t.shape, strides: t.strides, offset: t.offset))
        }) ?? value
    }

    /// `value` with every leaf (what is not a list or record) replaced by `transform(leaf)`,
    /// in new lists and records of the same structure; a list or record met twice (shared,
    /// or holding itself) is copied once, so that sharing and cycles are kept.
    static func mapLeaves(_ value: Value, _ transform: (Value) throws -> Value) throws -> Value {
        var copies: [ObjectIdentifier: Value] = [:]
        func walk(_ value: Value, depth: Int) throws -> Value {
            guard depth < Operators.maxCompareDepth else { return value }
            switch value {
            case .list(let list):
                if let done = copies[ObjectIdentifier(list)] { return done }
                let copy = ListValue([])
                copies[ObjectIdentifier(list)] = .list(copy)
                var items: [Value] = []
                items.reserveCapacity(list.items.count)
                for item in list.items { items.append(try walk(item, depth: depth + 1)) }
                copy.items = items
                return .list(copy)
            case .record(let record):
                if let done = copies[ObjectIdentifier(record)] { return done }
                let copy = RecordValue()
                copies[ObjectIdentifier(record)] = .record(copy)
                for (key, item) in record.entries { copy[key] = try walk(item, depth: depth + 1) }
                return .record(copy)
            default:
                return try transform(value)
            }
        }
        return try walk(value, depth: 0)
    }

    // MARK: Running f on a tape

    /// One bound argument of a transformed function's call.
    struct Bound {
        let name: String
        var value: Value
        let span: SourceSpan
    }

    /// Runs f with the arguments `names` watched, and the backward pass from its loss.
    static func differentiate(_ f: Value, call: [Bound], names: [String], interpreter: Interpreter,
                              span: SourceSpan) throws -> (value: Value, gradients: [Value]) {
        let tape = Tape()
        var leaves = Leaves(tape: tape)
        var arguments = call
        var watched: [Value] = []
        for name in names {
            guard let i = arguments.firstIndex(where: { $0.name == name }) else {
                throw TxError(.arity, "differentiating with respect to '\(name)' needs its argument in the call (a default is not differentiated)", at: span)
            }
            arguments[i].value = try leaves.watch(arguments[i].value)
            watched.append(arguments[i].value)
        }
        let result = try tape.activate {
            try interpreter.call(f, positional: [], keywords: arguments.map { ($0.name, $0.value, $0.span) }, span: span, calleeSpan: span)
        }
        let gradients = try loss(of: result, name: "grad", at: span).map { try tape.backward(from: $0) } ?? [:]
        return (result, try watched.map { try leaves.gradient(of: $0, from: gradients) })
    }

    /// The tensor to differentiate in f's result; nil for a number (which depends on nothing).
    static func loss(of result: Value, name: String, at span: SourceSpan) throws -> Tensor? {
        func scalar(_ value: Value, what: String) throws -> Tensor? {
            switch value {
            case .number: return nil
            case .tensor(let t) where t.count == 1: return t
            default:
                throw TxError(.value, label: "gradient error", "\(name) needs f to return a number, a one-element tensor or a record with a loss field; \(what) \(article(value.typeDescription))", at: span)
            }
        }
        if case .record(let record) = result {
            guard let loss = record["loss"] else {
                throw TxError(.value, label: "gradient error", "\(name) needs f's record to have a loss field (it has \(record.keys.joined(separator: ", ")))", at: span)
            }
            return try scalar(loss, what: "its loss is")
        }
        return try scalar(result, what: "f returned")
    }

    /// The watched copies of differentiated arguments, and the gradients in their shape.
    struct Leaves {
        let tape: Tape
        /// The leaf tensors, in the order they were made.
        private(set) var tensors: [Tensor] = []
        /// Leaves that stand for numbers: their gradients are numbers.
        private var numbers: Set<ObjectIdentifier> = []

        init(tape: Tape) { self.tape = tape }

        /// `value` with each number and tensor replaced by a fresh leaf the tape watches.
        mutating func watch(_ value: Value) throws -> Value {
            var made: [Tensor] = [], fromNumbers: [ObjectIdentifier] = []
            let watched = try Gradients.mapLeaves(value) { leaf in
                switch leaf {
                case .number(let x):
                    let t = try Tensor(scalar: Float(x))
                    fromNumbers.append(ObjectIdentifier(t))
                    made.append(t)
                    return .tensor(t)
                case .tensor(let t):
                    // Recorded on the tape this call runs inside, if any: a gradient of a gradient.
                    let copy = try t.copy()
                    made.append(copy)
                    return .tensor(copy)
                default:
                    return leaf
                }
            }
            for t in made { tape.watch(t) }
            tensors += made
            numbers.formUnion(fromNumbers)
            return watched
        }

        /// The gradient of a watched value, in its structure: numbers for numbers, tensors
        /// for tensors (zeros where none arrived), none for other leaves.
        func gradient(of watched: Value, from gradients: [ObjectIdentifier: Tensor]) throws -> Value {
            try Gradients.mapLeaves(watched) { leaf in
                guard case .tensor(let t) = leaf else { return .none }
                let g = try Tape.gradient(t, in: gradients)
                // A number's gradient is a number, unless an outer gradient flows through it.
                if numbers.contains(ObjectIdentifier(t)), Tape.active.map({ !$0.tracks(g) }) ?? true {
                    return .number(Gradients.number(g.scalarValue ?? 0))
                }
                return .tensor(try g.copy())   // its own storage, whatever the rules shared
            }
        }

        /// A watched value moved by `amount` times each leaf's direction (numbers stay numbers).
        func moved(_ watched: Value, by amount: Double, along directions: [ObjectIdentifier: Tensor]) throws -> Value {
            try Gradients.mapLeaves(watched) { leaf in
                guard case .tensor(let t) = leaf, let v = directions[ObjectIdentifier(t)] else { return leaf }
                let step = try Tensor.binary(.multiply, v, scalar: Float(amount))
                if numbers.contains(ObjectIdentifier(t)) {
                    return .number(Double(t.scalarValue ?? 0) + Double(step.scalarValue ?? 0))
                }
                return .tensor(try Tensor.binary(.add, t, step))
            }
        }
    }

    // MARK: Function values made by the transforms

    /// The parameter names of a function value (nil for a value that is not a function).
    static func parameterNames(of f: Value) -> [String]? {
        switch f {
        case .function(let function): return function.template.parameters
        case .builtin(let builtin): return builtin.parameters.filter { !$0.isVariadic }.map(\.name)
        default: return nil
        }
    }

    static func functionName(_ f: Value) -> String {
        switch f {
        case .function(let function): return function.name
        case .builtin(let builtin): return builtin.name
        default: return "f"
        }
    }

    /// A builtin with f's parameters whose body gets the arguments the call gave, by
    /// name (arguments not given are left out, so that f's defaults apply). Made at run
    /// time, so that its parameters are f's: one `Param` (`Param.bound`) declares them all.
    static func wrapper(_ f: Value, label: String,
                        body: @escaping (Interpreter, [Bound], SourceSpan) throws -> Value) -> Builtin {
        let made = builtin(label, .bound(f), summary: "A function made by \(label.split(separator: "(").first ?? "grad").",
                           example: "") { call, bound in
            try body(call.interpreter, bound, call.span)
        }
        made.category = .gradients   // no table section gives it one; checkFlow lets its results through
        return made
    }

    // MARK: The safety net

    /// After a builtin call while a tape records: when a tensor argument carries a
    /// gradient but no tensor of the result does, the gradient would silently stop here.
    /// That is an error, unless the builtin (or the parameter) is declared to pass none.
    static func checkFlow(_ builtin: Builtin, _ tape: Tape, positional: [(Value, SourceSpan)],
                          keywords: [(String, Value, SourceSpan)], result: Value, at span: SourceSpan) throws {
        if builtin.passesNoGradient != nil || builtin.category == .gradients { return }
        let exempt = Library.parametersWithoutGradient[builtin.name] ?? []
        var arguments = positional.enumerated().compactMap { i, argument -> Value? in
            i < builtin.parameters.count && !builtin.parameters[i].isVariadic && exempt.contains(builtin.parameters[i].name) ? nil : argument.0
        }
        arguments += keywords.filter { !exempt.contains($0.0) }.map(\.1)
        guard arguments.contains(where: { carries(tape, $0) }) else { return }
        var tensors = 0
        if carries(tape, result, counting: &tensors) || tensors == 0 { return }
        throw TxError(.value, label: "gradient error", "\(builtin.name) has no derivative (its result is cut off from the gradient)", at: span)
    }

    /// Whether a tensor in `value` (records and lists walked) is tracked by the tape.
    static func carries(_ tape: Tape, _ value: Value) -> Bool {
        var tensors = 0
        return carries(tape, value, counting: &tensors)
    }

    /// The same, counting the tensors met.
    static func carries(_ tape: Tape, _ value: Value, counting tensors: inout Int) -> Bool {
        var seen = Set<ObjectIdentifier>()
        func walk(_ value: Value, depth: Int) -> Bool {
            guard depth < 64 else { return false }
            switch value {
            case .tensor(let t):
                tensors += 1
                return tape.tracks(t)
            case .list(let list):
                guard seen.insert(ObjectIdentifier(list)).inserted else { return false }
                return list.items.contains { walk($0, depth: depth + 1) }
            case .record(let record):
                guard seen.insert(ObjectIdentifier(record)).inserted else { return false }
                return record.entries.contains { walk($0.value, depth: depth + 1) }
            default:
                return false
            }
        }
        return walk(value, depth: 0)
    }
}

extension Gradients {
    /// The function a transform differentiates, with its parameters' names.
    struct FunctionArgument {
        let value: Value
        let parameters: [String]
        /// Where it was given.
        let span: SourceSpan
    }

    /// wrt=: nil names for f's first parameter, else the names given; a list of names
    /// gives a record of gradients.
    struct WithRespectTo {
        let names: [String]?
        let asRecord: Bool
        let span: SourceSpan
    }
}

extension Param where T == [Gradients.Bound] {
    /// The parameters of the function value f, each defaulting to a marker no call can
    /// pass: the arguments a call gave, by name, with their places (those not given are
    /// left out, so that f's own defaults apply). f's parameter names are data here, read
    /// when a transform makes its function.
    fileprivate static func bound(_ f: Value) -> Param {
        // A default no call can pass: it marks an argument that was not given.
        let marker = Builtin("missing", [], category: .gradients, summary: "", example: "") { _ in .none }
        let missing = Value.builtin(marker)
        let texts: [String?]
        let names: [String]
        switch f {
        case .function(let function):
            names = function.template.parameters
            texts = function.template.defaultTexts
        case .builtin(let builtin):
            let plain = builtin.parameters.filter { !$0.isVariadic }
            names = plain.map(\.name)
            texts = plain.map(\.defaultText)
        default:
            names = []
            texts = []
        }
        let declarations = zip(names, texts).map { name, text in
            BuiltinParameter(name: name, defaultValue: missing, defaultText: text, isVariadic: false)
        }
        return Param(declarations: declarations) { call in
            var bound: [Gradients.Bound] = []
            for name in names {
                let value = try call.value(name)
                if case .builtin(let b) = value, b === marker { continue }
                bound.append(Gradients.Bound(name: name, value: value, span: call.span(name)))
            }
            return bound
        }
    }
}
