/// How a reader's step count grows with its input: `make(n)` builds an input of size n,
/// `steps` reads one and counts the steps it took. Gives steps(10 n) / steps(n) (about
/// 10 for a linear reader, 100 for a quadratic one) and the steps per byte at 10 n.
/// Steps, not time, so that the tests built on it are exact on a loaded machine.
public func stepGrowth(_ make: (Int) -> String, at n: Int = 3_000, _ steps: (String) throws -> Int) rethrows
    -> (ratio: Double, perByte: Double) {
    let large = make(10 * n)
    let largeSteps = try steps(large)
    return (Double(largeSteps) / Double(try steps(make(n))), Double(largeSteps) / Double(large.utf8.count))
}

/// What is wrong with reading the input `name` that `make` builds, or nil when the reader
/// is linear on it: 8 to 12 times the steps for 10 times the input, and fewer than
/// `stepsPerByte` steps a byte.
public func linearityProblem(_ name: String, _ make: (Int) -> String, stepsPerByte: Double,
                             _ steps: (String) throws -> Int) rethrows -> String? {
    let (ratio, perByte) = try stepGrowth(make, steps)
    if !(ratio > 8 && ratio < 12) { return "\(name): \(ratio) times the steps for 10 times the input" }
    if !(perByte < stepsPerByte) { return "\(name): \(perByte) steps a byte" }
    return nil
}
