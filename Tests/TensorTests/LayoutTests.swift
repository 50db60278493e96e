import Glibc
import Tensor
import Testing

// The kernels take different paths for different memory layouts: reductions along the
// last axis reduce contiguous segments, along other axes they accumulate whole rows;
// transposed views are copied in tiles. Every path must give the same numbers.

/// A [5, 37, 19] tensor with ties, NaN, infinities and an all -inf line in it.
func awkwardTensor() throws -> Tensor {
    var random = RandomGenerator(seed: 7)
    var values = try Tensor.randn([5, 37, 19], using: &random).values.map { ($0 * 4).rounded() / 4 }
    values[3] = .nan
    values[100] = .infinity
    values[200] = -.infinity
    values[37 * 19 + 5 * 19 + 4] = .nan
    for j in 0..<19 { values[2 * 37 * 19 + 11 * 19 + j] = -.infinity }
    for i in 0..<37 { values[3 * 37 * 19 + i * 19 + 6] = -.infinity }
    return try Tensor(shape: [5, 37, 19], values: values)
}

/// The same values with `axis` moved last and made contiguous: reducing along -1 then
/// takes the segment path.
func movedLast(_ x: Tensor, _ axis: Int) throws -> Tensor {
    var order = Array(0..<x.rank)
    order.remove(at: axis)
    return try x.permuted(order + [axis]).copy()
}

func sameOrNaN(_ a: [Float], _ b: [Float], tolerance: Float = 0) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in
        (x.isNaN && y.isNaN) || x == y || abs(x - y) <= tolerance * max(1, abs(y))
    }
}

@Test(arguments: [Reduction.sum, .mean, .max, .min, .argmax, .argmin, .variance(ddof: 0), .standardDeviation(ddof: 1), .logsumexp])
func reductionsAgreeAlongEveryAxis(_ reduction: Reduction) throws {
    let x = try awkwardTensor()
    let exact: Bool
    switch reduction {
    case .max, .min, .argmax, .argmin: exact = true
    default: exact = false
    }
    for axis in 0..<3 {
        let rows = try x.reduce(reduction, axes: [axis])
        let segments = try movedLast(x, axis).reduce(reduction, axes: [-1])
        #expect(rows.shape == segments.shape)
        #expect(sameOrNaN(rows.values, segments.values, tolerance: exact ? 0 : 1e-6), "\(reduction.name) along \(axis)")
        // A transposed view reduces to the same numbers as its contiguous copy.
        let view = try x.transposed(axis, 2)
        #expect(sameOrNaN(try view.reduce(reduction, axes: [2]).values, try view.copy().reduce(reduction, axes: [2]).values,
                          tolerance: exact ? 0 : 1e-6))
    }
}

@Test func argmaxTakesTheFirstMaximumOrTheFirstNaN() throws {
    let ties = try t([2, 40], (0..<80).map { Float($0 % 7 == 3 ? 5 : $0 % 5) })
    #expect(try ties.reduce(.argmax, axes: [1]).values == [3, 5])
    var withNaN = [Float](repeating: 1, count: 70)
    withNaN[33] = .nan
    withNaN[50] = .nan
    withNaN[10] = 9
    #expect(try t([70], withNaN).reduce(.argmax).values == [33])
    #expect(try t([70], withNaN).reduce(.argmin).values == [33])
    #expect(try t([70, 1], withNaN).reduce(.argmax, axes: [0]).values == [33])
    #expect(try t([70], withNaN).reduce(.max).values[0].isNaN)
}

@Test func softmaxDownColumnsFollowsTheRowRules() throws {
    // Columns: finite; all -inf (zeros); -inf with a NaN (NaN); +inf (NaN); -inf and finite.
    let columns: [[Float]] = [[1, 2, 3], [-.infinity, -.infinity, -.infinity], [-.infinity, .nan, -.infinity],
                              [0, .infinity, 1], [-.infinity, 0, 0]]
    let x = try t([5, 3], columns.flatMap { $0 }).swappingLastAxes().copy()
    let down = try x.softmax(axis: 0).swappingLastAxes().copy().values
    let along = try t([5, 3], columns.flatMap { $0 }).softmax(axis: -1).values
    #expect(sameOrNaN(down, along, tolerance: 1e-6))
    #expect(Array(down[3..<6]) == [0, 0, 0])
    #expect(down[6..<12].allSatisfy { $0.isNaN })
    #expect(down[12] == 0)
}

