import Tensor
import Testing
import Transformer

/// A view of `shape` with `strides` over a one-element buffer, for sizes too large to
/// allocate: the checks must refuse it before anything reads it.
func hugeView(_ shape: [Int], strides: [Int]) throws -> Tensor {
    Tensor(storage: try Tensor.zeros([1]).storage, shape: shape, strides: strides, offset: 0)
}

func message(_ body: () throws -> Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return "\(error)"
    }
}

let big = 1 << 31

/// OpenBLAS takes 32-bit sizes: every product checks them first and refuses, instead of
/// trapping on the conversion or letting OpenBLAS complain and leave its output unwritten.
@Test func productsTooLargeForBLASAreErrors() throws {
    let row = try hugeView([1, big], strides: [big, 1])
    let column = try hugeView([big, 1], strides: [1, 1])
    #expect(message { try Tensor.matmul(row, column) }
        == "value error: @: [1, 2147483648] @ [2147483648, 1] is too large for BLAS (a size or row stride of 2147483648; at most 2^31 - 1)")
    // ffn's layers go through affine.
    #expect(message { try affine(row, column, nil, name: "ffn") }
        == "value error: ffn: x [1, 2147483648] @ W [2147483648, 1] is too large for BLAS (a size or row stride of 2147483648; at most 2^31 - 1)")
    let keys = try hugeView([2, big], strides: [big, 1])
    #expect(message { try Attention.weights(queries: row, keys: keys) }
        == "value error: attention_weights: Q [1, 2147483648], K [2, 2147483648] is too large for BLAS (a size or row stride of 2147483648; at most 2^31 - 1)")
    // A row stride past 2^31 - 1 is refused too, even with small sizes.
    let spaced = try hugeView([2, 4], strides: [big, 1])
    let small = try Tensor.zeros([2, 4])
    #expect(message { try Attention.attention(queries: spaced, keys: small, values: small) }
        == "value error: attention: Q [2, 4], K [2, 4], V [2, 4] is too large for BLAS (a size or row stride of 2147483648; at most 2^31 - 1)")
}
