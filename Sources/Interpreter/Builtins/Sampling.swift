import Foundation
import Lang
import Tensor

/// Choosing tokens: the k largest entries, and draws from a distribution with the
/// session's generator (seed makes them repeat), as generation needs (docs/LANGUAGE.md
/// §6.16).
extension Library {
    static func sampling() -> [Builtin] {
        [
            // axis is read after k, as errors are placed at the first integer read with the
            // culprit's value (Arguments.place).
            builtin("topk", .tensor("x"), .argument("k"), .argument("axis", default: .number(-1), shown: "-1"),
                    summary: "The k largest entries along axis, largest first: {values, indices}, as torch.topk.",
                    example: "topk([3, 1, 4, 1, 5], 2)",
                    details: "Equal entries keep their order (the lower index first). values and indices have x's shape with k along axis.") { _, x, kArgument, axis in
                let k = try kArgument.int()
                let axis = try Tensor.normalize(axis: try axis.int(), rank: max(x.rank, 1))
                guard x.rank >= 1, k >= 0, k <= x.shape[axis] else {
                    throw TxError(.value, "topk: k must be in 0...\(x.rank >= 1 ? x.shape[axis] : 0), got \(k)", at: kArgument.span)
                }
                let last = x.rank - 1
                let rows = try x.transposed(axis, last).contiguous()
                let n = x.shape[axis], count = n == 0 ? 0 : rows.count / n
                var outShape = rows.shape
                outShape[last] = k
                let values = try Tensor(uninitializedShape: outShape), indices = try Tensor(uninitializedShape: outShape)
                let source = rows.storage.pointer + rows.offset
                for r in 0..<count {
                    let row = source + r * n
                    let order = try Ranking.largestFirst(UnsafeBufferPointer(start: row, count: n), first: k)
                    for j in 0..<k {
                        values.storage.pointer[r * k + j] = row[order[j]]
                        indices.storage.pointer[r * k + j] = Float(order[j])
                    }
                }
                return .record(RecordValue([("values", .tensor(try values.transposed(axis, last).contiguous())),
                                            ("indices", .tensor(try indices.transposed(axis, last).contiguous()))]))
            },
            builtin("multinomial", .argument("probs"), .argument("n", default: .number(1), shown: "1"), .bool("replacement", default: false),
                    summary: "n class ids drawn from each row of probs [..., C] (weights, not necessarily summing to 1), as torch.multinomial: [..., n].",
                    example: "seed(0); multinomial([0.1, 0.0, 0.9], 2)",
                    details: "Without replacement a class is drawn at most once per row, so n is at most the number of positive weights. Draws come from the session's generator (see seed).") { args, probsArgument, nArgument, replacement in
                let probs = try probsArgument.tensor(), n = try nArgument.int()
                let (rows, classes) = try weightRows(probs, probsArgument)
                guard n >= 0, replacement || rows.allSatisfy({ row in row.filter { $0 > 0 }.count >= n }) else {
                    throw TxError(.value, "multinomial: cannot draw \(n) classes without replacement from a row with fewer positive weights", at: nArgument.span)
                }
                let out = try Tensor(uninitializedShape: Array(probs.shape.dropLast()) + [n])
                for (r, row) in rows.enumerated() {
                    var weights = row
                    for j in 0..<n {
                        let id = draw(weights, classes, &args.interpreter.random)
                        out.storage.pointer[r * n + j] = Float(id)
                        if !replacement { weights[id] = 0 }
                    }
                }
                return .tensor(out)
            },
            builtin("sample", .argument("probs"), .argument("temperature", default: .number(1), shown: "1"), .optionalArgument("top_k"),
                    .optionalNumber("top_p"),
                    summary: "One class id drawn from probs [C] (a number), or one per row of [..., C] (a tensor [...]), after temperature, top-k and top-p.",
                    example: "seed(0); sample(softmax([2, 1, 0.5]), temperature=0.8, top_k=2)",
                    details: """
                        probs are weights (they need not sum to 1). temperature T reshapes them to
                        probs^(1/T), which is softmax(logits / T) for probs = softmax(logits): below 1 it
                        sharpens, above 1 it flattens, and 0 takes the most probable id (greedy). top_k keeps
                        the k largest weights of each row. top_p (nucleus sampling, in (0, 1]) then keeps
                        the most probable ids whose probabilities, after temperature and top_k, first reach
                        p in all, the one that crosses p included (so at least one), as Hugging Face's
                        generate: sample([0.5, 0.3, 0.15, 0.05], top_p=0.7) draws only 0 and 1. Equal
                        weights rank by index. Draws come from the session's generator (see seed).
                        """) { args, probsArgument, temperatureArgument, topKArgument, topP in
                let probs = try probsArgument.tensor(), temperature = try temperatureArgument.number()
                let topK = try topKArgument.optionalInt()
                guard temperature >= 0, temperature.isFinite else {
                    throw TxError(.value, "sample: temperature must be a number >= 0, got \(temperature)", at: temperatureArgument.span)
                }
                let (rows, classes) = try weightRows(probs, probsArgument)
                if let topK, topK < 1 || topK > classes {
                    throw TxError(.value, "sample: top_k must be in 1...\(classes), got \(topK)", at: topKArgument.span)
                }
                if let topP, !(topP > 0 && topP <= 1) {
                    throw TxError(.value, "sample: top_p must be in (0, 1], got \(TensorFormatter.formatNumber(topP))", at: args.span("top_p"))
                }
                var ids: [Float] = []
                for row in rows {
                    var weights = row
                    let order = Ranking.largestFirst(weights)
                    if let topK {
                        for i in order.dropFirst(topK) { weights[i] = 0 }
                    }
                    if temperature == 0 {
                        ids.append(Float(order.first ?? 0))
                        continue
                    }
                    if temperature != 1 {
                        let largest = weights.max() ?? 1
                        weights = weights.map { $0 > 0 ? Foundation.pow($0 / largest, 1 / temperature) : 0 }
                    }
                    if let topP, topP < 1 { keepNucleus(&weights, order: order, p: topP) }
                    ids.append(Float(draw(weights, classes, &args.interpreter.random)))
                }
                if probs.rank == 1, let id = ids.first { return .number(Double(id)) }
                return .tensor(try Tensor(shape: Array(probs.shape.dropLast()), values: ids))
            },
        ]
    }

