import Lang
import Tensor

/// A builtin's parameter together with the Swift type its body receives. Declared once in
/// the table entry, it gives the table its name and default (for `:help`, completion and
/// keyword checking) and reads and converts the argument before the body runs, so that
/// the body gets typed values in declaration order and cannot read a parameter it did not
/// declare:
///
/// ```
/// builtin("softmax", .tensor("x"), .int("axis", default: -1), summary: "...",
///         example: "softmax([1, 2, 3])") { args, x, axis in
///     .tensor(try x.softmax(axis: axis))
/// }
/// ```
///
/// Conversion errors are the accessors' of `Arguments`: they name the builtin, the
/// parameter and the argument's place. A group (`maskOptions`) declares several
/// parameters and reads them into one value.
struct Param<T> {
    let declarations: [BuiltinParameter]
    let read: (Arguments) throws -> T

    init(declarations: [BuiltinParameter], read: @escaping (Arguments) throws -> T) {
        self.declarations = declarations
        self.read = read
    }

    /// A required parameter read by `read(args, name)`: `.required("p", as: multiHead)`.
    static func required(_ name: String, as read: @escaping (Arguments, String) throws -> T) -> Param {
        Param(declarations: [.required(name)]) { try read($0, name) }
    }

    /// An optional parameter (`default` when not given, shown in help as `shown`) read by
    /// `read(args, name)`.
    static func optional(_ name: String, default value: Value, shown: String,
                         as read: @escaping (Arguments, String) throws -> T) -> Param {
        Param(declarations: [.optional(name, value, shown)]) { try read($0, name) }
    }

    /// Several parameters read together into one value, each declared once as a Param:
    /// `Param(.optionalTensor("mask"), .bool("causal", default: false)) { _, mask, causal in
    /// Masking(mask: mask, causal: causal) }`. `combine` also gets the arguments, for an
    /// error about the combination (heads that do not divide d).
    init<each P>(_ parts: repeat Param<each P>, combine: @escaping (Arguments, repeat each P) throws -> T) {
        var declarations: [BuiltinParameter] = []
        for part in repeat each parts { declarations += part.declarations }
        self.init(declarations: declarations) { args in
            let values = (repeat try (each parts).read(args))
            return try combine(args, repeat each values)
        }
    }

    /// An optional parameter whose default is none: nil then, else the argument as `read`
    /// converts it (`.optionalNumber`, `.optionalString`, `.optionalBool`).
    static func noneOr<U>(_ name: String, shown: String = "none",
                          _ read: @escaping (Arguments, String) throws -> U) -> Param where T == U? {
        .optional(name, default: .none, shown: shown) { args, name in
            try args.value(name).isNone ? nil : try read(args, name)
        }
    }

    /// The same parameter, its value passed through `transform`.
    func map<U>(_ transform: @escaping (T) throws -> U) -> Param<U> {
        let read = self.read
        return Param<U>(declarations: declarations) { try transform(try read($0)) }
    }
}

/// How help shows a default number: whole numbers without a point (`-1`, `100`).
private func shownNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return String(x)
}

extension Param where T == Value {
    /// The argument as given, unconverted (for builtins that accept several kinds).
    static func value(_ name: String) -> Param { .required(name) { try $0.value($1) } }
    static func value(_ name: String, default value: Value, shown: String) -> Param {
        .optional(name, default: value, shown: shown) { try $0.value($1) }
    }
    /// An optional argument whose default is none.
    static func optionalValue(_ name: String) -> Param { .value(name, default: .none, shown: "none") }
}

extension Param where T == Tensor {
    static func tensor(_ name: String) -> Param { .required(name) { try $0.tensor($1) } }
    static func tensor(_ name: String, default value: Value, shown: String) -> Param {
        .optional(name, default: value, shown: shown) { try $0.tensor($1) }
    }
}

extension Param where T == Tensor? {
    /// A tensor, or nil for none (the default).
    static func optionalTensor(_ name: String) -> Param { .optional(name, default: .none, shown: "none") { try $0.optionalTensor($1) } }
}

extension Param where T == Double {
    static func number(_ name: String) -> Param { .required(name) { try $0.number($1) } }
    static func number(_ name: String, default value: Double, shown: String? = nil) -> Param {
        .optional(name, default: .number(value), shown: shown ?? shownNumber(value)) { try $0.number($1) }
    }
}

extension Param where T == Double? {
    /// A number, or nil for none (the default).
    static func optionalNumber(_ name: String, shown: String = "none") -> Param {
        .noneOr(name, shown: shown) { try $0.number($1) }
    }
}

extension Param where T == Int {
    static func int(_ name: String) -> Param { .required(name) { try $0.int($1) } }
    static func int(_ name: String, default value: Int, shown: String? = nil) -> Param {
        .optional(name, default: .number(Double(value)), shown: shown ?? String(value)) { try $0.int($1) }
    }
    /// A size (an integer >= 0, as `zeros` takes), required.
    static func size(_ name: String) -> Param { .required(name, as: sizeArgument) }
}

extension Param where T == Int? {
    /// An integer, or nil for none (the default).
    static func optionalInt(_ name: String, shown: String = "none") -> Param {
        .optional(name, default: .none, shown: shown) { try $0.optionalInt($1) }
    }
}

