import Glibc
import Tensor
import Testing

func t(_ shape: [Int], _ values: [Float]) throws -> Tensor { try Tensor(shape: shape, values: values) }

/// A transposed view built by hand: shape [3, 2] over the storage of a [2, 3] tensor.
func transposedView() throws -> Tensor {
    let base = try t([2, 3], [1, 2, 3, 4, 5, 6])
    return Tensor(storage: base.storage, shape: [3, 2], strides: [1, 3], offset: 0)
}

@Test func broadcastingBinaryOps() throws {
    let a = try t([2, 3], [1, 2, 3, 4, 5, 6])
    #expect(try Tensor.binary(.add, a, t([3], [10, 20, 30])).values == [11, 22, 33, 14, 25, 36])
    #expect(try Tensor.binary(.multiply, t([2, 1], [1, 2]), t([1, 3], [1, 10, 100])).values == [1, 10, 100, 2, 20, 200])
    #expect(try Tensor.binary(.subtract, a, Tensor(scalar: 1)).values == [0, 1, 2, 3, 4, 5])
    #expect(try Tensor.binary(.divide, scalar: 6, t([3], [1, 2, 3])).values == [6, 3, 2])
    #expect(try Tensor.binary(.power, t([3], [1, 2, 3]), scalar: 2).values == [1, 4, 9])
    #expect(try Tensor.binary(.modulo, t([4], [-7, 7, 5, -5]), t([4], [3, -3, 3, 3])).values == [2, -2, 2, 1])
    #expect(try Tensor.binary(.maximum, t([3], [1, .nan, 3]), scalar: 2).values.map { $0.isNaN ? -1 : $0 } == [2, -1, 3])
    #expect(try Tensor.binary(.less, t([3], [1, 2, 3]), scalar: 2).values == [1, 0, 0])
    #expect(try Tensor.binary(.equal, a, a).values == [1, 1, 1, 1, 1, 1])
}

@Test func operationsOnNonContiguousViews() throws {
    let v = try transposedView()
    #expect(v.values == [1, 4, 2, 5, 3, 6])
    #expect(try Tensor.binary(.add, v, t([2], [10, 100])).values == [11, 104, 12, 105, 13, 106])
    #expect(try v.map(.negate).values == [-1, -4, -2, -5, -3, -6])
    #expect(try v.reduce(.sum, axes: [0]).values == [6, 15])
    #expect(try v.softmax(axis: 0).shape == [3, 2])
}

@Test func broadcastErrorsNameBothShapes() throws {
    #expect(throws: TensorError.self) { try Tensor.binary(.add, try t([3], [1, 2, 3]), try t([2], [1, 2])) }
    expectFailure(.shape, "shape mismatch in +: [2, 3] + [4] (cannot broadcast)") {
        try Tensor.binary(.add, try t([2, 3], [Float](repeating: 0, count: 6)), try t([4], [0, 0, 0, 0]))
    }
}

