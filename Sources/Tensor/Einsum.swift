/// `einsum` as torch.einsum: any number of operands, '...' for broadcast batch axes, a
/// letter repeated within an operand for its diagonal, written with operations that have
/// gradients. Each operand first loses what only it has: its diagonals are strided views
/// (`ii` → one axis), an axis of size 1 where the letter's size is larger elsewhere is
/// dropped (it broadcasts; when the output names the letter it stays, and the matrix
/// product broadcasts it as a batch axis, as `@` does), and a letter no other operand nor
/// the output names is summed.
/// Then the operands are contracted pairwise, each pair through one (batched) matrix
/// product in BLAS: a permutation of each operand to [batch, free, contracted] /
/// [batch, contracted, free] (views; the batch axes stay separate, so a transposed operand
/// reaches sgemm as its transpose flag), and a reshape of the result. The pair contracted
/// next is the one whose result has the fewest elements, the leftmost among equals
/// (opt_einsum's greedy choice): "ij,jk,kl->il" on square matrices goes left to right,
/// "bhqd,bhkd,bhke->bhqe" with more keys than dimensions contracts K with V first. The
/// order changes the result only by float rounding. einsum("qd,kd->qk", Q, K) is the
/// product Q @ K' with K' as sgemm's transpose flag, bit for bit.
extension Tensor {
    public static func einsum(_ spec: String, _ operands: [Tensor]) throws -> Tensor {
        let parsed = try parseEinsum(spec, operands: operands)
        let output = parsed.output
        // Diagonals first: a letter repeated in one operand becomes one axis.
        var items: [(letters: [Character], tensor: Tensor)] = []
        for (i, (letters, t)) in zip(parsed.inputs, operands).enumerated() {
            items.append(try t.diagonals(letters, operand: i, term: parsed.terms[i]))
        }
        // The size of each letter: equal in every operand, or 1 where it broadcasts.
        var size: [Character: (n: Int, operand: Int)] = [:]
        for (i, item) in items.enumerated() {
            for (letter, n) in zip(item.letters, item.tensor.shape) {
                guard let known = size[letter] else { size[letter] = (n, i); continue }
                if known.n == n || n == 1 { continue }
                guard known.n == 1 else {
                    throw TensorError.shape(in: "einsum", "\(name(letter)) has size \(known.n) in operand \(known.operand + 1) (\(describe(shape: operands[known.operand].shape))) and \(n) in operand \(i + 1) (\(describe(shape: operands[i].shape)))")
                        .blaming("operand", i)
                }
                size[letter] = (n, i)
            }
        }
        // An axis of size 1 whose letter is larger elsewhere broadcasts: the operand does
        // not depend on that letter, which is dropped from it unless the output names it
        // (then it stays, and the matrix product broadcasts it as a batch axis).
        for i in items.indices {
            let (letters, t) = items[i]
            let dropped = letters.indices.filter {
                t.shape[$0] == 1 && (size[letters[$0]]?.n ?? 1) != 1 && !output.contains(letters[$0])
            }
            if dropped.isEmpty { continue }
            let kept = letters.indices.filter { !dropped.contains($0) }
            items[i] = (kept.map { letters[$0] }, try t.viewOrReshape(kept.map { t.shape[$0] }))
        }
        let sizes = size.mapValues(\.n)
        // A letter in one operand only and not in the output is summed there first.
        for i in items.indices {
            let others = items.indices.filter { $0 != i }.flatMap { items[$0].letters }
            items[i] = try summing(items[i], keeping: Set(output + others))
        }
        // Pairwise contractions, the smallest result first.
        while items.count > 1 {
            var best: (i: Int, j: Int, cost: Double)? = nil
            for i in items.indices {
                for j in items.indices where j > i {
                    let keep = keeping(i, j, items, output)
                    let result = Set(items[i].letters + items[j].letters).intersection(keep)
                    let cost = result.reduce(1.0) { $0 * Double(sizes[$1] ?? 1) }
                    if best == nil || cost < best?.cost ?? 0 { best = (i, j, cost) }
                }
            }
            guard let (i, j, _) = best else { break }
            let keep = keeping(i, j, items, output)
            let merged = try contract(items[i], items[j], keeping: keep)
            items[i] = merged
            items.remove(at: j)
        }
        guard let (letters, t) = items.first else { throw TensorError.value("einsum needs at least one operand") }
        var order: [Int] = []
        for c in output {
            guard let axis = letters.firstIndex(of: c) else {
                throw TensorError.value("einsum: internal error: the output's '\(c)' was lost in '\(spec)'")
            }
            order.append(axis)
        }
        guard order.count == letters.count else {
            throw TensorError.value("einsum: internal error: '\(String(letters))' is not the output of '\(spec)'")
        }
        return try t.permutedIfNeeded(order)
    }