    /// Top-p: zeroes the weights after the first ones, in `order` (largest first), whose
    /// sum reaches `p` of the total; the weight that crosses `p` stays.
    private static func keepNucleus(_ weights: inout [Double], order: [Int], p: Double) {
        let total = weights.reduce(0, +)
        var before = 0.0
        for i in order {
            if before >= p * total { weights[i] = 0 } else { before += weights[i] }
        }
    }

    /// The rows of a weight tensor [..., C] (`probs`, the argument `given`) as arrays of
    /// non-negative numbers with a positive sum, and C.
    private static func weightRows(_ probs: Tensor, _ given: RawArgument) throws -> ([[Double]], Int) {
        let builtinName = given.arguments.builtin.name, name = given.name
        guard probs.rank >= 1, let classes = probs.shape.last, classes > 0 else {
            throw TxError(.shape, label: "shape mismatch in \(builtinName)", "\(name) must be [..., C] with C >= 1, got \(describe(shape: probs.shape))", at: given.span)
        }
        let values = try probs.contiguous().values
        let rows = stride(from: 0, to: values.count, by: classes).map { Array(values[$0..<($0 + classes)]).map(Double.init) }
        for row in rows where !(row.allSatisfy { $0 >= 0 && $0.isFinite } && row.reduce(0, +) > 0) {
            throw TxError(.value, "\(builtinName): each row of \(name) must hold finite weights >= 0 with a positive sum", at: given.span)
        }
        return (rows, classes)
    }

    /// One index drawn with probability proportional to its weight.
    private static func draw(_ weights: [Double], _ classes: Int, _ random: inout RandomGenerator) -> Int {
        let total = weights.reduce(0, +)
        var u = random.uniform() * total
        for (i, w) in weights.enumerated() where w > 0 {
            if u < w { return i }
            u -= w
        }
        return weights.lastIndex { $0 > 0 } ?? (classes - 1)
    }
}
