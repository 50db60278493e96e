import Tensor
import Testing

/// The kind and message of the TensorError that `body` throws (nil when it returns).
func failure(_ body: () throws -> Any) -> (kind: TensorError.Kind, message: String)? {
    do {
        _ = try body()
        return nil
    } catch let error as TensorError {
        return (error.kind, error.message)
    } catch {
        return (.value, "not a TensorError: \(error)")
    }
}

func expectFailure(_ kind: TensorError.Kind, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Any) {
    let got = failure(body)
    #expect(got?.kind == kind, sourceLocation: sourceLocation)
    #expect(got?.message == message, sourceLocation: sourceLocation)
}

let p26 = 1 << 26, p31 = 1 << 31, p32 = 1 << 32, p40 = 1 << 40, p52 = 1 << 52, p53 = 1 << 53

// MARK: A1: one shape rule, so that strides and counts cannot overflow

@Test func zeroElementShapesWhoseOtherSizesOverflowAreErrors() throws {
    expectFailure(.value, "value error: a tensor of shape [0, 1099511627776, 1099511627776] is too large (its sizes other than 0 multiply to more than 2^53)") {
        try Tensor.zeros([0, p40, p40])
    }
    expectFailure(.value, "value error: a tensor of shape [0, 67108864, 67108864, 67108864] is too large (its sizes other than 0 multiply to more than 2^53)") {
        try Tensor.zeros([0, p26, p26, p26])
    }
    expectFailure(.value, "value error: a tensor of shape [4503599627370496, 0, 4] is too large (its sizes other than 0 multiply to more than 2^53)") {
        try Tensor.zeros([p52, 0, 4])
    }
    // Tensors with elements keep the memory-limit message.
    expectFailure(.memory, "memory limit: a tensor of shape [1073741824, 1073741824, 1073741824] is too large") {
        try Tensor.zeros([1 << 30, 1 << 30, 1 << 30])
    }
    expectFailure(.value, "negative size -1 in shape [1099511627776, 1099511627776, -1]") { try Tensor.zeros([p40, p40, -1]) }
    // Up to 2^53 a shape without elements is fine, whichever axis is 0.
    let wide = try Tensor.zeros([0, p53])
    #expect(wide.count == 0 && wide.strides == [p53, 1])
    #expect(try Tensor.zeros([p53, 0]).strides == [1, 1])
    #expect(try Tensor.zeros([1_000_000_000_000_000, 0]).count == 0)
    #expect(try Tensor.zeros([0, 1_000_000_000_000_000]).count == 0)
    #expect(try Tensor.checkShape([0, p26, p26]) == p52)
}

@Test func reshapeChecksItsSizesBeforeMultiplying() throws {
    let empty = try Tensor.zeros([0])
    expectFailure(.value, "value error: reshape: a tensor of shape [4294967296, 4294967296, -1] is too large (its sizes other than -1 multiply to more than 2^53)") {
        try empty.reshaped([p32, p32, -1])
    }
    expectFailure(.value, "value error: reshape: a tensor of shape [-1, 1099511627776, 1099511627776] is too large (its sizes other than -1 multiply to more than 2^53)") {
        try empty.reshaped([-1, p40, p40])
    }
    expectFailure(.value, "value error: reshape: a tensor of shape [0, 1099511627776, 1099511627776] is too large (its sizes other than 0 multiply to more than 2^53)") {
        try empty.reshaped([0, p40, p40])
    }
    expectFailure(.value, "value error: reshape: a tensor of shape [1099511627776, 1099511627776] is too large (its sizes multiply to more than 2^53)") {
        try Tensor.zeros([4]).reshaped([p40, p40])
    }
    #expect(try empty.reshaped([p40, -1]).shape == [p40, 0])
    #expect(try empty.reshaped([p26, 0, p26]).strides == [p26, p26, 1])
    expectFailure(.shape, "shape mismatch in reshape: cannot reshape [0] (0 elements) to [0, -1]") { try empty.reshaped([0, -1]) }
    expectFailure(.shape, "shape mismatch in reshape: cannot reshape [4] (4 elements) to [3, 2] (6 elements)") {
        try Tensor.zeros([4]).reshaped([3, 2])
    }
}

