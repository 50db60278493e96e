import CKernels

/// One item of a subscript `x[...]`.
public enum TensorIndex: Sendable {
    case single(Int)
    case slice(start: Int?, stop: Int?, step: Int?)
    /// Integral values to gather along this axis (`E[ids]`).
    case gather(Tensor)
    /// A new axis of size 1 (`x[none]`).
    case newAxis
    /// A boolean mask over the leading axes (`x[x > 0]`): nonzero entries select.
    case mask(Tensor)
}

/// Python's slice semantics on a sequence of `size`: the first position picked and how
/// many are picked (negative bounds count from the end, bounds of any size are clamped).
/// Defined, without overflow, for every Int bound and step.
public func sliceExtent(start: Int?, stop: Int?, step: Int, size: Int) throws -> (first: Int, count: Int) {
    guard step != 0 else { throw TensorError.value("slice step cannot be 0") }
    func clamp(_ v: Int?, _ fallback: Int) -> Int {
        guard let v else { return fallback }
        let r = v < 0 ? v + size : v
        return step > 0 ? min(max(r, 0), size) : min(max(r, -1), size - 1)
    }
    let lo = clamp(start, step > 0 ? 0 : size - 1)
    let hi = clamp(stop, step > 0 ? size : -1)
    // lo and hi lie in [-1, size]; (distance - 1) / step rounds toward zero either way.
    let n = step > 0 ? (hi > lo ? (hi - lo - 1) / step + 1 : 0) : (lo > hi ? 1 - (lo - hi - 1) / step : 0)
    return (lo, n)
}

/// A slice bound or step from a number: any integral value (NumPy clamps slice bounds,
/// so 2^53 or 1e300 is as good as the size), saturated to ±2^62; nil when the number is
/// not an integer (fractional, infinite or NaN).
public func sliceInteger(_ x: Double) -> Int? {
    guard x.isFinite, x == x.rounded() else { return nil }
    let limit = Double(1 << 62)
    return x >= limit ? 1 << 62 : x <= -limit ? -(1 << 62) : Int(x)
}

extension Tensor {
    /// The view for the single and slice items, plus the position (in the view) and
    /// indices of a gather item, if any.
    func basicView(_ items: [TensorIndex]) throws -> (view: Tensor, gather: (axis: Int, ids: Tensor)?) {
        let consumed = items.filter { if case .newAxis = $0 { return false } else { return true } }.count
        guard consumed <= rank else {
            throw TensorError.index("too many indices: \(consumed) for a tensor of rank \(rank)")
        }
        var newShape: [Int] = [], newStrides: [Int] = []
        var newOffset = offset
        var axis = 0
        var gather: (Int, Tensor)? = nil
        for item in items {
            switch item {
            case .newAxis:
                newShape.append(1)
                newStrides.append(0)
            case .single(let i):
                let size = shape[axis]
                let resolved = i < 0 ? i + size : i
                guard resolved >= 0, resolved < size else {
                    throw TensorError.index("index \(i) is out of range for axis \(axis) of size \(size)").blaming("index", i)
                }
                newOffset += resolved * strides[axis]
                axis += 1
            case .slice(let start, let stop, let step):
                let s = step ?? 1
                let (lo, n) = try sliceExtent(start: start, stop: stop, step: s, size: shape[axis])
                if n > 0 { newOffset += lo * strides[axis] }
                newShape.append(n)
                // With two or more picks |s| < size, so the product is bounded; with fewer
                // the stride is never used (and s may be huge).
                newStrides.append(n > 1 ? strides[axis] * s : strides[axis])
                axis += 1
            case .mask:
                throw TensorError.index("a mask must be the only index (x[m], not x[m, ...])")
            case .gather(let ids):
                guard gather == nil else {
                    throw TensorError.value("only one tensor index per subscript is supported")
                }
                gather = (newShape.count, ids)
                newShape.append(shape[axis])
                newStrides.append(strides[axis])
                axis += 1
            }
        }
        newShape += shape[axis...]
        newStrides += strides[axis...]
        return (Tensor(storage: storage, shape: newShape, strides: newStrides, offset: newOffset), gather)
    }

