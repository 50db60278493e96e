/// The safetensors format: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the data. Every field is checked
/// against the file before anything is allocated.
public enum SafeTensors {
    public static func load(path: String) throws -> [(name: String, tensor: Tensor)] {
        try loadWithTexts(path: path).tensors
    }

    /// The tensors, and the texts tx keeps in the header's `__metadata__` (see `write`).
    public static func loadWithTexts(path: String) throws -> (tensors: [(name: String, tensor: Tensor)], texts: [(name: String, text: String)]) {
        try readFile(path: path) { bytes in
            do {
                return try decodeWithTexts(bytes)
            } catch let error as TensorError where error.kind == .io {
                throw TensorError.io("\(path): " + error.detail)
            }
        }
    }

    /// Writes the file as `encode` would, each tensor streamed from its buffer, and
    /// `texts` (strings of a record, such as an optimiser's name) in `__metadata__`.
    public static func save(_ entries: [(name: String, tensor: Tensor)], texts: [(name: String, text: String)] = [],
                            path: String) throws {
        try writeFile(path: path) { file in try write(entries, texts: texts, to: file.write) }
    }

    /// The prefix of the `__metadata__` keys that hold tx's texts: `"tx:opt.optimizer":
    /// "adam"` (other tools' metadata, such as `format`, is left alone).
    static let textPrefix = "tx:"

    static let dtypes: [String: ElementType] = [
        "F16": .f16, "BF16": .bf16, "F32": .f32, "F64": .f64, "I8": .i8, "U8": .u8, "BOOL": .bool,
        "I16": .i16, "I32": .i32, "I64": .i64, "U32": .u32,
    ]

    public static func decode(_ bytes: [UInt8]) throws -> [(name: String, tensor: Tensor)] {
        try decodeWithTexts(bytes).tensors
    }

    public static func decodeWithTexts(_ bytes: [UInt8]) throws -> (tensors: [(name: String, tensor: Tensor)], texts: [(name: String, text: String)]) {
        guard bytes.count >= 8 else { throw TensorError.io("truncated: a safetensors file starts with 8 bytes of header length") }
        let length = ByteReader(bytes: bytes).uint(0, 8)
        guard length <= UInt64(bytes.count - 8) else {
            throw TensorError.io("truncated: the header length is \(length) bytes, the file has \(bytes.count - 8) after it")
        }
        let headerEnd = 8 + Int(length)
        guard case .object(let members) = try JSON.parse(Array(bytes[8..<headerEnd])) else {
            throw TensorError.io("malformed safetensors header: not a JSON object")
        }
        var texts: [(name: String, text: String)] = []
        if case .object(let metadata)? = members.first(where: { $0.0 == "__metadata__" })?.1 {
            for (key, value) in metadata where key.hasPrefix(textPrefix) {
                guard case .string(let text) = value else { throw TensorError.io("the metadata entry '\(key)' is not a string") }
                texts.append((String(key.dropFirst(textPrefix.count)), text))
            }
        }
        let dataSize = bytes.count - headerEnd
        // Every entry is checked, overlaps included, before any tensor is allocated: a
        // small file whose entries all name one byte range must not be read many times.
        var planned: [(name: String, type: ElementType, shape: [Int], count: Int, begin: Int, end: Int)] = []
        var names = Set<String>()
        for (name, info) in members where name != "__metadata__" {
            guard names.insert(name).inserted else { throw TensorError.io("the name '\(name)' appears twice in the header") }
            func bad(_ why: String) -> TensorError { TensorError.io("tensor '\(name)': \(why)") }
            guard case .object(let fields) = info else { throw bad("its header entry is not an object") }
            func field(_ key: String) -> JSON? { fields.first { $0.0 == key }?.1 }
            guard case .string(let dtype)? = field("dtype") else { throw bad("no dtype") }
            guard let type = dtypes[dtype] else { throw bad("unsupported dtype \(dtype)") }
            guard case .array(let dims)? = field("shape") else { throw bad("no shape") }
            let shape = try dims.map { d -> Int in
                guard case .number(let x) = d, x >= 0, x == x.rounded(), x < 1e15 else { throw bad("shape must hold non-negative integers") }
                return Int(x)
            }
            guard case .array(let offsets)? = field("data_offsets"), offsets.count == 2,
                  case .number(let begin) = offsets[0], case .number(let end) = offsets[1],
                  begin >= 0, end >= begin, begin == begin.rounded(), end == end.rounded(), end < 1e15 else {
                throw bad("data_offsets must be [begin, end]")
            }
            guard Int(end) <= dataSize else {
                throw bad("truncated: its data ends at byte \(Int(end)) of a \(dataSize)-byte data section")
            }
            guard let count = checkedCount(shape) else { throw bad("shape \(describe(shape: shape)) is too large") }
            guard count * type.size == Int(end) - Int(begin) else {
                throw bad("shape \(describe(shape: shape)) of \(dtype) does not match its \(Int(end) - Int(begin)) bytes")
            }
            planned.append((name, type, shape, count, Int(begin), Int(end)))
        }
        // By start, then file order, so that the pair named is always the same.
        let ranges = planned.indices.sorted { (planned[$0].begin, $0) < (planned[$1].begin, $1) }.map { planned[$0] }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.begin < a.end {
            throw TensorError.io("tensors '\(a.name)' and '\(b.name)' overlap")
        }
        let tensors = try planned.map { entry in
            try Interrupt.check()
            let tensor = try Tensor(uninitializedShape: entry.shape)
            entry.type.decode(bytes, from: headerEnd + entry.begin, count: entry.count, into: tensor.storage.pointer)
            // BOOL tensors come back as masks, as they went out.
            return (name: entry.name, tensor: entry.type == .bool ? tensor.markedAsMask() : tensor)
        }
        return (tensors, texts)
    }

    /// F32 entries (BOOL for masks) in the given order; the header padded with spaces to a
    /// multiple of 8.
    public static func encode(_ entries: [(name: String, tensor: Tensor)]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try write(entries) { bytes += $0 }
        return bytes
    }

    /// The file's bytes in order, a piece at a time: the header, then each tensor's data
    /// as `writeData` gives it.
    static func write(_ entries: [(name: String, tensor: Tensor)], texts: [(name: String, text: String)] = [],
                      to emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let metadata = [("format", JSON.string("pt"))] + texts.map { (textPrefix + $0.name, JSON.string($0.text)) }
        var members: [(String, JSON)] = [("__metadata__", .object(metadata))]
        var end = 0
        for (name, tensor) in entries {
            let size = tensor.count * (tensor.isMask ? 1 : MemoryLayout<Float>.stride)
            members.append((name, .object([
                ("dtype", .string(tensor.isMask ? "BOOL" : "F32")),
                ("shape", .array(tensor.shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(end)), .number(Double(end + size))])),
            ])))
            end += size
        }
        var header = Array(JSON.object(members).text.utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        let n = UInt64(header.count)
        try ((0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + header).withUnsafeBytes(emit)
        for (_, tensor) in entries { try writeData(of: tensor, to: emit) }
    }
}
