import Lang
import Tensor

/// The arguments of one builtin call, bound to its parameters by position and keyword.
/// The accessors convert and check, and their errors name the builtin, the parameter
/// and the argument's place in the source.
public struct Arguments {
    let builtin: Builtin
    private var bound: [Value?]
    private var boundSpans: [SourceSpan?]
    /// The variadic arguments (`d...`), in order.
    private(set) var rest: [Value]
    private(set) var restSpans: [SourceSpan]
    /// The whole call, for errors about the call as such.
    let span: SourceSpan
    let interpreter: Interpreter
    /// The integers the body has read (axes, counts), with where each was written.
    private let integersRead = IntegersRead()

    init(builtin: Builtin, positional: [(Value, SourceSpan)], keywords: [(String, Value, SourceSpan)],
         span: SourceSpan, interpreter: Interpreter) throws {
        self.builtin = builtin
        self.span = span
        self.interpreter = interpreter
        let parameters = builtin.parameters
        bound = [Value?](repeating: nil, count: parameters.count)
        boundSpans = [SourceSpan?](repeating: nil, count: parameters.count)
        rest = []
        restSpans = []
        var next = 0
        for (value, argSpan) in positional {
            while next < parameters.count, !parameters[next].isVariadic, bound[next] != nil { next += 1 }
            guard next < parameters.count else {
                let most = parameters.count
                throw TxError(.arity, "\(builtin.name) takes at most \(most) argument\(most == 1 ? "" : "s"), got \(positional.count)", at: argSpan)
            }
            if parameters[next].isVariadic {
                rest.append(value)
                restSpans.append(argSpan)
            } else {
                bound[next] = value
                boundSpans[next] = argSpan
                next += 1
            }
        }
        for (label, value, argSpan) in keywords {
            guard let index = parameters.firstIndex(where: { $0.name == label && !$0.isVariadic }) else {
                let names = parameters.filter { !$0.isVariadic }.map(\.name)
                var message = "\(builtin.name) has no parameter '\(label)'"
                if let near = nearestName(to: label, among: names) { message += " (did you mean '\(near)'?)" }
                else if !names.isEmpty { message += "; its parameters are \(names.joined(separator: ", "))" }
                throw TxError(.name, message, at: argSpan)
            }
            guard bound[index] == nil else {
                throw TxError(.arity, "\(builtin.name) got two values for '\(label)'", at: argSpan)
            }
            bound[index] = value
            boundSpans[index] = argSpan
        }
        for (i, parameter) in parameters.enumerated() where bound[i] == nil && !parameter.isVariadic {
            guard let value = parameter.defaultValue else {
                throw TxError(.arity, "\(builtin.signature) needs the argument '\(parameter.name)'", at: span)
            }
            bound[i] = value
        }
    }

    /// The position of the parameter `name`. A name the builtin does not declare is a
    /// mistake in its body: an error, never a read of another argument (the test
    /// `builtinBodiesReadOnlyTheirParameters` finds such names before they ship).
    private func index(_ name: String) throws -> Int {
        guard let i = builtin.parameters.firstIndex(where: { $0.name == name }) else {
            throw TxError(.name, label: "internal error", "\(builtin.name) reads a parameter '\(name)' it does not have; please report this", at: span)
        }
        return i
    }

    /// The argument for `name` (its default when not given).
    public func value(_ name: String) throws -> Value {
        bound[try index(name)] ?? .none
    }

    /// Where the argument for `name` was written, or the call when it was not (or when
    /// `name` is not a parameter, so that the error being reported still shows).
    public func span(_ name: String) -> SourceSpan {
        (try? index(name)).flatMap { boundSpans[$0] } ?? span
    }

    func typeError(_ name: String, expected: String, got value: Value) -> TxError {
        TxError(.type, "\(builtin.name) expects \(expected) for '\(name)', got \(article(value.typeDescription))", at: span(name))
    }

    public func tensor(_ name: String) throws -> Tensor {
        let v = try value(name)
        guard let t = try Convert.tensor(v, at: span(name)) else {
            if case .list(let list) = v, let why = Convert.whyNotATensor(list.items) {
                throw TxError(.type, "\(builtin.name) expects a tensor for '\(name)', got \(why)", at: span(name))
            }
            throw typeError(name, expected: "a tensor", got: v)
        }
        return t
    }

    public func optionalTensor(_ name: String) throws -> Tensor? {
        let v = try value(name)
        if v.isNone { return nil }
        return try tensor(name)
    }

    public func number(_ name: String) throws -> Double {
        let v = try value(name)
        guard let x = Convert.number(v) else { throw typeError(name, expected: "a number", got: v) }
        return x
    }

    public func int(_ name: String) throws -> Int {
        try integer(value(name), for: name)
    }