@Test func broadcastResultsFollowTheShapeRule() throws {
    let x = try Tensor.zeros([0, p52])
    let message = "value error: a tensor of shape [0, 4503599627370496, 4503599627370496] is too large (its sizes other than 0 multiply to more than 2^53)"
    expectFailure(.value, message) { try Tensor.binary(.add, try x.unsqueezed(axis: 1), try Tensor.zeros([0, p52, 1])) }
    expectFailure(.value, message) { try Tensor.select(try Tensor.zeros([0, 1, p52]), try Tensor.zeros([0, p52, 1]), try Tensor(scalar: 0)) }
    expectFailure(.value, message) { try x.unsqueezed(axis: 1).broadcast(to: [0, p52, p52]) }
    // Broadcast views need no memory: the memory limit does not apply to them.
    #expect(try Tensor.full(7, [1]).broadcast(to: [p40]).strides == [0])
    #expect(try Tensor.binary(.add, try x.unsqueezed(axis: 1), try Tensor.zeros([0, 1, 1])).shape == [0, 1, p52])
}

@Test func matmulResultsFollowTheShapeRule() throws {
    expectFailure(.value, "value error: a tensor of shape [0, 2147483648, 1099511627776] is too large (its sizes other than 0 multiply to more than 2^53)") {
        try Tensor.matmul(try Tensor.zeros([0, p31, 1]), try Tensor.zeros([0, 1, p40]))
    }
    #expect(try Tensor.matmul(try Tensor.zeros([0, p31, 1]), try Tensor.zeros([0, 1, 1 << 20])).shape == [0, p31, 1 << 20])
}

@Test func concatSizesAreCheckedAndEmptyResultsAreImmediate() throws {
    let y = try Tensor.concat([try Tensor.zeros([0, p52]), try Tensor.zeros([0, p52])], axis: 1)
    #expect(y.shape == [0, p53])
    expectFailure(.value, "value error: concat: the result is too large (its size along axis 1 exceeds 2^53)") {
        try Tensor.concat([y, y], axis: 1)
    }
    #expect(try Tensor.stack([try Tensor.zeros([0, p52]), try Tensor.zeros([0, p52])], axis: 0).shape == [2, 0, p52])
    expectFailure(.value, "value error: a tensor of shape [2, 0, 9007199254740992] is too large (its sizes other than 0 multiply to more than 2^53)") {
        try Tensor.stack([try Tensor.zeros([0, p53]), try Tensor.zeros([0, p53])], axis: 0)
    }
    // 2^50 rows of nothing: no loop over the rows.
    let tall = try Tensor.zeros([1 << 50, 0])
    #expect(try Tensor.concat([tall, tall], axis: 1).shape == [1 << 50, 0])
    #expect(try Tensor.zeros([1 << 50, 3, 0]).subscripted([.slice(start: nil, stop: nil, step: nil), .gather(t([2], [0, 1]))]).shape == [1 << 50, 2, 0])
}

@Test func loadersRejectShapesThatBreakTheRule() throws {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1099511627776, 1099511627776), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
    #expect(ioMessage { try NPY.decode(npy) } == "io error: the header's shape [0, 1099511627776, 1099511627776] is invalid or too large")
    let json = Array(#"{"a": {"dtype": "F32", "shape": [0, 1099511627776, 1099511627776], "data_offsets": [0, 0]}}"#.utf8)
    let safetensors = (0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) } + json
    #expect(ioMessage { try SafeTensors.decode(safetensors) } == "io error: tensor 'a': shape [0, 1099511627776, 1099511627776] is too large")
    // Within the rule an empty tensor loads.
    let ok = Array(#"{"a": {"dtype": "F32", "shape": [0, 1099511627776], "data_offsets": [0, 0]}}"#.utf8)
    #expect(try SafeTensors.decode((0..<8).map { UInt8((ok.count >> (8 * $0)) & 0xFF) } + ok)[0].tensor.shape == [0, p40])
}