@Test func unaryFunctions() throws {
    let x = try t([4], [-1, 0, 1, 2])
    #expect(try x.map(.relu).values == [0, 0, 1, 2])
    #expect(try x.map(.abs).values == [1, 0, 1, 2])
    #expect(try x.map(.not).values == [0, 1, 0, 0])
    // Reference values from numpy / scipy (float64), compared at float32 precision.
    let gelu: [Float] = [-0.15865525, 0, 0.8413447, 1.9544997]
    for (a, b) in zip(try x.map(.gelu).values, gelu) { #expect(abs(a - b) < 1e-6) }
    let exp: [Float] = [0.36787944, 1, 2.7182817, 7.389056]
    for (a, b) in zip(try x.map(.exp).values, exp) { #expect(abs(a - b) <= 1e-6 * b) }
    let sigmoid = try t([3], [-100, 0, 100]).map(.sigmoid).values
    #expect(sigmoid[1] == 0.5 && sigmoid[2] == 1 && sigmoid[0] > 0 && sigmoid[0] < Float.leastNormalMagnitude)
    #expect(Tensor.apply(.sqrt, to: 16) == 4)
}

@Test func selectBroadcastsAllThree() throws {
    let r = try Tensor.select(t([3], [1, 0, 1]), t([2, 1], [5, 6]), Tensor(scalar: -1))
    #expect(r.shape == [2, 3])
    #expect(r.values == [5, -1, 5, 6, -1, 6])
}

@Test func reductions() throws {
    let x = try t([2, 3], [1, 5, 3, 4, 2, 6])
    #expect(try x.reduce(.sum).values == [21])
    #expect(try x.reduce(.sum).shape == [])
    #expect(try x.reduce(.sum, axes: [0]).values == [5, 7, 9])
    #expect(try x.reduce(.max, axes: [1]).values == [5, 6])
    #expect(try x.reduce(.min, axes: [-1], keepdims: true).shape == [2, 1])
    #expect(try x.reduce(.argmax, axes: [1]).values == [1, 2])
    #expect(try x.reduce(.argmax).values == [5])
    #expect(try t([4], [3, 9, 9, 1]).reduce(.argmax).values == [1])
    #expect(try t([4], [1, 2, 3, 4]).reduce(.variance(ddof: 0)).values == [1.25])
    #expect(try t([4], [1, 2, 3, 4]).reduce(.variance(ddof: 1)).values == [Float(5.0 / 3.0)])
    #expect(try t([2], [3, 4]).norm().values == [5])
    #expect(try t([2], [1000, 1000]).reduce(.logsumexp).values == [Float(1000 + 0.6931471805599453)])
    #expect(try t([2], [-.infinity, -.infinity]).reduce(.logsumexp).values == [-.infinity])
    #expect(try t([0], []).reduce(.sum).values == [0])
    #expect(throws: TensorError.self) { try t([0], []).reduce(.max) }
    #expect(throws: TensorError.self) { try x.reduce(.sum, axes: [2]) }
    #expect(throws: TensorError.self) { try x.reduce(.sum, axes: [1, -1]) }
}

@Test func meanOfManyValuesIsAccurate() throws {
    let n = 10_000_000
    let x = try Tensor.full(0.1, [n])
    let mean = try x.reduce(.mean).values[0]
    #expect(abs(mean - 0.1) < 1e-7)
}

@Test func softmaxRowsAndInfinities() throws {
    let x = try t([3, 3], [1, 2, 3, 0, -.infinity, 0, -.infinity, -.infinity, -.infinity])
    let s = try x.softmax().values
    let expected: [Float] = [0.09003057, 0.24472848, 0.66524094, 0.5, 0, 0.5, 0, 0, 0]
    for (a, b) in zip(s, expected) { #expect(abs(a - b) < 1e-6) }
    let columns = try x.softmax(axis: 0)
    #expect(columns.shape == [3, 3])
    #expect(abs(columns.values[0] - 0.7310586) < 1e-6)
}

@Test func shapesAndViews() throws {
    let x = try Tensor.arange(start: 0, stop: 6, step: 1)
    let m = try x.reshaped([2, -1])
    #expect(m.shape == [2, 3])
    #expect(m.storage === x.storage)
    #expect(try m.transposed(0, 1).values == [0, 3, 1, 4, 2, 5])
    #expect(try m.swappingLastAxes().shape == [3, 2])
    #expect(try x.swappingLastAxes().shape == [6])
    #expect(try Tensor.zeros([2, 3, 4]).permuted([2, 0, 1]).shape == [4, 2, 3])
    #expect(try Tensor.zeros([1, 3, 1]).squeezed().shape == [3])
    #expect(try Tensor.zeros([3]).unsqueezed(axis: -1).shape == [3, 1])
    #expect(try Tensor.concat([m, m], axis: 1).values == [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
    #expect(try Tensor.stack([x, x], axis: 1).shape == [6, 2])
    let parts = try m.split(3, axis: 1)
    #expect(parts.map(\.values) == [[0, 3], [1, 4], [2, 5]])
    #expect(try Tensor.full(1, [3, 3]).tril().values == [1, 0, 0, 1, 1, 0, 1, 1, 1])
    #expect(try Tensor.full(-.infinity, [2, 2]).triu(k: 1).values == [0, -.infinity, 0, 0])
    #expect(throws: TensorError.self) { try x.reshaped([4, 2]) }
    #expect(throws: TensorError.self) { try x.reshaped([-1, -1]) }
    #expect(throws: TensorError.self) { try Tensor.concat([m, x], axis: 0) }
    #expect(throws: TensorError.self) { try x.split(4, axis: 0) }
    #expect(throws: TensorError.self) { try m.squeezed(axis: 0) }
}

@Test func indexingAndAssignment() throws {
    let x = try Tensor.arange(start: 0, stop: 12, step: 1).reshaped([3, 4])
    #expect(try x.subscripted([.single(1)]).values == [4, 5, 6, 7])
    #expect(try x.subscripted([.single(-1), .single(-1)]).values == [11])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: nil), .single(0)]).values == [0, 4, 8])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: -1)]).values == [8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3])
    #expect(try x.subscripted([.single(0), .slice(start: 1, stop: 100, step: 2)]).values == [1, 3])
    #expect(try x.subscripted([.newAxis]).shape == [1, 3, 4])
    let ids = try t([2, 2], [2, 0, 0, 1])
    let gathered = try x.subscripted([.gather(ids)])
    #expect(gathered.shape == [2, 2, 4])
    #expect(gathered.values.prefix(4) == [8, 9, 10, 11])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: nil), .gather(t([2], [3, 0]))]).values == [3, 0, 7, 4, 11, 8])
    let row = try x.subscripted([.single(1)])
    try row.assign([.single(0)], scalar: 100)
    #expect(x.values[4] == 100)
    try x.assign([.slice(start: nil, stop: nil, step: nil), .single(3)], try t([3], [-1, -2, -3]))
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: nil), .single(3)]).values == [-1, -2, -3])
    try x.assign([.gather(t([2], [0, 2]))], scalar: 0)
    #expect(x.values[0..<4] == [0, 0, 0, 0] && x.values[8..<12] == [0, 0, 0, 0])
    #expect(throws: TensorError.self) { try x.subscripted([.single(3)]) }
    #expect(throws: TensorError.self) { try x.subscripted([.single(0), .single(0), .single(0)]) }
    #expect(throws: TensorError.self) { try x.subscripted([.gather(t([1], [1.5]))]) }
    #expect(throws: TensorError.self) { try x.subscripted([.gather(t([1], [7]))]) }
    #expect(throws: TensorError.self) { try x.subscripted([.slice(start: nil, stop: nil, step: 0)]) }
    #expect(throws: TensorError.self) { try x.assign([.single(0)], try t([3], [1, 2, 3])) }
}

