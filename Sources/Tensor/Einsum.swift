/// `einsum` of one or two operands, written with the operations that have gradients:
/// sums over the letters only one operand has, a permutation of each operand to
/// [batch, free, contracted] / [batch, contracted, free], one (batched) matrix product
/// through BLAS, and a reshape and permutation to the output's letters. The views are
/// kept where no reshape is needed, so einsum("qd,kd->qk", Q, K) is the product Q @ K'
/// with K' as sgemm's transpose flag, bit for bit.
extension Tensor {
    public static func einsum(_ spec: String, _ operands: [Tensor]) throws -> Tensor {
        let (inputs, output) = try parseEinsum(spec, operands: operands)
        var size: [Character: Int] = [:]
        for (letters, t) in zip(inputs, operands) {
            for (letter, n) in zip(letters, t.shape) {
                if let known = size[letter], known != n {
                    throw TensorError.shape(in: "einsum", "'\(letter)' has size \(known) and \(n) (\(describeAll(operands)))")
                }
                size[letter] = n
            }
        }
        // A letter in one operand only and not in the output is summed there first.
        var reduced: [(letters: [Character], tensor: Tensor)] = []
        for (i, (letters, t)) in zip(inputs, operands).enumerated() {
            let others = inputs.enumerated().filter { $0.offset != i }.flatMap(\.element)
            let summed = letters.indices.filter { !output.contains(letters[$0]) && !others.contains(letters[$0]) }
            let kept = letters.indices.filter { !summed.contains($0) }.map { letters[$0] }
            reduced.append((kept, summed.isEmpty ? t : try t.reduce(.sum, axes: summed)))
        }
        if reduced.count == 1 {
            let (letters, t) = reduced[0]
            return try t.permutedIfNeeded(output.map { letters.firstIndex(of: $0) ?? 0 })
        }
        let (lettersA, a) = reduced[0], (lettersB, b) = reduced[1]
        let batch = lettersA.filter { lettersB.contains($0) && output.contains($0) }
        let contracted = lettersA.filter { lettersB.contains($0) && !output.contains($0) }
        let freeA = lettersA.filter { !lettersB.contains($0) }, freeB = lettersB.filter { !lettersA.contains($0) }
        func product(_ letters: [Character]) -> Int { letters.reduce(1) { $0 * (size[$1] ?? 1) } }
        let (nb, m, k, n) = (product(batch), product(freeA), product(contracted), product(freeB))
        let leading = batch.isEmpty ? [] : [nb]
        let left = try a.permutedIfNeeded((batch + freeA + contracted).map { lettersA.firstIndex(of: $0) ?? 0 })
            .reshapedIfNeeded(leading + [m, k])
        let right = try b.permutedIfNeeded((batch + contracted + freeB).map { lettersB.firstIndex(of: $0) ?? 0 })
            .reshapedIfNeeded(leading + [k, n])
        let letters = batch + freeA + freeB
        let result = try matmul(left, right).reshapedIfNeeded(letters.map { size[$0] ?? 1 })
        return try result.permutedIfNeeded(output.map { letters.firstIndex(of: $0) ?? 0 })
    }

    /// The operands' letters and the output's, checked: one letter per axis, a-z or A-Z,
    /// none repeated within an operand or the output, every output letter from an
    /// operand. Without "->" the output is the letters that appear once, in alphabetical
    /// order (NumPy's implicit mode).
    static func parseEinsum(_ spec: String, operands: [Tensor]) throws -> (inputs: [[Character]], output: [Character]) {
        let text = Array(spec.filter { $0 != " " })
        // The sides of "->".
        var sides: [[Character]] = [[]]
        var i = 0
        while i < text.count {
            if text[i] == "-", i + 1 < text.count, text[i + 1] == ">" {
                sides.append([])
                i += 2
            } else {
                sides[sides.count - 1].append(text[i])
                i += 1
            }
        }
        guard sides.count <= 2 else { throw TensorError.value("einsum: '\(spec)' has more than one '->'") }
        let inputs = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(Array.init)
        guard inputs.count == operands.count else {
            throw TensorError.value("einsum: '\(spec)' names \(inputs.count) operand\(inputs.count == 1 ? "" : "s"), got \(operands.count)")
        }
        guard (1...2).contains(operands.count) else {
            throw TensorError.value("einsum takes one or two operands, got \(operands.count); contract them in steps")
        }
        func isLetter(_ c: Character) -> Bool { c.isASCII && c.isLetter }
        for (i, letters) in inputs.enumerated() {
            if let bad = letters.first(where: { !isLetter($0) }) {
                throw TensorError.value("einsum: '\(bad)' in '\(spec)' is not a letter (one letter a-z or A-Z per axis; no '...')")
            }
            guard letters.count == operands[i].rank else {
                throw TensorError.shape(in: "einsum", "'\(String(letters))' names \(letters.count) axes, operand \(i + 1) has shape \(describe(shape: operands[i].shape))")
            }
            if let repeated = letters.first(where: { c in letters.filter { $0 == c }.count > 1 }) {
                throw TensorError.value("einsum: '\(repeated)' appears twice in '\(String(letters))' (diagonals and traces are not supported)")
            }
        }
        let all = inputs.flatMap { $0 }
        guard sides.count == 2 else {
            return (inputs, Set(all).filter { c in all.filter { $0 == c }.count == 1 }.sorted())
        }
        let output = Array(sides[1])
        for c in output {
            guard isLetter(c) else { throw TensorError.value("einsum: '\(c)' in '\(spec)' is not a letter (one letter a-z or A-Z per axis; no '...')") }
            guard all.contains(c) else { throw TensorError.value("einsum: the output's '\(c)' is in no operand of '\(spec)'") }
            guard output.filter({ $0 == c }).count == 1 else { throw TensorError.value("einsum: '\(c)' appears twice in the output of '\(spec)'") }
        }
        return (inputs, output)
    }

    private static func describeAll(_ operands: [Tensor]) -> String {
        operands.map { describe(shape: $0.shape) }.joined(separator: " and ")
    }

    /// `permuted(axes)`, or self when the axes are already in order.
    func permutedIfNeeded(_ axes: [Int]) throws -> Tensor {
        axes == Array(0..<rank) ? self : try permuted(axes)
    }

    /// `reshaped(shape)`, or self (a view kept as it is) when the shape is already that.
    func reshapedIfNeeded(_ newShape: [Int]) throws -> Tensor {
        newShape == shape ? self : try reshaped(newShape)
    }
}