@Test func gatherIndicesOfAnyMagnitudeAreIndexErrors() throws {
    let x = try Tensor.arange(start: 0, stop: 3, step: 1)
    expectFailure(.index, "index error: index 1e+30 is out of range for axis 0 of size 3") { try x.subscripted([.gather(t([1], [1e30]))]) }
    expectFailure(.index, "index error: index -1e+30 is out of range for axis 0 of size 3") { try x.subscripted([.gather(t([1], [-1e30]))]) }
}

// MARK: A2: split

@Test func splitIntoTooManyPartsIsAnError() throws {
    expectFailure(.value, "value error: split: 1000000000000 parts are too many (at most 2^20 = 1048576)") {
        try Tensor.zeros([3, 0]).split(1_000_000_000_000, axis: 1)
    }
    expectFailure(.value, "value error: split: 549755813888 parts are too many (at most 2^20 = 1048576)") {
        try Tensor.zeros([0, p40]).split(1 << 39, axis: -1)
    }
    expectFailure(.value, "value error: split: axis 0 has size 3, which does not divide into 6 equal parts") {
        try Tensor.zeros([3]).split(6, axis: 0)
    }
    #expect(try Tensor.zeros([3, 0]).split(1 << 20, axis: 1).count == 1 << 20)
    #expect(try Tensor.zeros([0, p40]).split(4, axis: 1).map(\.shape) == Array(repeating: [0, 1 << 38], count: 4))
}

// MARK: A5: slices clamp bounds of any size

@Test func sliceBoundsOfAnySizeClamp() throws {
    #expect(try sliceExtent(start: p53, stop: nil, step: 1, size: 3) == (3, 0))
    #expect(try sliceExtent(start: -p53, stop: p53, step: 1, size: 3) == (0, 3))
    #expect(try sliceExtent(start: Int.min, stop: Int.max, step: Int.max, size: 5) == (0, 1))
    #expect(try sliceExtent(start: Int.max, stop: Int.min, step: Int.min, size: 5) == (4, 1))
    #expect(try sliceExtent(start: nil, stop: nil, step: -2, size: 5) == (4, 3))
    #expect(try sliceExtent(start: nil, stop: nil, step: 3, size: 7) == (0, 3))
    #expect(try sliceExtent(start: 5, stop: 2, step: 1, size: 7) == (5, 0))
    let x = try Tensor.arange(start: 0, stop: 5, step: 1)
    #expect(try x.subscripted([.slice(start: p53, stop: nil, step: nil)]).shape == [0])
    #expect(try x.subscripted([.slice(start: -p53, stop: 2, step: nil)]).values == [0, 1])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: 1 << 62)]).values == [0])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: Int.min)]).values == [4])
    #expect(try x.subscripted([.slice(start: nil, stop: nil, step: -(1 << 62))]).unsqueezed(axis: 0).values == [4])
    #expect(sliceInteger(9007199254740992) == p53)
    #expect(sliceInteger(1e18) == 1_000_000_000_000_000_000)
    #expect(sliceInteger(1e300) == 1 << 62)
    #expect(sliceInteger(-1e300) == -(1 << 62))
    #expect(sliceInteger(-3) == -3)
    #expect(sliceInteger(2.5) == nil)
    #expect(sliceInteger(.infinity) == nil)
    #expect(sliceInteger(.nan) == nil)
}

// MARK: B1: gather assignment from an overlapping value