/// The matrix product by definition, in double precision.
func naiveMatmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var s = 0.0
        for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
        c[i * n + j] = Float(s)
    } }
    return c
}

func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Test func matmulMatchesTheDefinitionForEveryLayout() throws {
    var random = RandomGenerator(seed: 3)
    let (m, k, n) = (7, 5, 6)
    let a = try Tensor.randn([m, k], using: &random), b = try Tensor.randn([k, n], using: &random)
    let expected = naiveMatmul(a.values, b.values, m: m, k: k, n: n)
    #expect(close(try Tensor.matmul(a, b).values, expected))
    // Transposed views enter BLAS with the transpose flag.
    let aT = try Tensor.randn([k, m], using: &random), bT = try Tensor.randn([n, k], using: &random)
    let viaViews = try Tensor.matmul(aT.swappingLastAxes(), bT.swappingLastAxes())
    #expect(close(viaViews.values, naiveMatmul(try aT.swappingLastAxes().copy().values, try bT.swappingLastAxes().copy().values, m: m, k: k, n: n)))
    // A strided (every other column) view is copied once.
    let wide = try Tensor.randn([m, 2 * k], using: &random)
    let strided = try wide.subscripted([.slice(start: nil, stop: nil, step: nil), .slice(start: nil, stop: nil, step: 2)])
    #expect(close(try Tensor.matmul(strided, b).values, naiveMatmul(try strided.copy().values, b.values, m: m, k: k, n: n)))
}

