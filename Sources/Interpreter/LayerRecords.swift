import Lang
import Tensor
import Transformer

/// Parameter records and the layers they describe (Sources/Transformer/Parameters.swift),
/// both ways, field by field as each layer type's `fields` declares them: the attention
/// builtins read their p arguments through it and the initialisers return its records.
/// A missing or mistyped field is an error naming its path (p.layers[0].attn.Wq), at the
/// argument.
enum LayerRecords {
    // MARK: Records to parameters

    static func field(_ record: RecordValue, _ name: String, in site: RecordSite, _ path: String) throws -> RecordValue {
        guard let value = record[name] else { throw missing(name, record, site, path) }
        guard case .record(let inner) = value else {
            throw TxError(.type, "\(site.builtin): \(path).\(name) must be a record, got \(article(value.typeDescription))", at: site.span)
        }
        return inner
    }

    private static func missing(_ name: String, _ record: RecordValue, _ site: RecordSite, _ path: String) -> TxError {
        let present = record.keys.isEmpty ? "no fields" : "fields " + record.keys.joined(separator: ", ")
        return TxError(.name, "\(site.builtin): the parameter record \(path) has no field '\(name)' (it has \(present))", at: site.span)
    }

    private static func tensor(_ record: RecordValue, _ name: String, _ site: RecordSite, _ path: String) throws -> Tensor {
        guard let value = record[name] else { throw missing(name, record, site, path) }
        guard let t = try Convert.tensor(value, at: site.span) else {
            throw TxError(.type, "\(site.builtin): \(path).\(name) must be a tensor, got \(article(value.typeDescription))", at: site.span)
        }
        return t
    }

    /// The layer of type `L` that record `r` (at `path` in the argument) describes,
    /// field by field as `L.fields` declares them.
    static func layer<L: ParameterLayer>(_ type: L.Type, _ r: RecordValue, _ site: RecordSite, _ path: String) throws -> L {
        try L(parts: try parts(of: L.self, r, site, path))
    }

    private static func parts(of type: any ParameterLayer.Type, _ r: RecordValue, _ site: RecordSite,
                              _ path: String) throws -> [ParameterPart] {
        try type.fields.map { declared in
            switch declared {
            case .tensor(let name, _):
                return .tensor(try tensor(r, name, site, path))
            case .layer(let name, let inner):
                let sub = try field(r, name, in: site, path)
                return .layer(try inner.init(parts: try parts(of: inner, sub, site, path + "." + name)))
            }
        }
    }

    private static func layers(_ r: RecordValue, _ site: RecordSite, _ path: String) throws -> [RecordValue] {
        guard let value = r["layers"] else { throw missing("layers", r, site, path) }
        guard case .list(let list) = value else {
            throw TxError(.type, "\(site.builtin): \(path).layers must be a list of records, got \(article(value.typeDescription))", at: site.span)
        }
        return try list.items.enumerated().map { i, item in
            guard case .record(let layer) = item else {
                throw TxError(.type, "\(site.builtin): \(path).layers[\(i)] must be a record, got \(article(item.typeDescription))", at: site.span)
            }
            return layer
        }
    }

    /// `norm` may be none or missing.
    private static func optionalNorm(_ r: RecordValue, _ site: RecordSite, _ path: String) throws -> LayerNorm? {
        guard let value = r["norm"], !value.isNone else { return nil }
        return try layer(LayerNorm.self, try field(r, "norm", in: site, path), site, path + ".norm")
    }

    static func encoderStack(_ r: RecordValue, _ site: RecordSite, _ path: String) throws -> Encoder {
        Encoder(layers: try layers(r, site, path).enumerated().map { try layer(EncoderBlock.self, $1, site, "\(path).layers[\($0)]") },
                norm: try optionalNorm(r, site, path))
    }

    static func decoderStack(_ r: RecordValue, _ site: RecordSite, _ path: String) throws -> Decoder {
        Decoder(layers: try layers(r, site, path).enumerated().map { try layer(DecoderBlock.self, $1, site, "\(path).layers[\($0)]") },
                norm: try optionalNorm(r, site, path))
    }

    // MARK: Parameters to records

    /// The record of a layer, field by field as its type declares them.
    static func record(_ layer: any ParameterLayer) -> Value {
        let fields = type(of: layer).fields
        return .record(RecordValue(zip(fields, layer.parts).map { declared, part in
            switch part {
            case .tensor(let t): return (declared.name, .tensor(t))
            case .layer(let inner): return (declared.name, record(inner))
            }
        }))
    }
}

/// Where a parameter record was given, for the errors about its fields: the builtin and
/// the argument's place.
struct RecordSite {
    let builtin: String
    let span: SourceSpan

    init(_ args: Arguments, _ name: String) {
        builtin = args.builtin.name
        span = args.span(name)
    }
}
