extension Tensor {
    /// The same elements with another shape; one size may be -1. A view when the
    /// tensor is contiguous, else a copy.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("reshape", inputs: [self], saving: [], savesOutput: false, forward: { try reshaped(newShape) }) { g, _ in
                [try g.reshaped(self.shape)]
            }
        }
        var target = newShape
        let unknown = target.indices.filter { target[$0] == -1 }
        guard unknown.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.value("reshape takes sizes >= 0 and at most one -1, got \(describe(shape: newShape))")
                .blaming("size", newShape.first { $0 < -1 } ?? -1)
        }
        // The known sizes pass the shape rule first, so that their products cannot overflow.
        var known = target
        if let u = unknown.first { known[u] = 1 }
        do {
            try Tensor.checkShape(known)
        } catch {
            let excluded = (unknown.isEmpty ? [] : ["-1"]) + (target.contains(0) ? ["0"] : [])
            let which = excluded.isEmpty ? "its sizes" : "its sizes other than " + excluded.joined(separator: " and ")
            throw TensorError.value("reshape: a tensor of shape \(describe(shape: newShape)) is too large (\(which) multiply to more than 2^53)")
        }
        let knownCount = known.reduce(1, *)
        func mismatch() -> TensorError {
            let shown = describe(shape: newShape)
            return TensorError.shape(in: "reshape", "cannot reshape \(describe(shape: shape)) (\(count) elements) to \(shown)\(unknown.isEmpty ? " (\(knownCount) elements)" : "")")
        }
        if let u = unknown.first {
            guard knownCount > 0, count % knownCount == 0 else { throw mismatch() }
            target[u] = count / knownCount
        }
        // With the -1 filled in, the sizes other than 0 multiply to at most max(count, knownCount).
        guard try Tensor.elementCount(target) == count else { throw mismatch() }
        let source = try contiguous()
        return Tensor(storage: source.storage, shape: target, strides: Tensor.contiguousStrides(target), offset: source.offset)
    }

    /// A view with axes `a` and `b` swapped.
    public func transposed(_ a: Int, _ b: Int) throws -> Tensor {
        let x = try Tensor.normalize(axis: a, rank: rank), y = try Tensor.normalize(axis: b, rank: rank)
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return try permuted(order)
    }

    /// `x'`: the last two axes swapped (a view); tensors of rank 0 and 1 are unchanged.
    public func swappingLastAxes() throws -> Tensor {
        rank < 2 ? self : try transposed(rank - 2, rank - 1)
    }

    /// A view with the axes in the given order.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            let order = try axes.map { try Tensor.normalize(axis: $0, rank: rank) }
            return try tape.recording("permute", inputs: [self], saving: [], savesOutput: false, forward: { try permuted(axes) }) { g, _ in
                [try g.permuted(Derivative.inverse(order))]
            }
        }
        let resolved = try axes.map { try Tensor.normalize(axis: $0, rank: rank) }
        guard resolved.count == rank, Set(resolved).count == rank else {
            throw TensorError.value("permute needs each of the \(rank) axes once, got \(describe(shape: axes))")
        }
        return Tensor(storage: storage, shape: resolved.map { shape[$0] }, strides: resolved.map { strides[$0] }, offset: offset)
    }

    /// Without the given size-1 axis (nil: every size-1 axis).
    public func squeezed(axis: Int? = nil) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("squeeze", inputs: [self], saving: [], savesOutput: false, forward: { try squeezed(axis: axis) }) { g, _ in
                [try g.reshaped(self.shape)]
            }
        }
        guard let axis else {
            let keep = shape.indices.filter { shape[$0] != 1 }
            return Tensor(storage: storage, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
        }
        let a = try Tensor.normalize(axis: axis, rank: rank)
        guard shape[a] == 1 else {
            throw TensorError.value("squeeze: axis \(axis) has size \(shape[a]), not 1").blaming("axis", axis)
        }
        var newShape = shape, newStrides = strides
        newShape.remove(at: a)
        newStrides.remove(at: a)
        return Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset)
    }

    /// With a new size-1 axis at `axis` (-1 appends).
    public func unsqueezed(axis: Int) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("unsqueeze", inputs: [self], saving: [], savesOutput: false, forward: { try unsqueezed(axis: axis) }) { g, _ in
                [try g.reshaped(self.shape)]
            }
        }
        let a = try Tensor.normalize(axis: axis, rank: rank + 1)
        var newShape = shape, newStrides = strides
        newShape.insert(1, at: a)
        newStrides.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        return Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset)
    }

    /// Joins tensors along an existing axis.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        if let tape = try Tape.tracking(tensors) {
            return try tape.recording("concat", inputs: tensors, saving: [], savesOutput: false, forward: { try concat(tensors, axis: axis) }) { g, _ in
                try Derivative.concat(tensors, axis: try normalize(axis: axis, rank: g.rank), g)
            }
        }
        guard let first = tensors.first else { throw TensorError.value("concat needs at least one tensor") }
        let a = try normalize(axis: axis, rank: max(first.rank, 1))
        guard first.rank > 0 else { throw TensorError.shape(in: "concat", "0-d tensors cannot be joined; use stack") }
        for (i, t) in tensors.enumerated() {
            guard t.rank == first.rank, t.shape.indices.allSatisfy({ $0 == a || t.shape[$0] == first.shape[$0] }) else {
                let expected = first.shape.indices.map { $0 == a ? "*" : String(first.shape[$0]) }.joined(separator: ", ")
                throw TensorError.shape(in: "concat", "tensor \(i) has shape \(describe(shape: t.shape)), expected [\(expected)]")
            }
        }
        var shape = first.shape
        var joined = 0
        for t in tensors {
            let (sum, overflow) = joined.addingReportingOverflow(t.shape[a])
            guard !overflow, sum <= Tensor.maxShapeExtent else {
                throw TensorError.value("concat: the result is too large (its size along axis \(axis) exceeds 2^53)")
            }
            joined = sum
        }
        shape[a] = joined
        let result = try Tensor(uninitializedShape: shape)
        if result.count == 0 { return result }
        let outer = shape[..<a].reduce(1, *)
        let innerOut = shape[a...].reduce(1, *)
        var column = 0
        for t in tensors {
            try Interrupt.check()
            let c = try t.contiguous()
            let chunk = c.shape[a...].reduce(1, *)
            let source = c.storage.pointer + c.offset, target = result.storage.pointer + column
            if chunk == 1 {
                // Joining along the last axis of stacked vectors: one float per row.
                for o in 0..<outer { target[o * innerOut] = source[o] }
            } else {
                for o in 0..<outer { (target + o * innerOut).update(from: source + o * chunk, count: chunk) }
            }
            column += chunk
        }
        return result
    }

    /// Joins tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.value("stack needs at least one tensor") }
        for (i, t) in tensors.enumerated() where t.shape != first.shape {
            throw TensorError.shape(in: "stack", "tensor \(i) has shape \(describe(shape: t.shape)), expected \(describe(shape: first.shape))")
        }
        let a = try normalize(axis: axis, rank: first.rank + 1)
        return try concat(try tensors.map { try $0.unsqueezed(axis: a) }, axis: a)
    }

    /// The most parts `split` makes (2^20): each is a tensor object of its own.
    public static let maxSplitParts = 1 << 20

    /// `parts` equal views along `axis`: parts must divide the axis size (so a positive
    /// size bounds them) and be at most `maxSplitParts`.
    public func split(_ parts: Int, axis: Int) throws -> [Tensor] {
        let a = try Tensor.normalize(axis: axis, rank: rank)
        guard parts > 0, shape[a] % parts == 0 else {
            throw TensorError.value("split: axis \(axis) has size \(shape[a]), which does not divide into \(parts) equal parts").blaming("parts", parts)
        }
        guard parts <= Tensor.maxSplitParts else {
            throw TensorError.value("split: \(parts) parts are too many (at most 2^20 = \(Tensor.maxSplitParts))").blaming("parts", parts)
        }
        let size = shape[a] / parts
        var newShape = shape
        newShape[a] = size
        let views = (0..<parts).map { i in
            Tensor(storage: storage, shape: newShape, strides: strides, offset: offset + i * size * strides[a])
        }
        if let tape = try Tape.tracking(self) {
            for (i, view) in views.enumerated() {
                tape.record("split", output: view, inputs: [self], saving: [], savesOutput: false) { g in
                    [try Derivative.part(self, index: i, parts: parts, axis: a, g)]
                }
            }
        }
        return views
    }

    /// The lower triangle of the last two axes (j <= i + k), zeros elsewhere.
    public func tril(k: Int = 0) throws -> Tensor { try triangle(k: k, lower: true) }

    /// The upper triangle of the last two axes (j >= i + k), zeros elsewhere.
    public func triu(k: Int = 0) throws -> Tensor { try triangle(k: k, lower: false) }

    private func triangle(k: Int, lower: Bool) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording(lower ? "tril" : "triu", inputs: [self], saving: [], savesOutput: false, forward: { try triangle(k: k, lower: lower) }) { g, _ in
                [try g.contiguous().triangle(k: k, lower: lower)]
            }
        }
        guard rank >= 2 else {
            throw TensorError.shape(in: lower ? "tril" : "triu", "needs a tensor of rank 2 or more, got \(describe(shape: shape))")
        }
        let result = try copy()
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let p = result.storage.pointer
        let matrices = rows * cols == 0 ? 0 : count / (rows * cols)
        for m in 0..<matrices {
            try Interrupt.check()
            for i in 0..<rows {
                let row = p + m * rows * cols + i * cols
                for j in 0..<cols where lower ? j > i + k : j < i + k { row[j] = 0 }
            }
        }
        return result
    }
}