@Test func batchedMatmulBroadcasts() throws {
    var random = RandomGenerator(seed: 4)
    let a = try Tensor.randn([2, 1, 3, 4], using: &random), b = try Tensor.randn([5, 4, 2], using: &random)
    let c = try Tensor.matmul(a, b)
    #expect(c.shape == [2, 5, 3, 2])
    for i in 0..<2 { for j in 0..<5 {
        let ai = try a.subscripted([.single(i), .single(0)]).values, bj = try b.subscripted([.single(j)]).values
        #expect(close(try c.subscripted([.single(i), .single(j)]).values, naiveMatmul(ai, bj, m: 3, k: 4, n: 2)))
    } }
    // [batch, n, d] @ [d, m] folds the batch into one product.
    let x = try Tensor.randn([3, 4, 5], using: &random), w = try Tensor.randn([5, 2], using: &random)
    let y = try Tensor.matmul(x, w)
    #expect(close(try y.subscripted([.single(2)]).values, naiveMatmul(try x.subscripted([.single(2)]).values, w.values, m: 4, k: 5, n: 2)))
}

@Test func matmulVectorsAndErrors() throws {
    let A = try t([2, 2], [1, 2, 3, 4])
    #expect(try Tensor.matmul(A, t([2], [1, 1])).values == [3, 7])
    #expect(try Tensor.matmul(t([2], [1, 1]), A).values == [4, 6])
    #expect(try Tensor.matmul(t([2], [1, 2]), t([2], [3, 4])).shape == [])
    #expect(try Tensor.matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).values == [0, 0, 0, 0, 0, 0])
    do {
        _ = try Tensor.matmul(try Tensor.zeros([4, 8]), try Tensor.zeros([4, 8]))
        Issue.record("no error")
    } catch let error as TensorError {
        #expect(error.message == "shape mismatch in @: [4, 8] @ [4, 8] (inner sizes 8 and 4 differ)")
    }
    do {
        _ = try Tensor.matmul(try Tensor.zeros([2, 4, 8]), try Tensor.zeros([3, 8, 5]))
        Issue.record("no error")
    } catch let error as TensorError {
        #expect(error.message == "shape mismatch in @: [2, 4, 8] @ [3, 8, 5] (batch axes [2] and [3] cannot broadcast)")
    }
}