    /// `value` (the argument for `name`, or an item of it) as an integer, noted as read.
    private func integer(_ value: Value, for name: String) throws -> Int {
        integersRead.note(try Convert.integer(value, what: "\(builtin.name): '\(name)'", at: span(name)), for: name, at: span(name))
    }

    public func optionalInt(_ name: String) throws -> Int? {
        let v = try value(name)
        if v.isNone { return nil }
        return try int(name)
    }

    public func bool(_ name: String) throws -> Bool {
        let v = try value(name)
        switch v {
        case .bool(let b): return b
        default:
            if let x = Convert.number(v) { return x != 0 }
            throw typeError(name, expected: "true or false", got: v)
        }
    }

    public func string(_ name: String) throws -> String {
        let v = try value(name)
        guard case .string(let s) = v else { throw typeError(name, expected: "a string", got: v) }
        return s.text
    }

    /// A file path: a string without NUL bytes (see `checkPath`).
    public func path(_ name: String) throws -> String {
        let path = try string(name)
        do {
            try checkPath(path)
        } catch let error as TensorError {
            throw TxError(error, at: span(name))
        }
        return path
    }

    public func record(_ name: String) throws -> RecordValue {
        let v = try value(name)
        guard case .record(let r) = v else { throw typeError(name, expected: "a record", got: v) }
        return r
    }

    /// Axes given as a number, a list or tensor of numbers, or none (nil).
    public func axes(_ name: String) throws -> [Int]? {
        let v = try value(name)
        switch v {
        case .none: return nil
        case .list(let list): return try list.items.map { try integer($0, for: name) }
        case .tensor(let t) where t.rank == 1: return try t.values.map { try integer(.number(Double($0)), for: name) }
        default: return [try int(name)]
        }
    }

    /// Sizes from the variadic arguments: `zeros(2, 3)`, `zeros([2, 3])`, `zeros(shape(x))`.
    public func sizes() throws -> [Int] {
        if rest.count == 1 {
            switch rest[0] {
            case .list(let list):
                return try list.items.map { try Convert.size($0, at: restSpans[0]) }
            case .tensor(let t) where t.rank == 1:
                return try t.values.map { try Convert.size(.number(Double($0)), at: restSpans[0]) }
            default: break
            }
        }
        return try zip(rest, restSpans).map { try Convert.size($0, at: $1) }
    }

    /// Integers from the variadic arguments, given one by one or as one list or 1-D
    /// tensor: `reshape(x, 2, 3)`, `reshape(x, [2, 3])`, `permute(x, shape_list)`.
    public func restIntegers(what: String) throws -> [Int] {
        let name = builtin.parameters.last(where: \.isVariadic)?.name ?? ""
        func read(_ value: Value, at span: SourceSpan) throws -> Int {
            integersRead.note(try Convert.integer(value, what: what, at: span), for: name, at: span)
        }
        if rest.count == 1 {
            switch rest[0] {
            case .list(let list):
                return try list.items.map { try read($0, at: restSpans[0]) }
            case .tensor(let t) where t.rank == 1:
                return try t.values.map { try read(.number(Double($0)), at: restSpans[0]) }
            default: break
            }
        }
        return try zip(rest, restSpans).map { try read($0, at: $1) }
    }

    /// Where an error from the body belongs: at the argument a tensor error blames
    /// (`axis=3` for an axis out of range, `n` for parts that do not divide, `gamma` of
    /// the wrong shape), positional or keyword; else at the whole call. An integer is
    /// matched by value among those read, first among the parameters named as the
    /// culprit's role (so that `split(x, 2, axis=2)` tells n from axis).
    func place(of error: Error) -> SourceSpan {
        guard let culprit = (error as? TensorError)?.culprit else { return span }
        guard let value = culprit.value else { return span(culprit.role) }
        let candidates = integersRead.entries.filter { $0.value == value }
        return (candidates.first { $0.parameter == culprit.role } ?? candidates.first)?.span ?? span
    }
}

/// The integers a builtin's body has read from its arguments, in order, each with its
/// parameter and the span it was written at (a class, so that the accessors can note).
private final class IntegersRead {
    private(set) var entries: [(value: Int, parameter: String, span: SourceSpan)] = []

    func note(_ value: Int, for parameter: String, at span: SourceSpan) -> Int {
        entries.append((value, parameter, span))
        return value
    }
}

/// "a tensor [4, 8]", "an int".
public func article(_ noun: String) -> String {
    guard let first = noun.first, noun != "none" else { return noun }
    return ("aeiou".contains(first) ? "an " : "a ") + noun
}

extension Arguments {
    /// "assertion failed: DETAIL" for a failed check, after telling the check observer.
    func failedCheck(_ detail: String) -> TxError {
        failedCheck(TxError(.assertion, detail, at: span))
    }

    /// `error` as a failed check, after telling the check observer.
    func failedCheck(_ error: TxError) -> TxError {
        interpreter.checkObserver?(Check(passed: false, at: span, detail: error.message))
        return error
    }
}
