import Tensor
import Testing

@Test(arguments: [
    (3.0, "3"), (-2.0, "-2"), (0.0, "0"), (-0.0, "-0"), (2.5, "2.5"), (0.1, "0.1"), (1e-5, "1e-05"),
    (1.5e20, "1.5e+20"), (Double.infinity, "inf"), (-Double.infinity, "-inf"), (Double.nan, "nan"),
    (1125899906842624, "1125899906842624"),
])
func numbers(_ x: Double, _ text: String) {
    #expect(TensorFormatter.formatNumber(x) == text)
}

func shown(_ shape: [Int], _ values: [Float]) throws -> String {
    TensorFormatter.format(try Tensor(shape: shape, values: values))
}

@Test func integersDecimalsAndScientific() throws {
    #expect(try shown([3], [1, 2, 3]) == "tensor [3]\n[1, 2, 3]")
    #expect(try shown([2, 3], [1, -2.5, 3, 4, 5, 6]) == "tensor [2, 3]\n[[ 1.0, -2.5,  3.0],\n [ 4.0,  5.0,  6.0]]")
    #expect(try shown([2], [0.333333, 1]) == "tensor [2]\n[0.3333, 1.0000]")
    #expect(try shown([2], [1.5e-5, 2250]) == "tensor [2]\n[1.5000e-05, 2.2500e+03]")
    #expect(try shown([2], [1e9, 2e9]) == "tensor [2]\n[1000000000, 2000000000]")
    #expect(try shown([3], [.infinity, -.infinity, .nan]) == "tensor [3]\n[ inf, -inf,  nan]")
    #expect(try shown([3], [0.5, .nan, -.infinity]) == "tensor [3]\n[ 0.5,  nan, -inf]")
    #expect(try shown([], [2.5]) == "tensor(2.5)")
    #expect(try shown([], [1.1180340051651]) == "tensor(1.118)")
    #expect(try shown([0, 3], []) == "tensor [0, 3]\n[]")
}

@Test func higherRanksSeparateBlocks() throws {
    #expect(try shown([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]) == """
        tensor [2, 2, 2]
        [[[1, 2],
          [3, 4]],

         [[5, 6],
          [7, 8]]]
        """)
}

@Test func largeTensorsAreSummarised() throws {
    let long = try Tensor.arange(start: 0, stop: 2000, step: 1)
    #expect(TensorFormatter.format(long) == "tensor [2000]\n[   0,    1,    2, …, 1997, 1998, 1999]")
    let square = try Tensor.arange(start: 0, stop: 10_000, step: 1).reshaped([100, 100])
    #expect(TensorFormatter.format(square) == """
        tensor [100, 100]
        [[   0,    1,    2, …,   97,   98,   99],
         [ 100,  101,  102, …,  197,  198,  199],
         [ 200,  201,  202, …,  297,  298,  299],
         …,
         [9700, 9701, 9702, …, 9797, 9798, 9799],
         [9800, 9801, 9802, …, 9897, 9898, 9899],
         [9900, 9901, 9902, …, 9997, 9998, 9999]]
        """)
}

@Test func summarisingReadsOnlyTheElementsShown() throws {
    // 2^24 floats: printing reads 36 of them, through the view's strides.
    let big = try Tensor.zeros([1 << 12, 1 << 12])
    big.storage.pointer[(1 << 24) - 1] = 7
    #expect(TensorFormatter.format(try big.swappingLastAxes()).hasSuffix("[0, 0, 0, …, 0, 0, 7]]"))
}

@Test func longRowsWrap() throws {
    let row = try Tensor.arange(start: 0, stop: 30, step: 1).reshaped([1, 30])
    #expect(TensorFormatter.format(row) == """
        tensor [1, 30]
        [[ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
          19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]]
        """)
}

@Test func viewsPrintTheirOwnOrder() throws {
    let x = try Tensor.arange(start: 0, stop: 6, step: 1).reshaped([2, 3])
    #expect(TensorFormatter.format(try x.swappingLastAxes()) == "tensor [3, 2]\n[[0, 3],\n [1, 4],\n [2, 5]]")
    #expect(TensorFormatter.summary(x) == "tensor [2, 3]")
}