/// Large products are cut into tiles that check for Ctrl-C between them; small ones
/// stay one call.
@Test func productTilingPlans() {
    #expect(BLAS.Tiling.plan(m: 2048, n: 2048, k: 2048) == BLAS.Tiling(rows: 2048, cols: 2048, depth: 2048))
    // The inner size is cut first, in slices that add into C: no operand is packed again.
    #expect(BLAS.Tiling.plan(m: 8192, n: 8192, k: 8192) == BLAS.Tiling(rows: 8192, cols: 8192, depth: 512))
    #expect(BLAS.Tiling.plan(m: 4096, n: 4096, k: 4096) == BLAS.Tiling(rows: 4096, cols: 4096, depth: 2048))
    #expect(BLAS.Tiling.plan(m: 100_000, n: 64, k: 8192) == BLAS.Tiling(rows: 100_000, cols: 64, depth: 4096))
    #expect(BLAS.Tiling.plan(m: 1024, n: 1024, k: 1 << 20) == BLAS.Tiling(rows: 1024, cols: 1024, depth: 32768))
    // A short inner size leaves only C to cut, into blocks.
    #expect(BLAS.Tiling.plan(m: 65536, n: 65536, k: 64) == BLAS.Tiling(rows: 16384, cols: 32768, depth: 64))
}

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func tiledProductsMatchTheDefinition(transposeA: Bool, transposeB: Bool) throws {
    var random = RandomGenerator(seed: 5)
    let (m, k, n) = (13, 11, 9)
    // Stored as op(X) needs: [k, m] for a transposed A, [n, k] for a transposed B.
    let a = try Tensor.randn(transposeA ? [k, m] : [m, k], using: &random)
    let b = try Tensor.randn(transposeB ? [n, k] : [k, n], using: &random)
    let opA = transposeA ? try a.swappingLastAxes().copy() : a, opB = transposeB ? try b.swappingLastAxes().copy() : b
    let expected = naiveMatmul(opA.values, opB.values, m: m, k: k, n: n)
    for tiling in [BLAS.Tiling(rows: 4, cols: 3, depth: 2), BLAS.Tiling(rows: 5, cols: 100, depth: 4), BLAS.Tiling(rows: 13, cols: 9, depth: 11)] {
        let c = try Tensor.zeros([m, n])
        try BLAS.product(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a: a.storage.pointer, lda: transposeA ? m : k, b: b.storage.pointer, ldb: transposeB ? k : n,
                         c: c.storage.pointer, ldc: n, tiling: tiling, for: "a test product")
        #expect(close(c.values, expected), "\(tiling)")
        // accumulate adds the product to what C holds.
        try BLAS.product(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a: a.storage.pointer, lda: transposeA ? m : k, b: b.storage.pointer, ldb: transposeB ? k : n,
                         accumulate: true, c: c.storage.pointer, ldc: n, tiling: tiling, for: "a test product")
        #expect(close(c.values, expected.map { 2 * $0 }), "\(tiling)")
    }
}

@Test func theGeneratorIsPinned() throws {
    var random = RandomGenerator(seed: 0)
    // xoshiro256** seeded by SplitMix64(0): these values must never change.
    #expect(random.next() == 11091344671253066420)
    var normal = RandomGenerator(seed: 0)
    let x = try Tensor.randn([3], using: &normal).values
    #expect(close(x, [-0.0190, -1.3559, -0.4037], tolerance: 1e-4))
    var again = RandomGenerator(seed: 0)
    #expect(try Tensor.randn([3], using: &again).values == x)
    var big = RandomGenerator(seed: 1)
    let samples = try Tensor.randn([100_000], using: &big)
    #expect(abs(try samples.reduce(.mean).values[0]) < 0.01)
    #expect(abs(try samples.reduce(.standardDeviation(ddof: 0)).values[0] - 1) < 0.01)
    let uniform = try Tensor.rand([100_000], using: &big).values
    #expect(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
}

@Test func memoryLimitStopsHugeTensors() throws {
    // Past the element limit, and past the memory limit (three quarters of RAM), both
    // fail before allocating anything. (--max-memory is tested through the tx command.)
    #expect(throws: TensorError.self) { try Tensor.zeros([1_000_000, 1_000_000]) }
    #expect(throws: TensorError.self) { try Tensor.zeros([Memory.limit / 4 + 1]) }
    #expect(Memory.liveBytes < Memory.limit)
}

/// Operators on large contiguous tensors (and against a scalar) run on all threads, in
/// pieces; they must give exactly what the single-threaded strided path gives, element by
/// element, for every operator.
@Test func largeOperatorsOnAllThreadsMatchTheStridedPath() throws {
    var random = RandomGenerator(seed: 11)
    // 2^19 elements: past the 2^18 from which the elementwise work is shared out.
    let a = try Tensor.randn([1024, 512], using: &random), b = try Tensor.randn([1024, 512], using: &random)
    let aT = try a.swappingLastAxes().contiguous(), bT = try b.swappingLastAxes().contiguous()
    for op in [BinaryOp.add, .subtract, .multiply, .divide, .maximum, .greater] {
        let threaded = try Tensor.binary(op, a, b)
        let strided = try Tensor.binary(op, aT.swappingLastAxes(), bT.swappingLastAxes())
        #expect(threaded.values == strided.values, "\(op)")
        let withScalar = try Tensor.binary(op, a, scalar: 0.25), scalarFirst = try Tensor.binary(op, scalar: 0.25, b)
        #expect(withScalar.values == (try Tensor.binary(op, aT.swappingLastAxes(), scalar: 0.25)).values, "\(op)")
        #expect(scalarFirst.values == (try Tensor.binary(op, scalar: 0.25, bT.swappingLastAxes())).values, "\(op)")
    }
}