    /// The letters that items i and j keep when they are contracted: the output's and
    /// those of the other operands.
    private static func keeping(_ i: Int, _ j: Int, _ items: [(letters: [Character], tensor: Tensor)],
                                _ output: [Character]) -> Set<Character> {
        Set(output + items.indices.filter { $0 != i && $0 != j }.flatMap { items[$0].letters })
    }

    /// One pairwise contraction through one (batched) matrix product: letters in both and
    /// kept are batch axes, in both and not kept are contracted, in one are free. The
    /// result's letters are batch + free of a + free of b.
    private static func contract(_ x: (letters: [Character], tensor: Tensor), _ y: (letters: [Character], tensor: Tensor),
                                 keeping keep: Set<Character>) throws -> (letters: [Character], tensor: Tensor) {
        let (lettersA, a) = try summing(x, keeping: keep.union(y.letters))
        let (lettersB, b) = try summing(y, keeping: keep.union(x.letters))
        let batch = lettersA.filter { lettersB.contains($0) && keep.contains($0) }
        let contracted = lettersA.filter { lettersB.contains($0) && !keep.contains($0) }
        let freeA = lettersA.filter { !lettersB.contains($0) }, freeB = lettersB.filter { !lettersA.contains($0) }
        // Each operand's own sizes: a kept letter of size 1 in one operand broadcasts.
        func sizeA(_ c: Character) -> Int { lettersA.firstIndex(of: c).map { a.shape[$0] } ?? 1 }
        func sizeB(_ c: Character) -> Int { lettersB.firstIndex(of: c).map { b.shape[$0] } ?? 1 }
        let m = freeA.reduce(1) { $0 * sizeA($1) }, n = freeB.reduce(1) { $0 * sizeB($1) }
        let k = contracted.reduce(1) { $0 * sizeA($1) }
        let left = try a.permutedIfNeeded((batch + freeA + contracted).compactMap { lettersA.firstIndex(of: $0) })
            .viewOrReshape(batch.map(sizeA) + [m, k])
        let right = try b.permutedIfNeeded((batch + contracted + freeB).compactMap { lettersB.firstIndex(of: $0) })
            .viewOrReshape(batch.map(sizeB) + [k, n])
        let letters = batch + freeA + freeB
        let shape = batch.map { max(sizeA($0), sizeB($0)) } + freeA.map(sizeA) + freeB.map(sizeB)
        return (letters, try matmul(left, right).viewOrReshape(shape))
    }