    /// Checked integer positions from a gather tensor.
    static func positions(_ ids: Tensor, size: Int, axis: Int) throws -> [Int] {
        try ids.values.map { v in
            guard v.isFinite, v == v.rounded() else {
                throw TensorError.index("index \(v.isFinite ? String(describing: v) : "\(v)") is not an integer")
            }
            guard Swift.abs(v) < 0x1p62 else {
                throw TensorError.index("index \(TensorFormatter.formatNumber(v)) is out of range for axis \(axis) of size \(size)")
            }
            let i = Int(v)
            let resolved = i < 0 ? i + size : i
            guard resolved >= 0, resolved < size else {
                throw TensorError.index("index \(i) is out of range for axis \(axis) of size \(size)").blaming("index", i)
            }
            return resolved
        }
    }

    /// `x[items]`: single indices and slices give views; a gather gives a new tensor
    /// whose gathered axis is replaced by the index tensor's shape.
    public func subscripted(_ items: [TensorIndex]) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("x[...]", inputs: [self], saving: [], savesOutput: false, forward: { try subscripted(items) }) { g, _ in
                [try Derivative.subscripted(self, items, g)]
            }
        }
        if items.count == 1, case .mask(let mask) = items[0] { return try selected(by: mask) }
        let (view, gather) = try basicView(items)
        guard let (axis, ids) = gather else { return view }
        let size = view.shape[axis]
        let picked = try Tensor.positions(ids, size: size, axis: axis)
        let outer = Array(view.shape[..<axis]), inner = Array(view.shape[(axis + 1)...])
        let result = try Tensor(uninitializedShape: outer + ids.shape + inner)
        if result.count == 0 { return result }
        let innerCount = inner.reduce(1, *)
        let outerCount = outer.reduce(1, *)
        let outerView = try Tensor(storage: view.storage, shape: outer + [size] + inner, strides: view.strides, offset: view.offset)
            .reshapedForGather(outerCount: outerCount, size: size, innerCount: innerCount)
        let source = outerView.storage.pointer + outerView.offset
        var target = result.storage.pointer
        for o in 0..<outerCount {
            if o & 1023 == 1023 { try Interrupt.check() }
            let slab = source + o * size * innerCount
            if innerCount == 1 {
                for (k, p) in picked.enumerated() { target[k] = slab[p] }
                target += picked.count
                continue
            }
            for p in picked {
                target.update(from: slab + p * innerCount, count: innerCount)
                target += innerCount
            }
        }
        return result
    }

    /// A [outer, size, inner] view (or copy) of a tensor, for gathering rows.
    private func reshapedForGather(outerCount: Int, size: Int, innerCount: Int) throws -> Tensor {
        if isContiguous {
            return Tensor(storage: storage, shape: [outerCount, size, innerCount],
                          strides: [size * innerCount, innerCount, 1], offset: offset)
        }
        return try contiguous().reshapedForGather(outerCount: outerCount, size: size, innerCount: innerCount)
    }

    /// `x[items] = value` in place (the storage is shared with every alias and view),
    /// with `value` broadcast to the selected region.
    public func assign(_ items: [TensorIndex], _ value: Tensor) throws {
        if let tape = Tape.active, tape.concerns(write: self, value: value) {
            return try tape.recordWrite(self, items: items, value: value) { try assign(items, value) }
        }
        if items.count == 1, case .mask(let mask) = items[0] { return try assign(selectedBy: mask, value) }
        let (view, gather) = try basicView(items)
        if let (axis, ids) = gather {
            // The slices are written one after another: read the value before any of
            // them when it shares storage with the target (x[[4, 3, 2, 1, 0]] = x).
            let value = value.storage === storage ? try value.copy() : value
            let size = view.shape[axis]
            let picked = try Tensor.positions(ids, size: size, axis: axis)
            let regionShape = Array(view.shape[..<axis]) + ids.shape + Array(view.shape[(axis + 1)...])
            let source = try value.expandedForAssignment(to: regionShape).contiguous()
            // Write each picked slice along the axis.
            let flat = try source.reshaped(Array(view.shape[..<axis]) + [picked.count] + Array(view.shape[(axis + 1)...]))
            for (k, p) in picked.enumerated() {
                var target = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: nil), count: axis)
                target.append(.single(p))
                var from = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: nil), count: axis)
                from.append(.single(k))
                try view.basicView(target).view.write(try flat.subscripted(from))
            }
            return
        }
        try view.write(try value.expandedForAssignment(to: view.shape))
    }

    /// A mask over the leading axes, as a contiguous tensor, with how many of its entries
    /// are nonzero (selected), the trailing shape and the number of floats per row.
    private func maskRows(_ mask: Tensor) throws -> (flags: Tensor, selected: Int, rest: [Int], rows: Int) {
        guard mask.rank <= rank, Array(shape.prefix(mask.rank)) == mask.shape else {
            throw TensorError.index("a mask of shape \(describe(shape: mask.shape)) does not match the leading axes of a tensor of shape \(describe(shape: shape))")
        }
        let flags = try mask.contiguous()
        let m = flags.storage.pointer + flags.offset
        var selected = 0
        for i in 0..<flags.count { selected += m[i] != 0 ? 1 : 0 }
        let rest = Array(shape[mask.rank...])
        return (flags, selected, rest, rest.reduce(1, *))
    }

    /// `x[m]`: a new tensor [count] + trailing shape of the selected rows, in row-major order.
    private func selected(by mask: Tensor) throws -> Tensor {
        let (flags, selected, rest, rows) = try maskRows(mask)
        let result = try Tensor(uninitializedShape: [selected] + rest)
        if result.count == 0 { return result }
        let source = try contiguous()
        let m = flags.storage.pointer + flags.offset
        let from = source.storage.pointer + source.offset, to = result.storage.pointer
        if rows == 1 {
            tx_compress(from, m, flags.count, to)
            return result
        }
        var k = 0
        for i in 0..<flags.count where m[i] != 0 {
            (to + k * rows).update(from: from + i * rows, count: rows)
            k += 1
        }
        return result
    }

    /// `x[m] = v`: v broadcast to [count] + trailing shape fills the selected rows in
    /// order (a number or a single row fills them all).
    private func assign(selectedBy mask: Tensor, _ value: Tensor) throws {
        let (flags, selected, rest, rows) = try maskRows(mask)
        let region = [selected] + rest
        let expanded = try value.expandedForAssignment(to: region)
        if selected == 0 || rows == 0 { return }
        // One row for every selected row when the value does not vary along the first axis.
        let single = expanded.strides[0] == 0
        var source = single ? try expanded.subscripted([.single(0)]).contiguous() : try expanded.contiguous()
        if source.storage === storage { source = try source.copy() }
        // Written in place when contiguous; otherwise into a copy that is then written back
        // through this view.
        let target = isContiguous ? self : try copy()
        let to = target.storage.pointer + target.offset, from = source.storage.pointer + source.offset
        let m = flags.storage.pointer + flags.offset
        if rows == 1 && single {
            let v = from[0]
            for i in 0..<flags.count { let old = to[i]; to[i] = m[i] != 0 ? v : old }
        } else {
            let step = single ? 0 : rows
            var k = 0
            for i in 0..<flags.count where m[i] != 0 {
                (to + i * rows).update(from: from + k * step, count: rows)
                k += 1
            }
        }
        if target !== self { try write(target) }
    }

    /// `x[items] = v` for a number v.
    public func assign(_ items: [TensorIndex], scalar: Float) throws {
        try assign(items, try Tensor(scalar: scalar))
    }

    private func expandedForAssignment(to region: [Int]) throws -> Tensor {
        guard let shape = Tensor.broadcastShape(self.shape, region), shape == region else {
            throw TensorError.shape(in: "assignment", "cannot store a tensor \(describe(shape: self.shape)) into a region of shape \(describe(shape: region))")
        }
        return try broadcast(to: region)
    }

    /// Copies `source` (same shape) into this view element by element, row by row.
    private func write(_ source: Tensor) throws {
        // Copy first when the source shares storage, so overlapping views read old values.
        let input = source.storage === storage ? try source.copy() : source
        let values = try input.contiguous()
        let src = values.storage.pointer + values.offset
        let dst = storage.pointer + offset
        forEachRow { row, base, length, step in
            let from = src + row * length
            if step == 1 {
                (dst + base).update(from: from, count: length)
            } else {
                for i in 0..<length { dst[base + i * step] = from[i] }
            }
        }
    }
}