/// Operands for the broadcasting tests: normal values, small integers (so that `==`,
/// `//` and `%` meet ties and exact multiples) and the special values of every operator
/// (NaN, ±inf, ±0, and the exponents 2 and 0.5 that `^` treats on their own).
private func operand(_ shape: [Int], using random: inout RandomGenerator) throws -> Tensor {
    let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 0.5, 2, 1, -1, 3]
    var values = [Float](repeating: 0, count: shape.reduce(1, *))
    for i in values.indices {
        let u = random.uniform(), v = random.uniform()
        values[i] = u < 0.25 ? specials[Int(v * Double(specials.count))] : u < 0.5 ? Float(Int(v * 7) - 3) : Float((v - 0.5) * 8)
    }
    return try Tensor(shape: shape, values: values)
}

/// For each element of a tensor of `output` shape, the index into the row-major values
/// of an operand of `shape` broadcast to it (NumPy's rule, written out): the element's
/// index along each axis, 0 where the operand has size 1 there.
private func broadcastIndices(_ shape: [Int], to output: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: output.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: output.count), step = 1
    for axis in output.indices.reversed() {
        strides[axis] = padded[axis] == 1 ? 0 : step
        step *= padded[axis]
    }
    var indices = [Int](repeating: 0, count: output.reduce(1, *))
    indices.withUnsafeMutableBufferPointer { indices in
        for flat in indices.indices {
            var rest = flat, index = 0, axis = output.count - 1
            while axis >= 0 {
                index += rest % output[axis] * strides[axis]
                rest /= output[axis]
                axis -= 1
            }
            indices[flat] = index
        }
    }
    return indices
}

/// The first index at which `result` is not `expected(i)` (the same float, NaNs of any
/// payload alike), or nil. Loops over buffers: the tests are built without optimisation.
private func firstMismatch(_ result: Tensor, _ expected: (Int) -> Float) -> Int? {
    result.values.withUnsafeBufferPointer { got in
        for i in got.indices {
            let want = expected(i)
            if got[i].bitPattern != want.bitPattern && !(got[i].isNaN && want.isNaN) { return i }
        }
        return nil
    }
}

/// `x op y` by the operators' definitions. A power whose exponent is one number along
/// the rows (`exponentIsOneNumber`) of 2 is a product and one of 0.5 a square root, as
/// `x ^ 2` and `x ^ 0.5` are (powf(x, 2) is not always x * x).
private func reference(_ op: BinaryOp, _ x: Float, _ y: Float, exponentIsOneNumber: Bool) -> Float {
    switch op {
    case .add: return x + y
    case .subtract: return x - y
    case .multiply: return x * y
    case .divide: return x / y
    case .floorDivide: return (x / y).rounded(.down)
    case .power:
        if exponentIsOneNumber && y == 2 { return x * x }
        if exponentIsOneNumber && y == 0.5 { return x == -.infinity ? .infinity : x.squareRoot() + 0 }
        return powf(x, y)
    case .modulo:
        // The remainder takes the divisor's sign, as in NumPy.
        let r = fmodf(x, y)
        return r == 0 || (r < 0) == (y < 0) ? r : r + y
    case .maximum: return x.isNaN || y.isNaN ? .nan : (x > y ? x : y)
    case .minimum: return x.isNaN || y.isNaN ? .nan : (x < y ? x : y)
    case .equal: return x == y ? 1 : 0
    case .notEqual: return x != y ? 1 : 0
    case .less: return x < y ? 1 : 0
    case .lessEqual: return x <= y ? 1 : 0
    case .greater: return x > y ? 1 : 0
    case .greaterEqual: return x >= y ? 1 : 0
    }
}