    /// The operands' letters and the output's, checked, with each '...' written out as
    /// letters of its own (outside a-z and A-Z), right-aligned across the operands as
    /// broadcasting aligns axes. Without "->" the output is the '...' axes and then the
    /// letters that appear once, in ASCII order (uppercase first), as torch.einsum; with
    /// "->" and no '...' in the output, the '...' axes are summed (as torch.einsum).
    static func parseEinsum(_ spec: String, operands: [Tensor]) throws
        -> (inputs: [[Character]], output: [Character], terms: [String]) {
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
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(Array.init)
        guard terms.count == operands.count else {
            throw TensorError.value("einsum: '\(spec)' names \(terms.count) operand\(terms.count == 1 ? "" : "s"), got \(operands.count)")
        }
        // Each term: its letters with nil where '...' stands.
        func read(_ term: [Character], _ what: String) throws -> [Character?] {
            var result: [Character?] = []
            var j = 0
            while j < term.count {
                let c = term[j]
                if c == "." {
                    guard j + 2 < term.count, term[j + 1] == ".", term[j + 2] == "." else {
                        throw TensorError.value("einsum: a '.' in \(what) '\(String(term))' is not part of '...'")
                    }
                    guard !result.contains(where: { $0 == nil }) else {
                        throw TensorError.value("einsum: '...' appears twice in \(what) '\(String(term))'")
                    }
                    result.append(nil)
                    j += 3
                    continue
                }
                guard c.isASCII, c.isLetter else {
                    throw TensorError.value("einsum: '\(c)' in '\(spec)' is not a letter (one letter a-z or A-Z per axis, or '...')")
                }
                result.append(c)
                j += 1
            }
            return result
        }
        let read_ = try terms.enumerated().map { try read($0.element, "operand \($0.offset + 1)'s") }
        // How many axes each '...' stands for.
        var ellipses: [Int] = []
        for (i, term) in read_.enumerated() {
            let named = term.filter { $0 != nil }.count
            let hasEllipsis = term.count != named
            guard hasEllipsis ? operands[i].rank >= named : operands[i].rank == named else {
                throw TensorError.shape(in: "einsum", "'\(String(terms[i]))' names \(hasEllipsis ? "at least " : "")\(named) ax\(named == 1 ? "is" : "es"), operand \(i + 1) has shape \(describe(shape: operands[i].shape))")
                    .blaming("operand", i)
            }
            ellipses.append(operands[i].rank - named)
        }
        let widest = ellipses.max() ?? 0
        // The letters of the '...' axes, the first of the widest '...' first.
        let ellipsisLetters = (0..<widest).compactMap { Unicode.Scalar(0xE000 + $0).map(Character.init) }
        let inputs: [[Character]] = zip(read_, ellipses).map { term, count in
            term.flatMap { $0.map { [$0] } ?? Array(ellipsisLetters.suffix(count)) }
        }
        let all = inputs.flatMap { $0 }
        guard sides.count == 2 else {
            let once = Set(all).filter { c in !ellipsisLetters.contains(c) && all.filter { $0 == c }.count == 1 }
            return (inputs, ellipsisLetters + once.sorted(), terms.map { String($0) })
        }
        let outputTerm = try read(Array(sides[1]), "the output")
        for c in outputTerm.compactMap({ $0 }) {
            guard all.contains(c) else { throw TensorError.value("einsum: the output's '\(c)' is in no operand of '\(spec)'") }
            guard outputTerm.filter({ $0 == c }).count == 1 else { throw TensorError.value("einsum: '\(c)' appears twice in the output of '\(spec)'") }
        }
        let output = outputTerm.flatMap { $0.map { [$0] } ?? ellipsisLetters }
        return (inputs, output, terms.map { String($0) })
    }

    /// How an error names a letter: 'j', or an axis of '...'.
    private static func name(_ letter: Character) -> String {
        guard let scalar = letter.unicodeScalars.first, scalar.value >= 0xE000, scalar.value < 0xF000 else { return "'\(letter)'" }
        return "an axis of '...'"
    }

    /// `permuted(axes)`, or self when the axes are already in order.
    func permutedIfNeeded(_ axes: [Int]) throws -> Tensor {
        axes == Array(0..<rank) ? self : try permuted(axes)
    }

    /// `reshaped(shape)`, but a view (no copy) whenever the strides allow one, as
    /// torch's view: axes merged or split where they are evenly spaced in memory, axes of
    /// size 1 inserted or removed. self when the shape is already that.
    func viewOrReshape(_ newShape: [Int]) throws -> Tensor {
        if newShape == shape { return self }
        guard let viewStrides = stridesForView(newShape) else { return try reshaped(newShape) }
        if let tape = try Tape.tracking(self) {
            return try tape.recording("reshape", inputs: [self], saving: [], savesOutput: false, forward: { try viewOrReshape(newShape) }) { g, _ in
                [try g.reshaped(self.shape)]
            }
        }
        return Tensor(storage: storage, shape: newShape, strides: viewStrides, offset: offset)
    }

