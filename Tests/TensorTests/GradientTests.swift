import Glibc
import Tensor
import Testing

/// The derivative rules of the tensor primitives (Sources/Tensor/Autograd), each held
/// to central differences along a random direction (`GradientCheck`), and the tape's
/// own behaviour: exact values, ties, accumulation, in-place writes, threads, nesting.
/// (Ctrl-C in a backward pass is a terminal test in CLITests: the flag is the process's.)

private func randn(_ shape: [Int], seed: UInt64) throws -> Tensor {
    var random = RandomGenerator(seed: seed)
    return try Tensor.randn(shape, using: &random)
}

/// Positive values, for log, sqrt, powers and divisors.
private func positive(_ shape: [Int], seed: UInt64) throws -> Tensor {
    try Tensor.binary(.add, randn(shape, seed: seed).map(.abs), scalar: 0.5)
}

private func expectAgrees(_ inputs: [Tensor], _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Tensor]) throws -> Tensor) throws {
    let error = try GradientCheck.relativeError(inputs, f)
    #expect(error < 1e-2, "\(what): relative error \(error)", sourceLocation: sourceLocation)
}

/// The gradient of sum(f(x)) with respect to x.
private func gradient(_ x: Tensor, _ f: (Tensor) throws -> Tensor) throws -> Tensor {
    try GradientCheck.gradient(x, f)
}

@Test func polynomialGradientIsExact() throws {
    let g = try gradient(Tensor(scalar: 3)) { x in
        try Tensor.binary(.subtract, Tensor.binary(.power, x, scalar: 3), Tensor.binary(.multiply, x, scalar: 2))
    }
    #expect(g.values == [25])
}

@Test(arguments: [BinaryOp.add, .subtract, .multiply, .divide, .power, .maximum, .minimum, .modulo])
func binaryRulesAgreeWithFiniteDifferences(_ op: BinaryOp) throws {
    let a = try positive([3, 4], seed: 1)
    for (shape, seed) in [([3, 4], UInt64(2)), ([4], 3), ([3, 1], 4), ([], 5)] {
        let b = op == .modulo ? try Tensor.binary(.add, positive(shape, seed: seed), scalar: 2) : try positive(shape, seed: seed)
        try expectAgrees([a, b], "\(op) with b \(shape)") { try Tensor.binary(op, $0[0], $0[1]) }
        // (b mod a jumps wherever b / a crosses an integer: checked one way only, with a < b.)
        if op != .modulo {
            try expectAgrees([b, a], "\(op) with a \(shape)") { try Tensor.binary(op, $0[0], $0[1]) }
        }
    }
    try expectAgrees([a], "\(op) with a number") { try Tensor.binary(op, $0[0], scalar: 1.7) }
    if op != .modulo {
        try expectAgrees([a], "number \(op) tensor") { try Tensor.binary(op, scalar: 1.7, $0[0]) }
    }
}

@Test(arguments: [UnaryOp.negate, .exp, .log, .sqrt, .abs, .tanh, .sin, .cos, .sigmoid, .relu, .gelu])
func elementwiseRulesAgreeWithFiniteDifferences(_ op: UnaryOp) throws {
    let x = op == .log || op == .sqrt ? try positive([4, 5], seed: 7) : try randn([4, 5], seed: 7)
    try expectAgrees([x], "\(op)") { try $0[0].map(op) }
}

@Test func piecewiseConstantFunctionsHaveGradientZero() throws {
    for op in [UnaryOp.floor, .ceil, .round] {
        #expect(try gradient(Tensor(shape: [2], values: [1.5, -2.2])) { try $0.map(op) }.values == [0, 0])
    }
    #expect(try gradient(Tensor(shape: [2], values: [3, 5])) { try Tensor.binary(.floorDivide, $0, scalar: 2) }.values == [0, 0])
}

@Test(arguments: [Reduction.sum, .mean, .max, .min, .logsumexp, .variance(ddof: 0), .variance(ddof: 1),
                  .standardDeviation(ddof: 0), .standardDeviation(ddof: 1)])
