/// A failure inside a tensor operation. The interpreter attaches the source span of the
/// expression that called the operation and turns it into its own error.
public struct TensorError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case shape, index, value, type, memory, io, interrupted

        /// How a message of this kind starts, unless the error names a finer label (the
        /// same words as the interpreter's error kinds).
        public var label: String {
            switch self {
            case .shape: "shape mismatch"
            case .index: "index error"
            case .value: "value error"
            case .type: "type error"
            case .memory: "memory limit"
            case .io: "io error"
            case .interrupted: "interrupted"
            }
        }
    }
    public let kind: Kind
    /// "shape mismatch in @", "io error": the kind's label unless a finer one is given.
    public let label: String
    /// What went wrong, after the label (empty for "interrupted").
    public var detail: String
    /// The whole message: label and detail.
    public var message: String { detail.isEmpty ? label : label.isEmpty ? detail : label + ": " + detail }
    /// The argument at fault (an axis, a number of parts, a bias of the wrong shape),
    /// when one is: the interpreter underlines that argument rather than the whole call.
    public private(set) var culprit: Culprit?

    /// An argument by its role (`axis`, `parts`, `gamma`) and, for an integer, its value.
    public struct Culprit: Sendable {
        public let role: String
        public let value: Int?
    }

    /// An error labelled by its kind: `TensorError(.index, "axis 3 is out of range")`.
    public init(_ kind: Kind, _ detail: String) {
        self.init(kind, label: kind.label, detail)
    }

    /// An error with a finer label than its kind's: "shape mismatch in @", "out of memory".
    public init(_ kind: Kind, label: String, _ detail: String) {
        self.kind = kind
        self.label = label
        self.detail = detail
    }

    public var description: String { message }

    /// This error, blaming the argument for `role`, and the integer `value` given for
    /// it when the role alone does not name it (see `culprit`).
    public func blaming(_ role: String, _ value: Int? = nil) -> TensorError {
        var error = self
        error.culprit = Culprit(role: role, value: value)
        return error
    }

    public static func shape(_ detail: String) -> TensorError { TensorError(.shape, detail) }
    /// "shape mismatch in OPERATION: detail".
    public static func shape(in operation: String, _ detail: String) -> TensorError {
        TensorError(.shape, label: "shape mismatch in \(operation)", detail)
    }
    public static func index(_ detail: String) -> TensorError { TensorError(.index, detail) }
    public static func value(_ detail: String) -> TensorError { TensorError(.value, detail) }
    public static func io(_ detail: String) -> TensorError { TensorError(.io, detail) }
}

/// Formats a shape the way tx prints it: `[4, 8]`.
public func describe(shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
