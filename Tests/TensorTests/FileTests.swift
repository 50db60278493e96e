import Tensor
import Testing

let fixtures: String = {
    #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/Fixtures/"
}()

func ioMessage(_ body: () throws -> Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as TensorError {
        return error.message
    } catch {
        return "\(error)"
    }
}

@Test(arguments: ["f4", "f8", "i4", "i8"])
func npyDtypesLoadAsFloat32(_ dtype: String) throws {
    let x = try NPY.load(path: fixtures + "arange_\(dtype).npy")
    #expect(x.shape == [2, 3, 4])
    let expected: [Float] = dtype.hasPrefix("f") ? (0..<24).map { Float($0) * 0.5 - 3 } : (0..<24).map(Float.init)
    #expect(x.values == expected)
}

@Test(arguments: [1, 2, 3])
func npyHeaderVersions(_ version: Int) throws {
    #expect(try NPY.load(path: fixtures + "version\(version).npy").values == [1.5, -2, 3.25])
}

@Test func npyShapesAndOrders() throws {
    let scalar = try NPY.load(path: fixtures + "scalar.npy")
    #expect(scalar.shape == [] && scalar.values == [7])
    #expect(try NPY.load(path: fixtures + "empty.npy").shape == [0, 3])
    #expect(try NPY.load(path: fixtures + "big_endian.npy").values == [1, 2])
    #expect(ioMessage { try NPY.load(path: fixtures + "fortran.npy") }?.hasSuffix("Fortran-order arrays are not supported; save with np.ascontiguousarray") == true)
}

@Test func npyEncodingIsByteForByteNumpys() throws {
    let x = try Tensor.arange(start: 0, stop: 6, step: 1).reshaped([2, 3])
    #expect(try NPY.encode(x) == (try readFile(path: fixtures + "exact_2x3.npy")))
    // Views are written in row-major order.
    let back = try NPY.decode(try NPY.encode(try x.swappingLastAxes()))
    #expect(back.shape == [3, 2] && back.values == [0, 3, 1, 4, 2, 5])
}

@Test func malformedNPYFilesAreErrors() throws {
    let good = try readFile(path: fixtures + "arange_f4.npy")
    // Truncated at every length.
    for n in 0..<good.count {
        #expect(throws: TensorError.self) { try NPY.decode(Array(good.prefix(n))) }
    }
    func header(_ text: String, data: Int = 8) -> [UInt8] {
        var h = text
        h += String(repeating: " ", count: (64 - (10 + h.utf8.count + 1) % 64) % 64) + "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count), 0] + Array(h.utf8) + [UInt8](repeating: 0, count: data)
    }
    #expect(ioMessage { try NPY.decode([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) } == "io error: not a .npy file (bad magic bytes)")
    #expect(ioMessage { try NPY.decode([0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0]) } == "io error: unsupported .npy version 9.0")
    #expect(ioMessage { try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }")) }
            == "io error: truncated: the header says 16 bytes of data, the file has 8")
    #expect(ioMessage { try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }")) }
            == "io error: the header's shape [1000000000000, 1000000000000] is invalid or too large")
    #expect(ioMessage { try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }")) }
            == "io error: the header's shape has a negative size -2")
    #expect(ioMessage { try NPY.decode(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }")) }
            == "io error: unsupported dtype '<c8' (tx reads float16/32/64 and integer arrays)")
    #expect(ioMessage { try NPY.decode(header("{'descr': '<f4', 'shape': (2,), }")) }
            == "io error: malformed .npy header: needs 'descr', 'fortran_order' and 'shape'")
    #expect(ioMessage { try NPY.decode(header("not a dict")) } == "io error: malformed .npy header: expected '{'")
    #expect(ioMessage { try NPY.load(path: "/nonexistent/x.npy") } == "io error: no such file: /nonexistent/x.npy")
    #expect(ioMessage { try NPY.load(path: fixtures) }?.hasSuffix("is a directory") == true)
}

@Test func safetensorsLoadsEveryDtypeInFileOrder() throws {
    let entries = try SafeTensors.load(path: fixtures + "model.safetensors")
    #expect(entries.map(\.name) == ["layers.0.attn.Wq", "layers.1.attn.Wq", "norm.gamma", "steps", "half"])
    #expect(entries[0].tensor.values == [1, 0, 0, 1])
    #expect(entries[2].tensor.values == [1, 2, 3])
    #expect(entries[3].tensor.values == [10, 20])
    #expect(entries[4].tensor.values == [0.5, -1])
}