func reductionRulesAgreeWithFiniteDifferences(_ reduction: Reduction) throws {
    let x = try randn([3, 4, 5], seed: 11)
    for axes in [nil, [1], [0, 2], [-1]] as [[Int]?] {
        for keepdims in [false, true] {
            try expectAgrees([x], "\(reduction.name) axes \(String(describing: axes)) keepdims \(keepdims)") {
                try $0[0].reduce(reduction, axes: axes, keepdims: keepdims)
            }
        }
    }
}

@Test func tiesFollowPyTorch() throws {
    #expect(try gradient(Tensor(shape: [3], values: [1, 3, 3])) { try $0.reduce(.max) }.values == [0, 0.5, 0.5])
    #expect(try gradient(Tensor(shape: [3], values: [2, 2, 3])) { try $0.reduce(.min) }.values == [0.5, 0.5, 0])
    #expect(try gradient(Tensor(shape: [3], values: [1, 2, 3])) { try Tensor.binary(.maximum, $0, scalar: 2) }.values == [0, 0.5, 1])
    #expect(try gradient(Tensor(shape: [3], values: [1, 2, 3])) { try Tensor.binary(.minimum, $0, scalar: 2) }.values == [1, 0.5, 0])
    #expect(try gradient(Tensor(shape: [3], values: [-1, 0, 2])) { try $0.map(.relu) }.values == [0, 0, 1])
    #expect(try gradient(Tensor(shape: [3], values: [-1, 0, 2])) { try $0.map(.abs) }.values == [-1, 0, 1])
    #expect(try gradient(Tensor(shape: [2], values: [0, 0])) { try $0.norm() }.values == [0, 0])
    #expect(try gradient(Tensor(shape: [2], values: [1, 1])) { try $0.reduce(.standardDeviation(ddof: 0)) }.values == [0, 0])
    #expect(try gradient(Tensor(shape: [1], values: [0])) { try Tensor.binary(.power, $0, scalar: 0) }.values == [0])
}

@Test func emptyAndZeroDimensionalTensorsHaveGradients() throws {
    #expect(try gradient(Tensor(scalar: 1)) { try $0.softmax() }.values == [0])
    #expect(try gradient(Tensor.zeros([0, 3])) { try $0.softmax(axis: 0) }.shape == [0, 3])
    #expect(try gradient(Tensor.zeros([2, 0])) { try $0.reduce(.sum, axes: [1]) }.shape == [2, 0])
    #expect(try gradient(Tensor.zeros([0])) { try Tensor.matmul($0, $0) }.shape == [0])
}

@Test func normSoftmaxAndLogSoftmaxAgreeWithFiniteDifferences() throws {
    let x = try randn([3, 5], seed: 13)
    try expectAgrees([x], "norm") { try $0[0].norm() }
    try expectAgrees([x], "norm along an axis") { try $0[0].norm(axes: [1], keepdims: true) }
    for axis in [0, -1] {
        try expectAgrees([x], "softmax \(axis)") { try $0[0].softmax(axis: axis) }
        try expectAgrees([x], "logSoftmax \(axis)") { try $0[0].logSoftmax(axis: axis) }
    }
}

@Test func matmulRulesAgreeWithFiniteDifferences() throws {
    let cases: [([Int], [Int])] = [([3, 4], [4, 5]), ([2, 3, 4], [4, 5]), ([3, 4], [2, 4, 5]), ([2, 1, 3, 4], [5, 4, 2]),
                                   ([4], [4, 5]), ([3, 4], [4]), ([4], [4]), ([2, 3, 4], [2, 4, 1])]
    for (i, (sa, sb)) in cases.enumerated() {
        let a = try randn(sa, seed: UInt64(20 + i)), b = try randn(sb, seed: UInt64(40 + i))
        try expectAgrees([a, b], "\(sa) @ \(sb)") { try Tensor.matmul($0[0], $0[1]) }
    }
    // Transposed views on either side.
    let a = try randn([5, 3], seed: 60), b = try randn([4, 5], seed: 61)
    try expectAgrees([a, b], "a' @ b'") { try Tensor.matmul($0[0].swappingLastAxes(), $0[1].swappingLastAxes()) }
}

