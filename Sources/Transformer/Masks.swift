import Glibc
import Tensor

/// Positions and masks (docs/LANGUAGE.md §6). Masks are additive float tensors: 0 where
/// attention is allowed, -inf where it is not, as PyTorch's float masks.
public enum Masks {
    /// `[n, n]`, -inf above the diagonal: query i sees keys j <= i.
    public static func causal(_ n: Int) throws -> Tensor {
        let mask = try Tensor.zeros([n, n])
        let p = mask.storage.pointer
        for i in 0..<n {
            (p + i * n + i + 1).update(repeating: -.infinity, count: n - i - 1)
        }
        return mask
    }

    /// `[b, 1, n]` from b lengths: -inf at key positions >= length, which broadcasts
    /// against `[b, n_q, n]` scores.
    public static func padding(lengths: [Int], n: Int) throws -> Tensor {
        let mask = try Tensor.zeros([lengths.count, 1, n])
        let p = mask.storage.pointer
        for (row, length) in lengths.enumerated() where length < n {
            let start = max(0, length)
            (p + row * n + start).update(repeating: -.infinity, count: n - start)
        }
        return mask
    }

    /// `[n, d]` sinusoidal positions: column 2i is sin(pos / 10000^(2i/d)), column
    /// 2i+1 is cos(pos / 10000^(2i/d)). Computed in double precision.
    public static func sinusoidal(_ n: Int, _ d: Int) throws -> Tensor {
        let table = try Tensor(uninitializedShape: [n, d])
        let p = table.storage.pointer
        for pos in 0..<n {
            for column in 0..<d {
                let pair = Double(column - column % 2)
                let angle = Double(pos) / pow(10000, pair / Double(d))
                p[pos * d + column] = Float(column % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
        return table
    }
}
