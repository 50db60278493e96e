/// A failure inside a tensor operation. The interpreter attaches the source span of the
/// expression that called the operation and turns it into its own error.
public struct TensorError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case shape, index, value, type, memory, io, interrupted
    }
    public let kind: Kind
    public let message: String
    /// The argument at fault (an axis, a number of parts, a bias of the wrong shape),
    /// when one is: the interpreter underlines that argument rather than the whole call.
    public private(set) var culprit: Culprit?

    /// An argument by its role (`axis`, `parts`, `gamma`) and, for an integer, its value.
    public struct Culprit: Sendable {
        public let role: String
        public let value: Int?
    }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// This error, blaming the argument for `role`, and the integer `value` given for
    /// it when the role alone does not name it (see `culprit`).
    public func blaming(_ role: String, _ value: Int? = nil) -> TensorError {
        var error = self
        error.culprit = Culprit(role: role, value: value)
        return error
    }

    public static func shape(_ message: String) -> TensorError { TensorError(.shape, message) }
    public static func index(_ message: String) -> TensorError { TensorError(.index, message) }
    public static func value(_ message: String) -> TensorError { TensorError(.value, message) }
    public static func io(_ message: String) -> TensorError { TensorError(.io, message) }
}

/// Formats a shape the way tx prints it: `[4, 8]`.
public func describe(shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