@Test func transposedCopiesMatchElementByElement() throws {
    var random = RandomGenerator(seed: 9)
    for (rows, columns) in [(1, 1), (1, 40), (40, 1), (16, 16), (17, 33), (64, 48), (100, 37)] {
        let x = try Tensor.randn([rows, columns], using: &random)
        let copied = try x.swappingLastAxes().copy().values
        let original = x.values
        #expect(copied.indices.allSatisfy { copied[$0] == original[($0 % rows) * columns + $0 / rows] }, "\(rows) x \(columns)")
    }
    // Permutations of three axes, and a strided view.
    let c = try Tensor.randn([3, 18, 20], using: &random)
    for order in [[2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]] {
        let view = try c.permuted(order)
        var expected: [Float] = []
        for i in 0..<view.shape[0] { for j in 0..<view.shape[1] { for k in 0..<view.shape[2] {
            var index = [0, 0, 0]
            index[order[0]] = i; index[order[1]] = j; index[order[2]] = k
            expected.append(c.storage.pointer[index[0] * 360 + index[1] * 20 + index[2]])
        } } }
        #expect(try view.copy().values == expected, "\(order)")
    }
    let every = try c.subscripted([.slice(start: nil, stop: nil, step: 2), .slice(start: 1, stop: nil, step: 3)])
    #expect(try Tensor.binary(.add, every.swappingLastAxes(), scalar: 0).values == every.swappingLastAxes().values)
}

@Test func elementwiseOperationsOnTransposedViews() throws {
    var random = RandomGenerator(seed: 10)
    let a = try Tensor.randn([33, 17], using: &random), b = try Tensor.randn([17, 33], using: &random)
    let aT = try a.swappingLastAxes(), bT = try b.swappingLastAxes()
    #expect(try Tensor.binary(.add, aT, b).values == (try Tensor.binary(.add, aT.copy(), b).values))
    #expect(try Tensor.binary(.multiply, aT, aT).values == (try Tensor.binary(.multiply, aT.copy(), aT.copy()).values))
    #expect(try Tensor.binary(.subtract, a, bT).values == (try Tensor.binary(.subtract, a, bT.copy()).values))
    #expect(try aT.map(.tanh).values == (try aT.copy().map(.tanh).values))
    let row = try Tensor.randn([1, 33], using: &random)
    #expect(try Tensor.select(Tensor.binary(.greater, aT, scalar: 0), aT, row).values
            == (try Tensor.select(Tensor.binary(.greater, aT.copy(), scalar: 0), aT.copy(), row).values))
}

@Test func whereBroadcastsNumbersRowsAndColumns() throws {
    let x = try t([2, 3], [1, -2, 3, -4, 5, -6])
    let positive = try Tensor.binary(.greater, x, scalar: 0)
    #expect(try Tensor.select(positive, x, Tensor(scalar: 0)).values == [1, 0, 3, 0, 5, 0])
    #expect(try Tensor.select(positive, Tensor(scalar: 1), Tensor(scalar: -1)).values == [1, -1, 1, -1, 1, -1])
    #expect(try Tensor.select(t([2, 1], [1, 0]), x, t([1, 3], [7, 8, 9])).values == [1, -2, 3, 7, 8, 9])
}