@Test func shapeRulesAgreeWithFiniteDifferences() throws {
    let x = try randn([2, 3, 4], seed: 70)
    try expectAgrees([x], "reshape") { try $0[0].reshaped([4, -1]) }
    try expectAgrees([x], "permute") { try $0[0].permuted([2, 0, 1]) }
    try expectAgrees([x], "transpose") { try $0[0].transposed(0, 2) }
    try expectAgrees([x], "x'") { try $0[0].swappingLastAxes() }
    try expectAgrees([x], "reshape of a transposed view") { try $0[0].swappingLastAxes().reshaped([-1]) }
    try expectAgrees([x], "unsqueeze and squeeze") { try $0[0].unsqueezed(axis: 1).squeezed(axis: 1).unsqueezed(axis: -1) }
    try expectAgrees([x], "squeeze all") { try $0[0].unsqueezed(axis: 0).squeezed() }
    try expectAgrees([x], "broadcast") { try $0[0].reshaped([2, 1, 3, 4]).broadcast(to: [2, 5, 3, 4]) }
    try expectAgrees([x], "contiguous copy of a view") { try $0[0].permuted([1, 0, 2]).contiguous() }
    try expectAgrees([x], "copy") { try $0[0].copy() }
    try expectAgrees([x], "split") { x in
        let parts = try x[0].split(2, axis: 2)
        return try Tensor.binary(.multiply, parts[0], parts[1].map(.exp))
    }
    let y = try randn([2, 5, 4], seed: 71)
    try expectAgrees([x, y], "concat") { try Tensor.concat([$0[0], $0[1], $0[0]], axis: 1) }
    try expectAgrees([x, x], "stack") { try Tensor.stack([$0[0], $0[1]], axis: 2) }
    let m = try randn([3, 5, 5], seed: 72)
    try expectAgrees([m], "tril") { try $0[0].tril(k: -1) }
    try expectAgrees([m], "triu") { try $0[0].triu(k: 1) }
}

@Test func orderingRulesAgreeWithFiniteDifferences() throws {
    let x = try randn([3, 4, 5], seed: 90)
    for axis in [0, 1, -1] {
        try expectAgrees([x], "cumsum along \(axis)") { try $0[0].cumsum(axis: axis) }
        let order = try x.argsorted(axis: axis, descending: axis == 1)
        try expectAgrees([x], "sort along \(axis)") { try $0[0].permuted(along: axis, by: order) }
    }
    try expectAgrees([x], "flip") { try $0[0].flipped(axes: [0, 2]) }
    let y = try randn([5, 4, 2], seed: 91)
    try expectAgrees([x, y], "einsum with a batch letter") { try Tensor.einsum("bij,jbk->kbi", [$0[0].permuted([1, 0, 2]), $0[1]]) }
    try expectAgrees([x], "einsum of one operand") { try Tensor.einsum("ijk->ki", [$0[0]]) }
    let d = try randn([3, 4, 4], seed: 92)
    try expectAgrees([d], "einsum's diagonal") { try Tensor.einsum("bii->ib", [$0[0]]) }
    try expectAgrees([x, y, d], "einsum of three operands with a diagonal") { try Tensor.einsum("bij,jck,bcc->bik", [$0[0], $0[1], $0[2]]) }
    try expectAgrees([x, d], "einsum with '...' broadcast") { try Tensor.einsum("...ji,...jk->...ik", [$0[0], $0[1].reshaped([3, 1, 4, 4])]) }
    try expectAgrees([x], "clip") { try $0[0].clipped(lo: -0.5, hi: nil) }
    // clip at its bounds passes 1 (PyTorch's clamp), outside them 0.
    let g = try gradient(Tensor(shape: [5], values: [-1, 0, 0.5, 1, 2])) { try $0.clipped(lo: 0, hi: 1) }
    #expect(g.values == [0, 1, 1, 1, 0])
    // The reverse running sum.
    #expect(try gradient(Tensor.zeros([4])) { try $0.cumsum(axis: 0) }.values == [4, 3, 2, 1])
}

