extension Tensor {
    /// NumPy's broadcast of two shapes, or nil when they do not fit.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 { result[i] = x } else if x == 1 { result[i] = y } else { return nil }
        }
        return result
    }

    /// A view of `self` with `shape`, stride 0 along broadcast axes.
    public func broadcast(to target: [Int]) throws -> Tensor {
        if target == shape { return self }
        guard target.count >= rank else {
            throw TensorError.shape("shape mismatch: cannot broadcast \(describe(shape: shape)) to \(describe(shape: target))")
        }
        try Tensor.checkShape(target)
        let extra = target.count - rank
        var newStrides = [Int](repeating: 0, count: target.count)
        for axis in 0..<target.count where axis >= extra {
            let own = axis - extra
            if shape[own] == target[axis] {
                newStrides[axis] = shape[own] == 1 ? 0 : strides[own]
            } else if shape[own] == 1 {
                newStrides[axis] = 0
            } else {
                throw TensorError.shape("shape mismatch: cannot broadcast \(describe(shape: shape)) to \(describe(shape: target))")
            }
        }
        return Tensor(storage: storage, shape: target, strides: newStrides, offset: offset)
    }
}

/// Walks the rows of a tensor of `shape` (all axes but the last) and, for each, the
/// element offsets of several operands with their own (broadcast) strides.
struct RowWalker {
    let shape: [Int]
    let operandStrides: [[Int]]
    private var index: [Int]
    private(set) var offsets: [Int]

    init(shape: [Int], operandStrides: [[Int]], baseOffsets: [Int]) {
        self.shape = shape
        self.operandStrides = operandStrides
        self.index = [Int](repeating: 0, count: max(shape.count - 1, 0))
        self.offsets = baseOffsets
    }

    var rowCount: Int {
        shape.isEmpty ? 1 : shape.dropLast().reduce(1, *)
    }

    /// Advances to the next row.
    mutating func next() {
        var axis = shape.count - 2
        while axis >= 0 {
            index[axis] += 1
            for k in offsets.indices { offsets[k] += operandStrides[k][axis] }
            if index[axis] < shape[axis] { return }
            for k in offsets.indices { offsets[k] -= operandStrides[k][axis] * shape[axis] }
            index[axis] = 0
            axis -= 1
        }
    }
}
