import CKernels
import Glibc

/// A counted float32 buffer. Tensors share storages: views (transpose, slices) point
/// into the same buffer with other strides.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Set on the fresh result of a comparison: its views index as boolean masks
    /// (`x[x > 0]`), as NumPy's boolean arrays do.
    public internal(set) var isMask = false

    /// The size class the buffer came from (see BufferCache).
    private let size: Int

    /// A buffer of `count` floats, zeroed when `zeroed`, else uninitialised.
    init(count: Int, zeroed: Bool, shape: [Int]) throws {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        try Memory.reserve(bytes, shape: shape)
        guard let (raw, size) = BufferCache.allocate(bytes, zeroed: zeroed) else {
            Memory.release(tensorBytes: bytes)
            throw TensorError(.memory, label: "out of memory", "a tensor of shape \(describe(shape: shape)) needs \(Memory.format(bytes: bytes))")
        }
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.size = size
    }

    deinit {
        BufferCache.recycle(UnsafeMutableRawPointer(pointer), size: size)
        Memory.release(tensorBytes: max(count, 1) * MemoryLayout<Float>.stride)
    }
}

/// A float32 tensor of any rank (0-d included), row-major.
///
/// A tensor is a view: `shape`, `strides` (in elements, may be 0 for broadcast axes)
/// and `offset` into a shared `storage`. Operations that produce new values allocate
/// contiguous results; `transposed`, slicing and `reshape` of contiguous data are views.
/// Kernels call `contiguous()` first and then loop over a flat buffer.
///
/// Tensors are immutable descriptions (every property is a `let`); they are a class so
/// that an interpreter value holding one is a single reference, cheap to copy.
public final class Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    /// Whether this is (a view of) the result of a comparison: as an index it selects.
    public var isMask: Bool { storage.isMask }

    /// Marks a freshly computed comparison result as a mask, and returns it.
    public func markedAsMask() -> Tensor {
        storage.isMask = true
        return self
    }

    public init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor; its contents are uninitialised unless `zeroed`.
    public init(uninitializedShape shape: [Int], zeroed: Bool = false) throws {
        let count = try Tensor.elementCount(shape)
        self.storage = try TensorStorage(count: count, zeroed: zeroed, shape: shape)
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.offset = 0
    }

    public static func zeros(_ shape: [Int]) throws -> Tensor {
        try Tensor(uninitializedShape: shape, zeroed: true)
    }

    public static func full(_ value: Float, _ shape: [Int]) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        t.storage.pointer.update(repeating: value, count: t.count)
        return t
    }

    /// A tensor holding `values` (row-major) with `shape`.
    public convenience init(shape: [Int], values: [Float]) throws {
        let count = try Tensor.elementCount(shape)
        guard count == values.count else {
            // No label, as this message has always been written.
            throw TensorError(.shape, label: "", "\(values.count) values do not fill a tensor of shape \(describe(shape: shape))")
        }
        try self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.update(from: base, count: count) }
        }
    }

    /// A 0-d tensor.
    public convenience init(scalar: Float) throws {
        try self.init(shape: [], values: [scalar])
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }

    /// Whether the elements lie in row-major order without gaps from `offset` on.
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The same values in a contiguous buffer: `self` when it already is one.
    public func contiguous() throws -> Tensor {
        if isContiguous { return self }
        if let tape = try Tape.tracking(self) {
            return try tape.recording("contiguous", inputs: [self], saving: [], savesOutput: false, forward: { try contiguous() }) { g, _ in [g] }
        }
        let result = try Tensor(uninitializedShape: shape)
        copyElements(to: result.storage.pointer)
        return result
    }

    /// A contiguous copy that shares nothing with `self`.
    public func copy() throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("copy", inputs: [self], saving: [], savesOutput: false, forward: { try copy() }) { g, _ in [g] }
        }
        let result = try Tensor(uninitializedShape: shape)
        copyElements(to: result.storage.pointer)
        return result
    }

    /// Writes the elements in row-major order to `destination`.
    public func copyElements(to destination: UnsafeMutablePointer<Float>) {
        let n = count
        if n == 0 { return }
        if isContiguous {
            destination.update(from: storage.pointer + offset, count: n)
            return
        }
        let source = storage.pointer + offset
        if let axis = contiguousInnerAxis {
            copyTransposed(from: source, to: destination, contiguousAxis: axis)
            return
        }
        forEachRow { row, base, length, step in
            let target = destination + row * length
            if step == 1 {
                target.update(from: source + base, count: length)
            } else {
                for i in 0..<length { target[i] = source[base + i * step] }
            }
        }
    }

    /// For a transposed (or permuted) view, the axis other than the last along which the
    /// elements are adjacent in memory; nil when the last axis is that one, or no axis is.
    var contiguousInnerAxis: Int? {
        guard let last = shape.indices.last, shape[last] > 1, strides[last] != 1 else { return nil }
        return shape.indices.dropLast().last { shape[$0] > 1 && strides[$0] == 1 }
    }

    /// Copies a view whose elements are adjacent along `axis` (not the last): each plane
    /// over `axis` and the last axis is a transpose, done in blocks so that both the
    /// reads and the writes run along memory instead of one of them striding through it.
    private func copyTransposed(from source: UnsafeMutablePointer<Float>, to destination: UnsafeMutablePointer<Float>,
                                contiguousAxis axis: Int) {
        let last = rank - 1
        let targetStrides = Tensor.contiguousStrides(shape)
        let others = shape.indices.filter { $0 != axis && $0 != last }
        // The planes, one per step of an odometer over the other axes.
        var walker = RowWalker(shape: others.map { shape[$0] } + [1],
                               operandStrides: [others.map { strides[$0] } + [0], others.map { targetStrides[$0] } + [0]],
                               baseOffsets: [0, 0])
        for _ in 0..<walker.rowCount {
            tx_transpose(source + walker.offsets[0], strides[last], destination + walker.offsets[1], targetStrides[axis],
                         shape[axis], shape[last])
            walker.next()
        }
    }

    /// `self`, or a contiguous copy of a transposed view: elementwise loops then read rows
    /// in memory order rather than striding down columns.
    func withContiguousRows() throws -> Tensor {
        contiguousInnerAxis == nil ? self : try contiguous()
    }

    /// Visits the tensor's innermost rows in row-major order: `body(rowIndex,
    /// elementOffset, rowLength, rowStride)`, offsets relative to `offset`.
    public func forEachRow(_ body: (Int, Int, Int, Int) throws -> Void) rethrows {
        if shape.isEmpty { try body(0, 0, 1, 1); return }
        let last = shape.count - 1
        let length = shape[last], step = strides[last]
        let rows = length == 0 ? 0 : count / length
        if rows == 0 { return }
        var index = [Int](repeating: 0, count: last)
        var base = 0
        for row in 0..<rows {
            try body(row, base, length, step)
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                base += strides[axis]
                if index[axis] < shape[axis] { break }
                base -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// The elements in row-major order.
    public var values: [Float] {
        var result = [Float](repeating: 0, count: count)
        result.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { copyElements(to: base) }
        }
        return result
    }

    /// The only element of a one-element tensor.
    public var scalarValue: Float? {
        count == 1 ? storage.pointer[offset] : nil
    }

    /// Row-major strides of `shape` (size-0 axes count as size 1). `shape` must have
    /// passed `checkShape` (every tensor's shape has), so the products cannot overflow.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= max(shape[axis], 1)
        }
        return strides
    }

    /// The most elements a tensor may hold (2^31 - 1 times 64, 512 GiB of float32).
    public static let maxElementCount = Int(Int32.max) * 64

    /// The most a shape's sizes may multiply to when sizes 0 count as 1 (2^53). A tensor
    /// with no elements needs no memory, but its strides and the offsets of its views
    /// are such products; below 2^53 they, and every sum of them, fit an Int (and a
    /// Double exactly).
    public static let maxShapeExtent = 1 << 53

    /// The one rule for every shape a tensor can have (creation, reshape, broadcast,
    /// concat, matmul, loaders): sizes are >= 0, and their product with sizes 0 counted
    /// as 1 does not exceed `maxShapeExtent`. Returns that product.
    @discardableResult
    public static func checkShape(_ shape: [Int]) throws -> Int {
        for size in shape where size < 0 {
            // No label, as this message has always been written.
            throw TensorError(.value, label: "", "negative size \(size) in shape \(describe(shape: shape))")
        }
        var extent = 1
        for size in shape where size > 0 {
            let (product, overflow) = extent.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxShapeExtent else {
                let which = shape.contains(0) ? "its sizes other than 0" : "its sizes"
                throw TensorError.value("a tensor of shape \(describe(shape: shape)) is too large (\(which) multiply to more than 2^53)")
            }
            extent = product
        }
        return extent
    }

    /// The number of elements of `shape`, checked by `checkShape` and against
    /// `maxElementCount`.
    public static func elementCount(_ shape: [Int]) throws -> Int {
        if shape.contains(where: { $0 <= 0 }) {
            try checkShape(shape)   // a negative size throws
            return 0
        }
        var total = 1
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxElementCount else {
                throw TensorError(.memory, "a tensor of shape \(describe(shape: shape)) is too large")
            }
            total = product
        }
        return total
    }

    /// Normalises a possibly negative axis against `rank` (`-1` is the last).
    public static func normalize(axis: Int, rank: Int) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < rank else {
            throw TensorError.index("axis \(axis) is out of range for a tensor of rank \(rank)").blaming("axis", axis)
        }
        return resolved
    }
}