@Test func indexingRulesAgreeWithFiniteDifferences() throws {
    let x = try randn([5, 4], seed: 80)
    let ids = try Tensor(shape: [2, 3], values: [1, 1, 4, 0, 1, 3])
    try expectAgrees([x], "slices") { try $0[0].subscripted([.slice(start: 1, stop: nil, step: 2), .single(-1)]) }
    try expectAgrees([x], "new axis") { try $0[0].subscripted([.newAxis, .slice(start: nil, stop: nil, step: -1)]) }
    try expectAgrees([x], "gather rows") { try $0[0].subscripted([.gather(ids)]) }
    let columns = try Tensor(shape: [2, 2], values: [3, 0, 3, -1])
    try expectAgrees([x], "gather columns") { try $0[0].subscripted([.slice(start: nil, stop: nil, step: nil), .gather(columns)]) }
    let mask = try Tensor.binary(.greater, x, scalar: 0)
    try expectAgrees([x], "mask") { try $0[0].subscripted([.mask(mask)]) }
    let rows = try Tensor(shape: [5], values: [1, 0, 1, 1, 0])
    try expectAgrees([x], "row mask") { try $0[0].subscripted([.mask(rows)]) }
    // Repeated ids add up: E[[1, 1, 3]].
    let g = try gradient(Tensor.zeros([4, 2])) { try $0.subscripted([.gather(Tensor(shape: [3], values: [1, 1, 3]))]) }
    #expect(g.values == [0, 0, 2, 2, 0, 0, 1, 1])
}

@Test func whereRuleAgreesWithFiniteDifferences() throws {
    let a = try randn([3, 4], seed: 90), b = try randn([4], seed: 91)
    let condition = try Tensor.binary(.greater, randn([3, 4], seed: 92), scalar: 0)
    try expectAgrees([a, b], "where") { try Tensor.select(condition, $0[0], $0[1]) }
}

@Test func gradientsAccumulateOverEveryUse() throws {
    // x used three times: d/dx (x * x + x) = 2x + 1.
    let g = try gradient(Tensor(shape: [2], values: [1, 2])) { x in
        try Tensor.binary(.add, Tensor.binary(.multiply, x, x), x)
    }
    #expect(g.values == [3, 5])
}

@Test func untrackedTensorsRecordNothing() throws {
    let tape = Tape()
    let x = try randn([3], seed: 1)
    _ = try tape.activate { try Tensor.binary(.add, x, x).map(.exp).reduce(.sum) }
    #expect(tape.count == 0)
    #expect(Tape.active == nil)
    let leaf = try x.copy()
    tape.watch(leaf)
    let y = try tape.activate { try Tensor.binary(.add, leaf, x).map(.exp).reduce(.sum) }
    #expect(tape.count == 3)
    // Comparisons record nothing.
    _ = try tape.activate { try Tensor.binary(.greater, leaf, x) }
    #expect(tape.count == 3)
    #expect(tape.tracks(y))
}

@Test func writingIntoWhatTheGradientNeedsThrows() throws {
    let tape = Tape()
    let leaf = try randn([3], seed: 2)
    tape.watch(leaf)
    // exp's rule reads its result, so the result may not change.
    expectFailure(.value, "value error: x[...] = ... writes into a tensor that the gradient still needs; write into a copy") {
        try tape.activate {
            let y = try leaf.map(.exp)
            try y.assign([.single(0)], scalar: 5)
            return y
        }
    }
    // Nor may the leaf, which every rule reading its input reads.
    expectFailure(.value, "value error: x[...] = ... writes into a tensor that the gradient still needs; write into a copy") {
        try tape.activate {
            let y = try Tensor.binary(.multiply, leaf, leaf)
            try leaf.assign([.single(0)], scalar: 5)
            return y
        }
    }
    // A fresh tensor may be written, and the write is differentiated.
    let g = try tape.activate {
        let y = try Tensor.zeros([3])
        try y.assign([.slice(start: 0, stop: 2, step: nil)], leaf.subscripted([.slice(start: 1, stop: nil, step: nil)]))
        try y.assign([.single(1)], scalar: 7)
        let weights = try Tensor(shape: [3], values: [1, 2, 3])
        let loss = try Tensor.binary(.multiply, y, weights).reduce(.sum)
        return try Tape.gradient(leaf, in: tape.backward(from: loss))
    }
    #expect(g.values == [0, 1, 0])
}