extension Param where T == Bool {
    static func bool(_ name: String) -> Param { .required(name) { try $0.bool($1) } }
    static func bool(_ name: String, default value: Bool) -> Param {
        .optional(name, default: .bool(value), shown: String(value)) { try $0.bool($1) }
    }
    static var keepdims: Param { .bool("keepdims", default: false) }
}

extension Param where T == String {
    static func string(_ name: String) -> Param { .required(name) { try $0.string($1) } }
    static func string(_ name: String, default value: String, shown: String? = nil) -> Param {
        .optional(name, default: .string(StringValue(value)), shown: shown ?? "\"\(value)\"") { try $0.string($1) }
    }
    /// A file path: a string without NUL bytes.
    static func path(_ name: String) -> Param { .required(name) { try $0.path($1) } }
}

extension Param where T == String? {
    /// A string, or nil for none (the default).
    static func optionalString(_ name: String) -> Param {
        .noneOr(name) { try $0.string($1) }
    }
}

extension Param where T == Bool? {
    /// true or false, or nil for none (the default).
    static func optionalBool(_ name: String) -> Param {
        .noneOr(name) { try $0.bool($1) }
    }
}

extension Param where T == RecordValue {
    static func record(_ name: String) -> Param { .required(name) { try $0.record($1) } }
}

extension Param where T == [Int]? {
    /// Axes: a number, a list or tensor of numbers, or none (nil, all axes; the default).
    static func axes(_ name: String) -> Param { .optional(name, default: .none, shown: "none") { try $0.axes($1) } }
    static var axisAll: Param { .axes("axis") }
}

extension Param where T == [Int] {
    /// Sizes from the variadic arguments: `zeros(2, 3)`, `zeros([2, 3])`, `zeros(shape(x))`.
    static func sizes(_ name: String) -> Param { Param(declarations: [.variadic(name)]) { try $0.sizes() } }
    /// Integers from the variadic arguments, one by one or as one list or 1-D tensor.
    static func integers(_ name: String, what: String) -> Param {
        Param(declarations: [.variadic(name)]) { try $0.restIntegers(what: what) }
    }
}

extension Param where T == [Value] {
    /// The variadic arguments as given (their places are `args.restSpans`).
    static func rest(_ name: String) -> Param { Param(declarations: [.variadic(name)]) { $0.rest } }
}

/// A table entry whose body receives its parameters' typed values in declaration order
/// (see `Param`). Its category is its section's (`Library.all`).
func builtin<each P>(_ name: String, _ parameters: repeat Param<each P>,
                     summary: String, example: String, details: String = "",
                     _ body: @escaping (Arguments, repeat each P) throws -> Value) -> Builtin {
    var declarations: [BuiltinParameter] = []
    for parameter in repeat each parameters { declarations += parameter.declarations }
    return Builtin(name, declarations, category: .system, summary: summary, example: example, details: details) { args in
        let values = (repeat try (each parameters).read(args))
        return try body(args, repeat each values)
    }
}

/// One argument as given, with its parameter's name and its place in the source: for a
/// body that reads an argument in more than one way (a list or a tensor, a number or a
/// string) or needs its place for an error.
struct RawArgument {
    let name: String
    let value: Value
    let arguments: Arguments

    /// Where the argument was written (the call when it was not).
    var span: SourceSpan { arguments.span(name) }
    var isNone: Bool { value.isNone }

    func tensor() throws -> Tensor { try arguments.tensor(name) }
    func optionalTensor() throws -> Tensor? { try arguments.optionalTensor(name) }
    func number() throws -> Double { try arguments.number(name) }
    func int() throws -> Int { try arguments.int(name) }
    func optionalInt() throws -> Int? { try arguments.optionalInt(name) }
    func size() throws -> Int { try sizeArgument(arguments, name) }
    func bool() throws -> Bool { try arguments.bool(name) }
    func string() throws -> String { try arguments.string(name) }
    func path() throws -> String { try arguments.path(name) }
    func record() throws -> RecordValue { try arguments.record(name) }
    func axes() throws -> [Int]? { try arguments.axes(name) }

    /// "type error: f expects EXPECTED for 'name', got ...", at the argument.
    func typeError(expected: String) -> TxError {
        arguments.typeError(name, expected: expected, got: value)
    }
}

extension Param where T == RawArgument {
    static func argument(_ name: String) -> Param {
        .required(name) { RawArgument(name: $1, value: try $0.value($1), arguments: $0) }
    }
    static func argument(_ name: String, default value: Value, shown: String) -> Param {
        .optional(name, default: value, shown: shown) { RawArgument(name: $1, value: try $0.value($1), arguments: $0) }
    }
    /// An argument whose default is none.
    static func optionalArgument(_ name: String) -> Param { .argument(name, default: .none, shown: "none") }
}

/// A number or a tensor, as elementwise functions take them: numbers give numbers.
enum Numeric {
    case number(Double)
    case tensor(Tensor)

    func tensor() throws -> Tensor {
        switch self {
        case .number(let x): try Tensor(scalar: Float(x))
        case .tensor(let t): t
        }
    }
}

extension Param where T == Numeric {
    static func numeric(_ name: String) -> Param {
        .required(name) { args, name in
            if case .number(let x) = try args.value(name) { return .number(x) }
            return .tensor(try args.tensor(name))
        }
    }
}