@Test func gatherAssignmentReadsAnOverlappingValueFirst() throws {
    let x = try Tensor.arange(start: 0, stop: 5, step: 1)
    try x.assign([.gather(t([5], [4, 3, 2, 1, 0]))], x)
    #expect(x.values == [4, 3, 2, 1, 0])
    let m = try Tensor.arange(start: 0, stop: 9, step: 1).reshaped([3, 3])
    try m.assign([.gather(t([3], [2, 1, 0]))], m)
    #expect(m.values == [6, 7, 8, 3, 4, 5, 0, 1, 2])
    let n = try Tensor.arange(start: 0, stop: 9, step: 1).reshaped([3, 3])
    try n.assign([.slice(start: nil, stop: nil, step: nil), .gather(t([3], [2, 1, 0]))], n)
    #expect(n.values == [2, 1, 0, 5, 4, 3, 8, 7, 6])
    // A view of the same storage (the transpose) is read before writing too.
    let k = try Tensor.arange(start: 0, stop: 4, step: 1).reshaped([2, 2])
    try k.assign([.gather(t([2], [0, 1]))], try k.swappingLastAxes())
    #expect(k.values == [0, 2, 1, 3])
    // Values that share nothing are written directly.
    let y = try Tensor.zeros([3])
    try y.assign([.gather(t([2], [2, 0]))], try t([2], [5, 6]))
    #expect(y.values == [6, 0, 5])
}

// MARK: B4: var and std with ddof >= n

@Test func varianceWithDdofPastTheSampleSizeIsInfOrNaN() throws {
    let x = try Tensor.arange(start: 0, stop: 3, step: 1)
    #expect(try x.reduce(.variance(ddof: 5)).values == [.infinity])
    #expect(try x.reduce(.variance(ddof: 4)).values == [.infinity])
    #expect(try x.reduce(.variance(ddof: 3)).values == [.infinity])
    #expect(try x.reduce(.standardDeviation(ddof: 5)).values == [.infinity])
    #expect(try x.reduce(.variance(ddof: 2)).values == [2])
    #expect(try x.reduce(.variance(ddof: -1)).values == [0.5])
    #expect(try x.reduce(.variance(ddof: Int.max)).values == [.infinity])
    #expect(try x.reduce(.variance(ddof: Int.min)).values[0] < 1e-18)
    // 0 / 0: nan.
    #expect(try Tensor.full(1, [3]).reduce(.variance(ddof: 5)).values[0].isNaN)
    #expect(try Tensor.full(1, [3]).reduce(.standardDeviation(ddof: 3)).values[0].isNaN)
}

// MARK: B5: softmax of rows with nan or +inf

func nanMask(_ values: [Float]) -> [Float] { values.map { $0.isNaN ? -99 : $0 } }

@Test func softmaxRowsWithNaNOrInfinityAreAllNaN() throws {
    let nan = Float.nan, inf = Float.infinity
    #expect(nanMask(try t([3], [1, nan, 2]).softmax().values) == [-99, -99, -99])
    #expect(nanMask(try t([2], [inf, 0]).softmax().values) == [-99, -99])
    #expect(nanMask(try t([2], [-inf, nan]).softmax().values) == [-99, -99])
    #expect(nanMask(try t([2], [inf, inf]).softmax().values) == [-99, -99])
    // Only the affected row; an all -inf row stays 0.
    let rows = try t([3, 2], [0, 0, nan, 1, -inf, -inf]).softmax().values
    #expect(nanMask(rows) == [0.5, 0.5, -99, -99, 0, 0])
    // Along axis 0 (columns), and long rows (the vectorised part of the kernel).
    let columns = try t([2, 2], [1, inf, 0, 0]).softmax(axis: 0).values
    #expect(columns[1].isNaN && columns[3].isNaN)
    #expect(abs(columns[0] - 0.7310586) < 1e-6 && abs(columns[2] - 0.26894143) < 1e-6)
    var long = [Float](repeating: 0, count: 40)
    long[37] = nan
    #expect(try t([40], long).softmax().values.allSatisfy(\.isNaN))
    long[37] = inf
    #expect(try t([40], long).softmax().values.allSatisfy(\.isNaN))
    long[37] = 0
    #expect(try t([40], long).softmax().values == [Float](repeating: 0.025, count: 40))
    // 0-d: one row of one element.
    #expect(try Tensor(scalar: 3).softmax().values == [1])
    #expect(try Tensor(scalar: -inf).softmax().values == [0])
    #expect(try Tensor(scalar: inf).softmax().values[0].isNaN)
    #expect(try Tensor(scalar: nan).softmax().values[0].isNaN)
}