/// Shapes that broadcast in every way: an operand without the leading axes, one of
/// size 1 along the last, the middle or every axis, both sides at once (a column
/// against a row), a padding mask against attention scores, and rows whose length does
/// not divide the threads' pieces. Each output has more than 2^18 elements, from which
/// the work is shared out among the threads.
private let broadcastPairs: [([Int], [Int])] = [
    ([513, 515], [515]), ([515], [513, 515]),
    ([513, 515], [513, 1]), ([513, 1], [513, 515]),
    ([9, 61, 515], [9, 1, 515]),
    ([513, 515], [1, 1]), ([513, 1], [1, 515]),
    ([4, 1, 1, 256], [4, 8, 33, 256]),
    ([87382, 3], [3]), ([262147, 1], [1]),
]

/// Binary operators and comparisons between tensors of different shapes run on all
/// threads for large outputs; every element must be what the definition gives.
@Test func broadcastOperatorsOnAllThreadsMatchTheDefinition() throws {
    var random = RandomGenerator(seed: 12)
    var pairs = try broadcastPairs.map { (try operand($0, using: &random), try operand($1, using: &random)) }
    // An operand that is a strided view (every other column), and one that is transposed.
    let wide = try operand([513, 1030], using: &random)
    pairs.append((Tensor(storage: wide.storage, shape: [513, 515], strides: [1030, 2], offset: 1),
                  try operand([515], using: &random)))
    pairs.append((try operand([515, 513], using: &random).swappingLastAxes(), try operand([513, 1], using: &random)))
    let all: [BinaryOp] = [.add, .subtract, .multiply, .divide, .floorDivide, .power, .modulo, .maximum, .minimum,
                           .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual]
    for (a, b) in pairs {
        let output = try #require(Tensor.broadcastShape(a.shape, b.shape))
        let ia = broadcastIndices(a.shape, to: output), ib = broadcastIndices(b.shape, to: output)
        let va = a.values, vb = b.values
        let exponentIsOneNumber = (b.shape.last ?? 1) == 1
        for op in all {
            let result = try Tensor.binary(op, a, b)
            let mismatch = firstMismatch(result) { i in
                reference(op, va[ia[i]], vb[ib[i]], exponentIsOneNumber: exponentIsOneNumber)
            }
            #expect(result.shape == output && mismatch == nil, "\(op) \(a.shape) \(b.shape) strides \(a.strides)")
        }
    }
}

/// `where` with a condition and two values of different shapes (a condition of NaN is
/// true, one of -0 false) on all threads: every element is the one the condition picks.
@Test func whereOnAllThreadsPicksEveryElementByItsCondition() throws {
    var random = RandomGenerator(seed: 13)
    let triples: [([Int], [Int], [Int])] = [
        ([513, 515], [515], [513, 1]), ([513, 1], [1, 515], [1, 1]), ([515], [513, 515], []),
        ([4, 1, 1, 256], [4, 8, 33, 256], [1]), ([9, 1, 515], [9, 61, 1], [61, 515]), ([262147, 1], [1], [262147, 1]),
    ]
    for (shapeC, shapeA, shapeB) in triples {
        let c = try operand(shapeC, using: &random), a = try operand(shapeA, using: &random)
        let b = try operand(shapeB, using: &random)
        let values = try #require(Tensor.broadcastShape(shapeA, shapeB))
        let output = try #require(Tensor.broadcastShape(shapeC, values))
        let ic = broadcastIndices(shapeC, to: output), ia = broadcastIndices(shapeA, to: output)
        let ib = broadcastIndices(shapeB, to: output)
        let vc = c.values, va = a.values, vb = b.values
        let result = try Tensor.select(c, a, b)
        let mismatch = firstMismatch(result) { i in vc[ic[i]] != 0 ? va[ia[i]] : vb[ib[i]] }
        #expect(result.shape == output && mismatch == nil, "\(shapeC) \(shapeA) \(shapeB)")
    }
}
