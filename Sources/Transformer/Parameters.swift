import Tensor

/// A layer's parameters as a record: its fields in order, each a tensor (with its shape
/// in the layer's sizes, for help and docs) or a nested layer. Declared once per layer
/// type, and read by everything that needs the record's structure: the interpreter's
/// conversions between records and layers (both ways, with errors that name the missing
/// field), `:help init_*`, and the test that holds docs/LANGUAGE.md to it. Gradients come
/// back in the same structure, as every record does.
public enum ParameterField: Sendable {
    case tensor(_ name: String, shape: String)
    case layer(_ name: String, any ParameterLayer.Type)

    public var name: String {
        switch self {
        case .tensor(let name, _), .layer(let name, _): return name
        }
    }
}

/// One field's value: a tensor or a nested layer.
public enum ParameterPart {
    case tensor(Tensor)
    case layer(any ParameterLayer)
}

/// A layer whose parameters form a record (see `ParameterField`).
public protocol ParameterLayer: SendableMetatype {
    /// The record's fields, in order.
    static var fields: [ParameterField] { get }
    /// The values of `fields`, in order.
    var parts: [ParameterPart] { get }
    /// The layer made of the values of `fields`, in order.
    init(parts: [ParameterPart]) throws
}

extension ParameterLayer {
    /// The record's structure in one line: `{W1 [d, d_ff], b1 [d_ff], ...}` or
    /// `{attn, ln1, ffn, ln2}`.
    public static var structure: String {
        "{" + fields.map { field in
            switch field {
            case .tensor(let name, let shape): return "\(name) \(shape)"
            case .layer(let name, _): return name
            }
        }.joined(separator: ", ") + "}"
    }
}

extension Array where Element == ParameterPart {
    /// Part `i` as a tensor, or as a layer of type `L`: what `init(parts:)` reads. A part
    /// of the other kind is a mistake in a layer's declaration, reported, never a crash.
    func tensor(_ i: Int) throws -> Tensor {
        guard indices.contains(i), case .tensor(let t) = self[i] else { throw mismatch(i) }
        return t
    }

    func layer<L: ParameterLayer>(_ i: Int, _ type: L.Type) throws -> L {
        guard indices.contains(i), case .layer(let layer) = self[i], let typed = layer as? L else { throw mismatch(i) }
        return typed
    }

    private func mismatch(_ i: Int) -> TensorError {
        TensorError(.value, label: "internal error", "parameter part \(i) does not match its layer's declared fields; please report this")
    }
}

extension LayerNorm: ParameterLayer {
    public static let fields: [ParameterField] = [.tensor("gamma", shape: "[d]"), .tensor("beta", shape: "[d]")]
    public var parts: [ParameterPart] { [.tensor(gamma), .tensor(beta)] }
    public init(parts: [ParameterPart]) throws {
        self.init(gamma: try parts.tensor(0), beta: try parts.tensor(1))
    }
}

extension FeedForward: ParameterLayer {
    public static let fields: [ParameterField] = [
        .tensor("W1", shape: "[d, d_ff]"), .tensor("b1", shape: "[d_ff]"),
        .tensor("W2", shape: "[d_ff, d]"), .tensor("b2", shape: "[d]"),
    ]
    public var parts: [ParameterPart] { [W1, b1, W2, b2].map(ParameterPart.tensor) }
    public init(parts: [ParameterPart]) throws {
        self.init(W1: try parts.tensor(0), b1: try parts.tensor(1), W2: try parts.tensor(2), b2: try parts.tensor(3))
    }
}

extension MultiHeadAttention: ParameterLayer {
    public static let fields: [ParameterField] = [
        .tensor("Wq", shape: "[d, d]"), .tensor("bq", shape: "[d]"), .tensor("Wk", shape: "[d, d]"), .tensor("bk", shape: "[d]"),
        .tensor("Wv", shape: "[d, d]"), .tensor("bv", shape: "[d]"), .tensor("Wo", shape: "[d, d]"), .tensor("bo", shape: "[d]"),
    ]
    public var parts: [ParameterPart] { [Wq, bq, Wk, bk, Wv, bv, Wo, bo].map(ParameterPart.tensor) }
    public init(parts: [ParameterPart]) throws {
        self.init(Wq: try parts.tensor(0), bq: try parts.tensor(1), Wk: try parts.tensor(2), bk: try parts.tensor(3),
                  Wv: try parts.tensor(4), bv: try parts.tensor(5), Wo: try parts.tensor(6), bo: try parts.tensor(7))
    }
}

extension EncoderBlock: ParameterLayer {
    public static let fields: [ParameterField] = [
        .layer("attn", MultiHeadAttention.self), .layer("ln1", LayerNorm.self),
        .layer("ffn", FeedForward.self), .layer("ln2", LayerNorm.self),
    ]
    public var parts: [ParameterPart] { [.layer(attn), .layer(ln1), .layer(ffn), .layer(ln2)] }
    public init(parts: [ParameterPart]) throws {
        self.init(attn: try parts.layer(0, MultiHeadAttention.self), ln1: try parts.layer(1, LayerNorm.self),
                  ffn: try parts.layer(2, FeedForward.self), ln2: try parts.layer(3, LayerNorm.self))
    }
}

extension DecoderBlock: ParameterLayer {
    public static let fields: [ParameterField] = [
        .layer("self_attn", MultiHeadAttention.self), .layer("ln1", LayerNorm.self),
        .layer("cross_attn", MultiHeadAttention.self), .layer("ln2", LayerNorm.self),
        .layer("ffn", FeedForward.self), .layer("ln3", LayerNorm.self),
    ]
    public var parts: [ParameterPart] {
        [.layer(selfAttn), .layer(ln1), .layer(crossAttn), .layer(ln2), .layer(ffn), .layer(ln3)]
    }
    public init(parts: [ParameterPart]) throws {
        self.init(selfAttn: try parts.layer(0, MultiHeadAttention.self), ln1: try parts.layer(1, LayerNorm.self),
                  crossAttn: try parts.layer(2, MultiHeadAttention.self), ln2: try parts.layer(3, LayerNorm.self),
                  ffn: try parts.layer(4, FeedForward.self), ln3: try parts.layer(5, LayerNorm.self))
    }
}
