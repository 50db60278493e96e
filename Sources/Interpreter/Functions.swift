import Lang

typealias Code = (Frame) throws -> Value

/// A compiled `fn`: what every closure made from the same declaration shares.
final class FunctionTemplate {
    let name: String?
    let parameters: [String]
    /// Default-value code, evaluated in the new frame at call time (so a default may use
    /// earlier parameters); nil for a required parameter.
    let defaults: [Code?]
    let defaultTexts: [String?]
    let frameSize: Int
    let body: Code
    let span: SourceSpan
    /// The comment lines directly above the definition: what `:help NAME` shows.
    let comments: [String]

    init(name: String?, parameters: [String], defaults: [Code?], defaultTexts: [String?],
         frameSize: Int, body: @escaping Code, span: SourceSpan, comments: [String] = []) {
        self.name = name
        self.parameters = parameters
        self.defaults = defaults
        self.defaultTexts = defaultTexts
        self.frameSize = frameSize
        self.body = body
        self.span = span
        self.comments = comments
    }

    var signature: String {
        let parts = parameters.indices.map { i in
            defaultTexts[i].map { "\(parameters[i])=\($0)" } ?? parameters[i]
        }
        return "\(name ?? "fn")(\(parts.joined(separator: ", ")))"
    }
}

/// A user function value: a template and the frame it was created in (its closure).
public final class FunctionValue {
    let template: FunctionTemplate
    let captured: Frame

    init(template: FunctionTemplate, captured: Frame) {
        self.template = template
        self.captured = captured
    }

    public var name: String { template.name ?? "fn" }
    public var signature: String { template.signature }
    /// The name after `fn` (nil for `fn(x) = ...`), its parameters' names, where it was
    /// written and the comment lines above it: what `:help NAME` and completion show.
    public var declaredName: String? { template.name }
    public var parameters: [String] { template.parameters }
    public var span: SourceSpan { template.span }
    public var comments: [String] { template.comments }
}

/// One parameter of a builtin.
public struct BuiltinParameter {
    public let name: String
    /// The default shown in help and used when the argument is missing; nil = required.
    public let defaultValue: Value?
    /// Text of the default for help (`axis=-1`, `mask=none`).
    public let defaultText: String?
    /// `d...`: collects the remaining positional arguments.
    public let isVariadic: Bool

    public static func required(_ name: String) -> BuiltinParameter {
        BuiltinParameter(name: name, defaultValue: nil, defaultText: nil, isVariadic: false)
    }
    public static func optional(_ name: String, _ value: Value, _ text: String) -> BuiltinParameter {
        BuiltinParameter(name: name, defaultValue: value, defaultText: text, isVariadic: false)
    }
    public static func variadic(_ name: String) -> BuiltinParameter {
        BuiltinParameter(name: name, defaultValue: nil, defaultText: nil, isVariadic: true)
    }
}

/// One entry of the builtin table: everything `:help`, completion, argument checking and
/// "did you mean" need, next to the code.
public final class Builtin {
    public let name: String
    public let parameters: [BuiltinParameter]
    /// The section of the table it is listed in (set by `Library.all`).
    public internal(set) var category: Category
    /// One line: what it does.
    public let summary: String
    /// A line of tx that runs.
    public let example: String
    /// Longer help: arguments, shapes, notes. May be empty.
    public let details: String
    let body: (Arguments) throws -> Value
    /// Why no gradient flows through this builtin (`Library.withoutGradient`), or nil.
    public internal(set) var passesNoGradient: String?

    init(_ name: String, _ parameters: [BuiltinParameter], category: Category, summary: String,
         example: String, details: String = "", body: @escaping (Arguments) throws -> Value) {
        self.name = name
        self.parameters = parameters
        self.category = category
        self.summary = summary
        self.example = example
        self.details = details
        self.body = body
    }

    public var signature: String {
        let parts = parameters.map { p -> String in
            if p.isVariadic { return "\(p.name)..." }
            if let text = p.defaultText { return "\(p.name)=\(text)" }
            return p.name
        }
        return "\(name)(\(parts.joined(separator: ", ")))"
    }
}

/// Thrown by `break`, `continue` and `return`; caught by the loop or call they leave.
struct ControlSignal: Error, @unchecked Sendable {
    enum Kind { case breakLoop, continueLoop, returnValue }
    let kind: Kind
    let value: Value
}
