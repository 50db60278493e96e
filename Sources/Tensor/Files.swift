import Glibc

/// Reads a whole file.
public func readFile(path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw fileError(path) }
    defer { fclose(file) }
    var info = stat()
    guard fstat(fileno(file), &info) == 0 else { throw fileError(path) }
    if (info.st_mode & S_IFMT) == S_IFDIR { throw TensorError.io("io error: \(path) is a directory") }
    let size = Int(info.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
    guard read == size else { throw TensorError.io("io error: \(path): could only read \(read) of \(size) bytes") }
    return bytes
}

/// Writes (replaces) a whole file.
public func writeFile(path: String, bytes: [UInt8]) throws {
    guard let file = fopen(path, "wb") else { throw fileError(path) }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
    let closed = fclose(file)
    guard written == bytes.count, closed == 0 else { throw TensorError.io("io error: \(path): could not write the whole file") }
}

private func fileError(_ path: String) -> TensorError {
    let code = errno
    switch code {
    case ENOENT: return TensorError.io("io error: no such file: \(path)")
    case EACCES: return TensorError.io("io error: permission denied: \(path)")
    case EISDIR: return TensorError.io("io error: \(path) is a directory")
    default: return TensorError.io("io error: \(path): \(String(cString: strerror(code)))")
    }
}

/// Little-endian reads from a byte array, checked against its end.
struct ByteReader {
    let bytes: [UInt8]

    func uint(_ offset: Int, _ size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// Float32 values from raw little-endian data of a numeric type.
enum ElementType: Sendable {
    case f16, bf16, f32, f64, i8, u8, i16, i32, i64, u32, bool

    var size: Int {
        switch self {
        case .i8, .u8, .bool: return 1
        case .f16, .bf16, .i16: return 2
        case .f32, .i32, .u32: return 4
        case .f64, .i64: return 8
        }
    }

    func decode(_ bytes: [UInt8], from start: Int, count: Int, into out: UnsafeMutablePointer<Float>, bigEndian: Bool = false) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let p = base + start
            func word(_ i: Int, _ size: Int) -> UInt64 {
                var v: UInt64 = 0
                for b in 0..<size {
                    let byte = UInt64(p[i * size + (bigEndian ? size - 1 - b : b)])
                    v |= byte << (8 * UInt64(b))
                }
                return v
            }
            switch self {
            case .f32 where !bigEndian:
                memcpy(out, p, count * 4)
            case .f32: for i in 0..<count { out[i] = Float(bitPattern: UInt32(word(i, 4))) }
            case .f64: for i in 0..<count { out[i] = Float(Double(bitPattern: word(i, 8))) }
            case .f16: for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(word(i, 2)))) }
            case .bf16: for i in 0..<count { out[i] = Float(bitPattern: UInt32(word(i, 2)) << 16) }
            case .i8: for i in 0..<count { out[i] = Float(Int8(bitPattern: p[i])) }
            case .u8: for i in 0..<count { out[i] = Float(p[i]) }
            case .bool: for i in 0..<count { out[i] = p[i] != 0 ? 1 : 0 }
            case .i16: for i in 0..<count { out[i] = Float(Int16(bitPattern: UInt16(word(i, 2)))) }
            case .i32: for i in 0..<count { out[i] = Float(Int32(bitPattern: UInt32(word(i, 4)))) }
            case .u32: for i in 0..<count { out[i] = Float(UInt32(word(i, 4))) }
            case .i64: for i in 0..<count { out[i] = Float(Int64(bitPattern: word(i, 8))) }
            }
        }
    }
}

/// Bytes of a float32 tensor in row-major, little-endian order.
func littleEndianBytes(_ tensor: Tensor) throws -> [UInt8] {
    let c = try tensor.contiguous()
    return [UInt8](UnsafeRawBufferPointer(start: c.storage.pointer + c.offset, count: c.count * 4))
}

/// A mask's elements as bytes 1 and 0, in row-major order (NumPy's bool, safetensors' BOOL).
func maskBytes(_ tensor: Tensor) throws -> [UInt8] {
    let c = try tensor.contiguous()
    return UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count).map { $0 != 0 ? 1 : 0 }
}

/// The element count of a shape from a file, by the rule every tensor shape follows
/// (`Tensor.elementCount`); nil when the shape breaks it.
func checkedCount(_ shape: [Int]) -> Int? {
    try? Tensor.elementCount(shape)
}