    /// The strides of `newShape` over this tensor's memory without a copy, or nil (torch's
    /// computeStride).
    private func stridesForView(_ newShape: [Int]) -> [Int]? {
        guard count > 0, newShape.allSatisfy({ $0 >= 0 }), newShape.reduce(1, *) == count else { return nil }
        if rank == 0 { return Array(repeating: 1, count: newShape.count) }
        var result = [Int](repeating: 1, count: newShape.count)
        var viewAxis = newShape.count - 1
        var chunkStride = strides[rank - 1]
        var tensorCount = 1, viewCount = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            tensorCount *= shape[axis]
            if axis == 0 || (shape[axis - 1] != 1 && strides[axis - 1] != tensorCount * chunkStride) {
                while viewAxis >= 0 && (viewCount < tensorCount || newShape[viewAxis] == 1) {
                    result[viewAxis] = viewCount * chunkStride
                    viewCount *= newShape[viewAxis]
                    viewAxis -= 1
                }
                guard viewCount == tensorCount else { return nil }
                if axis > 0 {
                    chunkStride = strides[axis - 1]
                    tensorCount = 1
                    viewCount = 1
                }
            }
        }
        return viewAxis == -1 ? result : nil
    }

    /// The diagonals of an operand whose letters repeat ("ii", "bii", "iji"): one axis per
    /// distinct letter, in the order they first appear, a strided view (the stride of a
    /// merged axis is the sum of its axes' strides). Its gradient writes g onto the
    /// diagonal of zeros.
    func diagonals(_ letters: [Character], operand: Int, term: String) throws -> (letters: [Character], tensor: Tensor) {
        var distinct: [Character] = []
        for c in letters where !distinct.contains(c) { distinct.append(c) }
        if distinct.count == letters.count { return (letters, self) }
        let groups = distinct.map { c in letters.indices.filter { letters[$0] == c } }
        for group in groups {
            let sizes = group.map { shape[$0] }
            if Set(sizes).count > 1 {
                throw TensorError.shape(in: "einsum", "'\(letters[group[0]])' is repeated in '\(term)' but its axes have sizes \(sizes.map(String.init).joined(separator: " and ")) (operand \(operand + 1) has shape \(describe(shape: shape)))")
                    .blaming("operand", operand)
            }
        }
        return (distinct, try diagonalView(groups))
    }

    /// The view that walks the axes of each group together.
    private func diagonalView(_ groups: [[Int]]) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("diagonal", inputs: [self], saving: [], savesOutput: false, forward: { try diagonalView(groups) }) { g, _ in
                let full = try Tensor.zeros(self.shape)
                let diagonal = try full.diagonalView(groups)
                let values = try g.contiguous()
                let src = values.storage.pointer + values.offset, dst = diagonal.storage.pointer + diagonal.offset
                diagonal.forEachRow { row, base, length, step in
                    for i in 0..<length { dst[base + i * step] = src[row * length + i] }
                }
                return [full]
            }
        }
        return Tensor(storage: storage, shape: groups.map { shape[$0[0]] },
                      strides: groups.map { $0.reduce(0) { $0 + strides[$1] } }, offset: offset)
    }

    /// Sums the axes whose letters are not in `keep`.
    private static func summing(_ item: (letters: [Character], tensor: Tensor), keeping keep: Set<Character>) throws -> (letters: [Character], tensor: Tensor) {
        let summed = item.letters.indices.filter { !keep.contains(item.letters[$0]) }
        if summed.isEmpty { return item }
        let kept = item.letters.indices.filter { keep.contains(item.letters[$0]) }.map { item.letters[$0] }
        return (kept, try item.tensor.reduce(.sum, axes: summed))
    }
}