@Test func tapesOnParallelThreadsDoNotMeet() async throws {
    try await withThrowingTaskGroup(of: [Float].self) { group in
        for k in 0..<8 {
            group.addTask {
                try gradient(Tensor(shape: [2], values: [Float(k), 1])) { x in
                    try Tensor.binary(.multiply, x, x)
                }.values
            }
        }
        var results: [[Float]] = []
        for try await values in group { results.append(values) }
        #expect(results.count == 8)
        #expect(Set(results.map { $0[0] }) == Set((0..<8).map { Float(2 * $0) }))
    }
}

// MARK: Gradients of gradients

/// The gradient of sum(f(x)) from a tape of its own: inside another tape's recording,
/// that tape records the backward pass, so the result is differentiated in turn.
private func innerGradient(_ x: Tensor, _ f: (Tensor) throws -> Tensor) throws -> Tensor {
    try GradientCheck.gradient(x, f)
}

@Test func secondDerivativeIsExact() throws {
    // d2/dx2 x^4 = 12 x^2 at 1; d3/dx3 = 24 x.
    let outer = Tape()
    let x = try Tensor(scalar: 1)
    outer.watch(x)
    let second = try outer.activate { try innerGradient(x) { try innerGradient($0) { try Tensor.binary(.power, $0, scalar: 4) } } }
    #expect(second.values == [12])
    #expect(try Tape.gradient(x, in: outer.backward(from: second)).values == [24])
}

@Test func theRulesAreThemselvesDifferentiable() throws {
    let x = try randn([3, 4], seed: 100), p = try positive([3, 4], seed: 101), w = try randn([4, 2], seed: 102)
    var cases: [(String, Tensor, (Tensor) throws -> Tensor)] = []
    for op in [UnaryOp.exp, .log, .sqrt, .tanh, .sin, .cos, .sigmoid, .gelu, .negate] {
        cases.append(("\(op)", op == .log || op == .sqrt ? p : x, { try $0.map(op).map(.tanh) }))
    }
    for op in [BinaryOp.multiply, .divide, .power, .maximum, .subtract] {
        cases.append(("\(op)", p, { try Tensor.binary(op, $0, Tensor.binary(.add, $0.reduce(.mean, axes: [0]), scalar: 0.3)).map(.sin) }))
    }
    for reduction in [Reduction.max, .logsumexp, .variance(ddof: 1), .standardDeviation(ddof: 0), .mean] {
        cases.append((reduction.name, x, { try Tensor.binary(.multiply, $0.reduce(reduction, axes: [1], keepdims: true), $0).map(.tanh) }))
    }
    cases.append(("softmax", x, { try Tensor.binary(.multiply, $0.softmax(axis: 0), $0) }))
    cases.append(("norm", x, { try Tensor.binary(.power, $0.norm(axes: [1]), scalar: 3) }))
    cases.append(("matmul", x, { try Tensor.matmul($0, w).map(.tanh) }))
    cases.append(("gather", x, { try Tensor.binary(.power, $0.subscripted([.gather(Tensor(shape: [3], values: [2, 0, 2]))]), scalar: 3) }))
    cases.append(("slice and concat", x, { try Tensor.concat([$0.subscripted([.slice(start: 1, stop: nil, step: nil)]), $0], axis: 0).map(.exp) }))
    cases.append(("where", x, { try Tensor.select(Tensor.binary(.greater, x, scalar: 0), $0.map(.exp), $0.map(.sin)) }))
    cases.append(("cumsum", x, { try $0.cumsum(axis: 1).map(.tanh) }))
    let order = try x.argsorted(axis: 0, descending: false)
    cases.append(("sort", x, { try Tensor.binary(.multiply, $0.permuted(along: 0, by: order), $0).map(.sin) }))
    cases.append(("clip", x, { try Tensor.binary(.multiply, $0.clipped(lo: -0.5, hi: 0.7), $0).map(.sin) }))
    for (name, input, f) in cases {
        try expectAgrees([input], "second derivative of \(name)") { try innerGradient($0[0], f) }
    }
}
