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