@Test func safetensorsRoundTrip() throws {
    let a = try Tensor.arange(start: 0, stop: 6, step: 1).reshaped([2, 3])
    let entries = [("a.b", a), ("scalar", try Tensor(scalar: 3)), ("t", try a.swappingLastAxes())]
    let bytes = try SafeTensors.encode(entries)
    #expect((bytes.count - 8) % 4 == 0)
    let back = try SafeTensors.decode(bytes)
    #expect(back.map(\.name) == ["a.b", "scalar", "t"])
    #expect(back[2].tensor.values == [0, 3, 1, 4, 2, 5])
    #expect(back[1].tensor.shape == [])
}

@Test func malformedSafetensorsFilesAreErrors() throws {
    let good = try readFile(path: fixtures + "model.safetensors")
    for n in 0..<good.count where n != good.count {
        #expect(throws: TensorError.self) { try SafeTensors.decode(Array(good.prefix(n))) }
    }
    func file(_ header: String, data: Int) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + [UInt8](repeating: 0, count: data)
    }
    #expect(ioMessage { try SafeTensors.decode([1, 2, 3]) } == "io error: truncated: a safetensors file starts with 8 bytes of header length")
    #expect(ioMessage { try SafeTensors.decode([255, 255, 255, 255, 255, 255, 255, 127, 0]) }
            == "io error: truncated: the header length is 9223372036854775807 bytes, the file has 1 after it")
    #expect(ioMessage { try SafeTensors.decode(file("{\"a\": ", data: 0)) }?.hasPrefix("io error: malformed safetensors header: unexpected end") == true)
    #expect(ioMessage { try SafeTensors.decode(file("[1, 2]", data: 0)) } == "io error: malformed safetensors header: not a JSON object")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}"#, data: 8)) }
            == "io error: tensor 'a': unsupported dtype C64")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: 8)) }
            == "io error: tensor 'a': shape [3] of F32 does not match its 8 bytes")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, data: 8)) }
            == "io error: tensor 'a': truncated: its data ends at byte 16 of a 8-byte data section")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: 4)) }
            == "io error: tensor 'a': shape must hold non-negative integers")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}"#, data: 8)) }
            == "io error: tensors 'a' and 'b' overlap")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "F32", "shape": [1000000000000, 1000000000000], "data_offsets": [0, 4]}}"#, data: 4)) }
            == "io error: tensor 'a': shape [1000000000000, 1000000000000] is too large")
    #expect(ioMessage { try SafeTensors.decode(file(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: 8)) }
            == "io error: the name 'a' appears twice in the header")
    let deep = String(repeating: "[", count: 10_000)
    #expect(ioMessage { try SafeTensors.decode(file(deep, data: 0)) }?.contains("nested too deeply") == true)
}

@Test func npyHeadersTooLongForVersion1AreWrittenAsVersion2() throws {
    // A rank-22,000 shape needs a header of about 66,000 bytes: past 1.0's 16-bit length.
    let x = try Tensor.full(2.5, Array(repeating: 1, count: 22_000))
    let bytes = try NPY.encode(x)
    #expect(Array(bytes[6..<8]) == [2, 0])
    let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
    #expect((12 + length) % 64 == 0 && bytes[12 + length - 1] == 0x0A)
    #expect(bytes.count == 12 + length + 4)
    let back = try NPY.decode(bytes)
    #expect(back.shape == x.shape && back.values == [2.5])
    // Just below the limit stays 1.0, as NumPy writes it.
    #expect(try NPY.encode(try Tensor.zeros(Array(repeating: 1, count: 21_000)))[6] == 1)
}

@Test func pathsWithANulByteAreRefused() throws {
    let message = "io error: the path \"/tmp/tx-notes.txt\\0.npy\" contains a NUL byte"
    #expect(ioMessage { try NPY.save(try Tensor.zeros([2]), path: "/tmp/tx-notes.txt\0.npy") } == message)
    #expect(ioMessage { try NPY.load(path: "/tmp/tx-notes.txt\0.npy") } == message)
    #expect(ioMessage { try SafeTensors.save([], path: "/tmp/tx-notes.txt\0.npy") } == message)
    #expect(ioMessage { try writeFile(path: "/tmp/tx-notes.txt\0.npy", bytes: []) } == message)
}

@Test func anNPYHeaderRepeatingAKeyParsesInLinearTime() throws {
    // 96 KB of one key repeated took 47 s: each repeat copied the rest of the header.
    var header = "{" + String(repeating: "'fortran_order': False, ", count: 4000) + "'descr': '<f4', 'shape': (1,), }"
    header += String(repeating: " ", count: (64 - (12 + header.utf8.count + 1) % 64) % 64) + "\n"
    let length = header.utf8.count
    let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0] + (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) }
        + Array(header.utf8) + [0, 0, 0x80, 0x3F]
    let clock = ContinuousClock()
    var values: [Float] = []
    let duration = try clock.measure { values = try NPY.decode(bytes).values }
    #expect(values == [1])
    #expect(duration < .seconds(5))
}
