/// NumPy's .npy format: versions 1.0–3.0, C order, numeric dtypes converted to float32.
public enum NPY {
    public static func load(path: String) throws -> Tensor {
        try readFile(path: path) { bytes in
            do {
                return try decode(bytes)
            } catch let error as TensorError where error.kind == .io {
                throw TensorError.io("\(path): " + error.detail)
            }
        }
    }

    /// Writes the file as `encode` would, streamed from the tensor's buffer.
    public static func save(_ tensor: Tensor, path: String) throws {
        try writeFile(path: path) { file in try write(tensor, to: file.write) }
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func decode(_ bytes: [UInt8]) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw TensorError.io("not a .npy file (bad magic bytes)")
        }
        let major = bytes[6]
        let reader = ByteReader(bytes: bytes)
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(reader.uint(8, 2)); headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw TensorError.io("truncated .npy header") }
            headerLength = Int(reader.uint(8, 4)); headerStart = 12
        default:
            throw TensorError.io("unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw TensorError.io("truncated: the header is \(headerLength) bytes, the file has \(bytes.count - headerStart) after the preamble")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header)
        guard !fortran else {
            throw TensorError.io("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        let (type, bigEndian) = try elementType(descr)
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        guard let count = checkedCount(shape) else {
            throw TensorError.io("the header's shape \(describe(shape: shape)) is invalid or too large")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, needed == available else {
            if !overflow && needed > available {
                throw TensorError.io("truncated: the header says \(needed) bytes of data, the file has \(available)")
            }
            throw TensorError.io("the header says \(overflow ? "more than 2^63" : String(needed)) bytes of data, the file has \(available)")
        }
        let tensor = try Tensor(uninitializedShape: shape)
        type.decode(bytes, from: dataStart, count: count, into: tensor.storage.pointer, bigEndian: bigEndian)
        // NumPy's bool arrays come back as masks, as they went out.
        return type == .bool ? tensor.markedAsMask() : tensor
    }

    private static func elementType(_ descr: String) throws -> (ElementType, Bool) {
        guard descr.count >= 2, let order = descr.first else { throw TensorError.io("unknown dtype '\(descr)'") }
        let code = String(descr.dropFirst())
        let bigEndian = order == ">"
        guard order == "<" || order == "|" || order == "=" || order == ">" else {
            throw TensorError.io("unknown dtype '\(descr)'")
        }
        let types: [String: ElementType] = ["f2": .f16, "f4": .f32, "f8": .f64, "i1": .i8, "u1": .u8, "b1": .bool,
                                            "i2": .i16, "i4": .i32, "i8": .i64, "u4": .u32]
        guard let type = types[code] else {
            throw TensorError.io("unsupported dtype '\(descr)' (tx reads float16/32/64 and integer arrays)")
        }
        return (type, bigEndian)
    }

    /// Reads `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    private static func parseHeader(_ header: String) throws -> (String, Bool, [Int]) {
        func bad(_ why: String) -> TensorError { TensorError.io("malformed .npy header: \(why)") }
        var chars = Array(header.unicodeScalars)
        while let last = chars.last, last == "\n" || last == " " || last == "\0" { chars.removeLast() }
        var i = 0
        func skip() { while i < chars.count, chars[i] == " " || chars[i] == "\n" { i += 1 } }
        func expect(_ c: Unicode.Scalar) throws {
            skip()
            guard i < chars.count, chars[i] == c else { throw bad("expected '\(c)'") }
            i += 1
        }
        func quoted() throws -> String {
            skip()
            guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw bad("expected a quoted string") }
            let q = chars[i]
            i += 1
            var s = ""
            while i < chars.count, chars[i] != q { s.unicodeScalars.append(chars[i]); i += 1 }
            guard i < chars.count else { throw bad("unterminated string") }
            i += 1
            return s
        }
        /// Steps over `w` if it comes next, looking no further than its length (a header
        /// repeating a key stays linear).
        func word(_ w: String) -> Bool {
            let scalars = Array(w.unicodeScalars)
            guard chars.count - i >= scalars.count, chars[i..<(i + scalars.count)].elementsEqual(scalars) else { return false }
            i += scalars.count
            return true
        }
        var descr: String? = nil, fortran: Bool? = nil, shape: [Int]? = nil
        try expect("{")
        while true {
            skip()
            if i < chars.count, chars[i] == "}" { i += 1; break }
            let key = try quoted()
            try expect(":")
            skip()
            switch key {
            case "descr": descr = try quoted()
            case "fortran_order":
                if word("True") { fortran = true } else if word("False") { fortran = false } else { throw bad("fortran_order must be True or False") }
            case "shape":
                try expect("(")
                var dims: [Int] = []
                while true {
                    skip()
                    if i < chars.count, chars[i] == ")" { i += 1; break }
                    var digits = ""
                    if i < chars.count, chars[i] == "-" { digits = "-"; i += 1 }
                    while i < chars.count, ("0"..."9").contains(chars[i]) { digits.unicodeScalars.append(chars[i]); i += 1 }
                    if i < chars.count, chars[i] == "L" { i += 1 }
                    guard let d = Int(digits) else { throw bad("shape must be a tuple of integers") }
                    guard d >= 0 else { throw TensorError.io("the header's shape has a negative size \(d)") }
                    dims.append(d)
                    skip()
                    if i < chars.count, chars[i] == "," { i += 1 }
                }
                shape = dims
            default:
                throw bad("unknown key '\(key)'")
            }
            skip()
            if i < chars.count, chars[i] == "," { i += 1 }
        }
        guard let descr, let fortran, let shape else { throw bad("needs 'descr', 'fortran_order' and 'shape'") }
        return (descr, fortran, shape)
    }

    /// Version 1.0, `<f4` (`|b1` for a mask, NumPy's bool), C order, header padded to 64
    /// bytes as NumPy writes it; version 2.0 when the header is too long for 1.0's 16-bit
    /// length (a tensor of rank 22,000), as NumPy does.
    public static func encode(_ tensor: Tensor) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try write(tensor) { bytes += $0 }
        return bytes
    }

    /// The file's bytes in order, a piece at a time: the header, then the data as
    /// `writeData` gives it.
    static func write(_ tensor: Tensor, to emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let shapeText = tensor.shape.isEmpty ? "()" : tensor.shape.count == 1 ? "(\(tensor.shape[0]),)"
            : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(tensor.isMask ? "|b1" : "<f4")', 'fortran_order': False, 'shape': \(shapeText), }"
        // The header ends in a newline, padded with spaces so that the data starts on a
        // multiple of 64 bytes after the magic, version and length.
        func padding(after preamble: Int) -> Int { (64 - (preamble + header.utf8.count + 1) % 64) % 64 }
        let version: UInt8 = header.utf8.count + 1 + padding(after: 10) <= 0xFFFF ? 1 : 2
        header += String(repeating: " ", count: padding(after: version == 1 ? 10 : 12)) + "\n"
        let length = header.utf8.count
        let lengthBytes = (0..<(version == 1 ? 2 : 4)).map { UInt8((length >> (8 * $0)) & 0xFF) }
        try (magic + [version, 0] + lengthBytes + Array(header.utf8)).withUnsafeBytes(emit)
        try writeData(of: tensor, to: emit)
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