@Test func masksSelectAndAssignElementsAndRows() throws {
    let x = try Tensor.arange(start: -5, stop: 7, step: 1).reshaped([3, 4])
    let positive = try Tensor.binary(.greater, x, scalar: 0).markedAsMask()
    #expect(try x.subscripted([.mask(positive)]).values == [1, 2, 3, 4, 5, 6])
    let none = try Tensor.binary(.greater, x, scalar: 100).markedAsMask()
    #expect(try x.subscripted([.mask(none)]).shape == [0])
    let firstColumn = try Tensor.binary(.greater, x.subscripted([.slice(start: nil, stop: nil, step: nil), .single(0)]), scalar: -3)
    #expect(try x.subscripted([.mask(firstColumn.markedAsMask())]).values == [-1, 0, 1, 2, 3, 4, 5, 6])
    let y = try x.copy()
    try y.assign([.mask(positive)], scalar: 0)
    #expect(y.values == [-5, -4, -3, -2, -1, 0, 0, 0, 0, 0, 0, 0])
    let z = try x.copy()
    try z.assign([.mask(positive)], t([6], [10, 20, 30, 40, 50, 60]))
    #expect(z.values == [-5, -4, -3, -2, -1, 0, 10, 20, 30, 40, 50, 60])
    let w = try x.copy()
    try w.assign([.mask(firstColumn.markedAsMask())], t([4], [9, 8, 7, 6]))
    #expect(w.values == [-5, -4, -3, -2, 9, 8, 7, 6, 9, 8, 7, 6])
    // Through a transposed view, into the shared storage.
    let v = try x.copy()
    let vT = try v.swappingLastAxes()
    try vT.assign([.mask(Tensor.binary(.less, vT, scalar: 0).markedAsMask())], scalar: 0)
    #expect(v.values == [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6])
}

@Test func gatherAlongEveryAxis() throws {
    let x = try Tensor.arange(start: 0, stop: 24, step: 1).reshaped([2, 3, 4])
    let ids = try t([2], [2, 0])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: nil), .gather(ids)]).values
            == [8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: nil), .slice(start: nil, stop: nil, step: nil), .gather(ids)]).values
            == [2, 0, 6, 4, 10, 8, 14, 12, 18, 16, 22, 20])
    #expect(try x.swappingLastAxes().subscripted([.single(1), .gather(ids)]).values == [14, 18, 22, 12, 16, 20])
}

@Test func stackAlongTheLastAxisInterleaves() throws {
    let a = try t([2, 2], [1, 2, 3, 4]), b = try t([2, 2], [5, 6, 7, 8])
    #expect(try Tensor.stack([a, b], axis: -1).values == [1, 5, 2, 6, 3, 7, 4, 8])
    #expect(try Tensor.concat([a, b], axis: -1).values == [1, 2, 5, 6, 3, 4, 7, 8])
}

@Test func unaryFunctionsKeepTheirAccuracy() throws {
    // Against double-precision references, over a grid that crosses every branch.
    let grid = (0...4000).map { Float($0 - 2000) / 200 }
    let x = try t([grid.count], grid)
    func ulps(_ got: Float, _ want: Double) -> Double {
        abs(Double(got) - want) / Double(Float(want).ulp)
    }
    let tanh = try x.map(.tanh).values, gelu = try x.map(.gelu).values, sigmoid = try x.map(.sigmoid).values
    for (i, v) in grid.enumerated() {
        let d = Double(v)
        #expect(ulps(tanh[i], Glibc.tanh(d)) <= 2, "tanh(\(v))")
        #expect(ulps(sigmoid[i], 1 / (1 + Glibc.exp(-d))) <= 3, "sigmoid(\(v))")
        let g = 0.5 * d * (1 + erf(d / 2.0.squareRoot()))
        #expect(abs(Double(gelu[i]) - g) <= 2e-7 * max(abs(d), 1), "gelu(\(v))")
    }
    #expect(try t([3], [-0.0, .nan, -.infinity]).map(.tanh).values.map { $0.sign == .minus || $0.isNaN } == [true, true, true])
    // log over many binades, subnormals included, and its special values.
    let positive = (0..<3000).map { Float(pow(1.05, Double($0 - 2100))) }.filter { $0 > 0 }
    let log = try t([positive.count], positive).map(.log).values
    for (i, v) in positive.enumerated() { #expect(ulps(log[i], Glibc.log(Double(v))) <= 0.51, "log(\(v))") }
    let special = try t([5], [0, -1, .infinity, 1, .nan]).map(.log).values
    #expect(special[0] == -.infinity && special[1].isNaN && special[2] == .infinity && special[3] == 0 && special[4].isNaN)
}
