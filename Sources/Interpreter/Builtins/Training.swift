import Foundation
import Lang
import Tensor

/// Training: the loss of a classifier, optimisers as records that hold their state, and
/// the learning-rate schedule and gradient clipping a training loop needs
/// (docs/LANGUAGE.md §6.15). The optimisers update a parameter record in place with
/// PyTorch's formulas, operation for operation, so that one step equals torch.optim's.
///
/// Text as data for a character-level model, as nanoGPT's prepare.py does it: the
/// vocabulary of a text, its characters as ids and back, and random batches of windows.
/// Characters are what tx's strings index and iterate (extended grapheme clusters).
extension Library {
    static func training() -> [Builtin] {
        [
            builtin("cross_entropy", .argument("logits"), .argument("targets"), .optionalArgument("mask"),
                    summary: "The mean cross-entropy of logits [..., C] against class ids targets [...], as F.cross_entropy, through logsumexp.",
                    example: "cross_entropy([[2, 0, -1], [0, 3, 0]], [0, 1])",
                    details: """
                        Each position's loss is logsumexp(logits) - logits[target]: the negative log of the
                        softmax's probability of the target, computed without forming the softmax, so large
                        logits do not overflow. targets holds integers in 0..<C (a number for one row of
                        logits). mask (shaped like targets) chooses the positions that count: the loss is
                        sum(loss * mask) / sum(mask), as a padded batch needs (PyTorch's ignore_index);
                        a mask of zeros gives nan, as PyTorch does. Differentiable in logits.
                        """) { _, logitsArgument, targetsArgument, maskArgument in
                let logits = try logitsArgument.tensor()
                let targets = try classIds(targetsArgument, classesIn: logits, at: logitsArgument.span)
                let losses = try Tensor.binary(.subtract, logits.reduce(.logsumexp, axes: [-1]),
                                               picked(logits, targets))
                guard let mask = try maskArgument.optionalTensor() else { return .tensor(try losses.reduce(.mean)) }
                guard mask.shape == losses.shape else {
                    throw TxError(.shape, label: "shape mismatch in cross_entropy", "targets are \(describe(shape: losses.shape)), so mask must be too, got \(describe(shape: mask.shape))", at: maskArgument.span)
                }
                return .tensor(try Tensor.binary(.divide, Tensor.binary(.multiply, losses, mask).reduce(.sum), mask.reduce(.sum)))
            },
            builtin("sgd", .number("lr"), .number("momentum", default: 0),
                    summary: "Stochastic gradient descent as a record holding its state; step(opt, p, g) applies it.",
                    example: "opt = sgd(0.1, momentum=0.9)",
                    details: """
                        As torch.optim.SGD: p -= lr * g, or with momentum a buffer b = momentum * b + g
                        (b = g at the first step) and p -= lr * b. The record holds lr, momentum, the step
                        count t and, after the first step, buf shaped like the parameters; setting opt.lr
                        between steps changes the rate (see warmup_cosine).
                        """) { _, lr, momentum in
                .record(RecordValue([("optimizer", .string("sgd")), ("lr", .number(lr)),
                                     ("momentum", .number(momentum)), ("t", .number(0)), ("buf", .none)]))
            },
            builtin("adam", .number("lr"), .betas, .number("eps", default: 1e-8, shown: "1e-8"),
                    summary: "Adam as a record holding its state; step(opt, p, g) applies it.",
                    example: "opt = adam(1e-3)",
                    details: """
                        As torch.optim.Adam: m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2,
                        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps) at step t (bias-
                        corrected). The record holds lr, betas, eps, t and, after the first step, m and v
                        shaped like the parameters.
                        """) { _, lr, betas, eps in
                adamRecord(kind: "adam", lr: lr, betas: betas, eps: eps, weightDecay: 0)
            },
            builtin("adamw", .number("lr"), .betas, .number("eps", default: 1e-8, shown: "1e-8"), .number("weight_decay", default: 0.01),
                    summary: "AdamW (Adam with decoupled weight decay) as a record holding its state; step(opt, p, g) applies it.",
                    example: "opt = adamw(1e-3, weight_decay=0.1)",
                    details: """
                        As torch.optim.AdamW: p *= 1 - lr * weight_decay, then Adam's update (see adam).
                        """) { _, lr, betas, eps, weightDecay in
                adamRecord(kind: "adamw", lr: lr, betas: betas, eps: eps, weightDecay: weightDecay)
            },
            builtin("step", .argument("opt"), .argument("p"), .argument("g"),
                    summary: "Updates the parameters p in place by the gradient g (shaped like p) with the optimiser opt, and advances opt's state.",
                    example: "p = {W: ones(2, 2)}; step(sgd(0.1), p, {W: ones(2, 2)}); p.W",
                    details: """
                        p and g are tensors, or records and lists of them with the same structure (as grad
                        returns); every tensor of p is written in place, so every variable that holds p
                        sees the new values, and a view (a transposed weight W', as load_model's blocks
                        hold, or a slice) is written through to the tensor it views. Leaves of g that are
                        none (and leaves of p that are not tensors) are skipped. opt.t counts the steps;
                        the state (buf, m, v) is made at the first step.
                        """) { args, opt, p, g in
                let record = try opt.record()
                guard Tape.active == nil else {
                    throw TxError(.value, "step updates parameters in place and cannot run inside a function being differentiated; call it on grad's result, outside", at: args.span)
                }
                try Optimizer(record, opt: opt, p: p, g: g).step()
                return .none
            },
            builtin("clip_grad_norm", .argument("g"), .number("max"),
                    summary: "Scales the gradient g in place so that its total norm is at most max; returns the norm before clipping.",
                    example: "g = {W: full(3, 2, 2)}; clip_grad_norm(g, 1)",
                    details: """
                        As torch.nn.utils.clip_grad_norm_: the total norm is that of all of g's tensors
                        together; when it exceeds max every tensor is multiplied by max / (norm + 1e-6).
                        """) { _, g, maximum in
                var leaves: [Tensor] = []
                try collectTensors(g.value, into: &leaves)
                var total = 0.0
                for leaf in leaves {
                    let n = Double(try leaf.norm().scalarValue ?? 0)
                    total += n * n
                }
                let norm = total.squareRoot()
                let coefficient = maximum / (norm + 1e-6)
                if coefficient < 1 {
                    for leaf in leaves { try scale(leaf, by: Float(coefficient), g) }
                }
                return .number(norm)
            },
            builtin("warmup_cosine", .number("t"), .number("lr"), .number("warmup"), .number("total"), .number("min_lr", default: 0),
                    summary: "The learning rate at step t: a linear warm-up over warmup steps, then a cosine decay to min_lr at step total (as nanoGPT's).",
                    example: "[warmup_cosine(0, 1e-3, 10, 100), warmup_cosine(55, 1e-3, 10, 100), warmup_cosine(200, 1e-3, 10, 100)]",
                    details: """
                        lr * (t + 1) / (warmup + 1) while t < warmup; min_lr after total; between them
                        min_lr + (lr - min_lr) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2.
                        Set it each step: opt.lr = warmup_cosine(t, 3e-4, 100, 5000).
                        """) { _, t, lr, warmup, total, minimum in
                if t < warmup { return .number(lr * (t + 1) / (warmup + 1)) }
                if t > total { return .number(minimum) }
                let ratio = total > warmup ? (t - warmup) / (total - warmup) : 1
                return .number(minimum + 0.5 * (1 + Foundation.cos(Double.pi * ratio)) * (lr - minimum))
            },
            builtin("vocabulary", .string("text"),
                    summary: "The distinct characters of text, sorted, as one string: the vocabulary of a character-level model.",
                    example: "vocabulary(\"hello world\")",
                    details: "Sorted by their Unicode scalars, as Python's sorted(set(text)). encode and decode map characters to their positions in it and back.") { _, text in
                let distinct = Set(text)
                return .string(String(distinct.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }))
            },
            builtin("encode", .argument("text"), .argument("vocab"),
                    summary: "The characters of text as their positions in vocab: a tensor [n] of ids.",
                    example: "encode(\"hello\", vocabulary(\"hello world\"))",
                    details: "A character that vocab lacks is a value error naming it and its place in text.") { _, textArgument, vocabArgument in
                // text before vocab: an error about text comes first.
                let text = try textArgument.string(), vocab = try vocabArgument.string()
                var ids: [Character: Float] = [:]
                for (i, c) in vocab.enumerated() where ids[c] == nil { ids[c] = Float(i) }
                let count = text.count
                let out = try Tensor(uninitializedShape: [count])
                for (i, c) in text.enumerated() {
                    guard let id = ids[c] else {
                        throw TxError(.value, "encode: character \(String(c).debugDescription) (at \(i)) is not in the vocabulary", at: textArgument.span)
                    }
                    out.storage.pointer[i] = id
                }
                return .tensor(out)
            },
            builtin("decode", .argument("ids"), .argument("vocab"), .argument("skip_special", default: .bool(false), shown: "false"),
                    summary: "The string whose characters are vocab's at the positions ids: encode's inverse. decode(m, ids): a model's token ids as text.",
                    example: "v = vocabulary(\"hello world\"); decode(encode(\"hello\", v), v)",
                    details: """
                        With a model first (load_model's record), decode(m, ids) is Hugging Face's
                        tokenizer.decode for m: ids (a list, a tensor [n], or a tensor [b, n] for a list of b
                        texts, as tokenize's batch.ids) become their tokens joined by spaces, a ## piece
                        joined to the token before it and . , ? ! to the word before them (the WordPiece
                        decoder's cleanup). skip_special=true leaves out [CLS], [SEP], [PAD], [UNK] and [MASK],
                        as skip_special_tokens=True. The text is the normalised one (lower-cased, accents
                        stripped, punctuation spaced): decode(m, tokenize(m, "Héllo, World!"),
                        skip_special=true) is "hello, world!".
                        """) { args, idsArgument, vocabArgument, skipSpecial in
                // decode(m, ids): the model comes first, the ids second.
                if case .record(let model) = idsArgument.value {
                    return try callModelFunction("bert_decode", [.record(model), vocabArgument.value, skipSpecial.value], args)
                }
                if try skipSpecial.bool() {
                    throw TxError(.value, "decode: skip_special is for a model's token ids, decode(m, ids, skip_special=true)", at: skipSpecial.span)
                }
                let ids = try idsArgument.tensor().contiguous().values, vocab = Array(try vocabArgument.string())
                try Memory.checkRoom(for: StringValue.objectBytes + ids.count * 4, "decode's string")
                var text = ""
                for id in ids {
                    guard id >= 0, id < Float(vocab.count), id == id.rounded() else {
                        throw TxError(.value, "decode: id \(TensorFormatter.formatNumber(id)) is not a position in the vocabulary of \(vocab.count) characters", at: idsArgument.span)
                    }
                    text.append(vocab[Int(id)])
                }
                return .string(text)
            },
            builtin("progress", .argument("n"), .optionalArgument("show"),
                    summary: "range(n), or the range n, with a status line while a for loop runs over it: steps done, rate, time left, and show()'s value.",
                    example: "for t in progress(3) { }",
                    details: """
                        for t in progress(range(1000), show=fn() = format("loss {:.3f}", loss)) { ... } keeps one
                        line on the terminal, redrawn at most ten times a second: 120/1000  35.2 it/s  ETA 0:25
                        loss 2.113. show is called at each redraw (so it reads the latest values); its result
                        is shown as str shows it. The line goes to standard error and only when that is a
                        terminal: pipes, files and transcripts get nothing. The last line stays when the loop
                        ends, is left with break, or is stopped by Ctrl-C (which stops training between steps:
                        parameters updated with step stay as the last step left them).
                        """) { args, given, showArgument in
                let base: RangeValue
                switch given.value {
                case .range(let r): base = r
                default:
                    let n = try given.int()
                    guard n >= 0 else { throw TxError(.value, "progress: n must be a count >= 0, got \(n)", at: given.span) }
                    base = RangeValue(start: 0, stop: Double(n), step: 1)
                }
                let show = showArgument.value
                var render: (() -> String)? = nil
                if !show.isNone {
                    switch show {
                    case .function, .builtin: break
                    default: throw showArgument.typeError(expected: "a function of no arguments")
                    }
                    let interpreter = args.interpreter, span = showArgument.span
                    render = {
                        do { return Display.text(try interpreter.call(show, [], at: span)) } catch { return "?" }
                    }
                }
                return .range(RangeValue(start: base.start, step: base.step, count: base.count,
                                         progress: ProgressLine(total: base.count, show: render)))
            },
            builtin("get_batch", .argument("data"), .argument("block"), .argument("size"),
                    summary: "size random windows of block ids from data [n]: {x, y}, each [size, block], y shifted one ahead of x (the next-token targets).",
                    example: "seed(0); get_batch(arange(10), 4, 2)",
                    details: "Starts are drawn uniformly from 0..<n - block with the session's generator (see seed), as nanoGPT's get_batch. Split the data first: n = floor(0.9 * size(d, 0)); train = d[:n]; val = d[n:].") { args, dataArgument, blockArgument, sizeGiven in
                let data = try dataArgument.tensor(), block = try blockArgument.int(), size = try sizeGiven.int()
                guard data.rank == 1 else {
                    throw TxError(.shape, label: "shape mismatch in get_batch", "data must be a 1-D tensor of ids, got \(describe(shape: data.shape))", at: dataArgument.span)
                }
                let n = data.shape[0]
                guard block >= 1, n > block else {
                    throw TxError(.value, "get_batch: block must be in 1..<\(n) (the data's length), got \(block)", at: blockArgument.span)
                }
                guard size >= 1 else {
                    throw TxError(.value, "get_batch: size must be at least 1, got \(size)", at: sizeGiven.span)
                }
                let source = try data.contiguous()
                let values = source.storage.pointer + source.offset
                let x = try Tensor(uninitializedShape: [size, block]), y = try Tensor(uninitializedShape: [size, block])
                for b in 0..<size {
                    let start = min(Int(args.interpreter.random.uniform() * Double(n - block)), n - block - 1)
                    (x.storage.pointer + b * block).update(from: values + start, count: block)
                    (y.storage.pointer + b * block).update(from: values + start + 1, count: block)
                }
                return .record(RecordValue([("x", .tensor(x)), ("y", .tensor(y))]))
            },
        ]
    }

    /// targets as a tensor of class ids in 0..<C, shaped like logits without its last axis.
    private static func classIds(_ given: RawArgument, classesIn logits: Tensor, at logitsSpan: SourceSpan) throws -> Tensor {
        guard logits.rank >= 1, let classes = logits.shape.last, classes > 0 else {
            throw TxError(.shape, label: "shape mismatch in cross_entropy", "logits must be [..., C] with C >= 1 classes, got \(describe(shape: logits.shape))", at: logitsSpan)
        }
        let targets = try given.tensor()
        let expected = Array(logits.shape.dropLast())
        guard targets.shape == expected else {
            throw TxError(.shape, label: "shape mismatch in cross_entropy", "logits are \(describe(shape: logits.shape)), so targets must be \(describe(shape: expected)), got \(describe(shape: targets.shape))", at: given.span)
        }
        for value in try targets.contiguous().values where !(value >= 0 && value < Float(classes) && value == value.rounded()) {
            throw TxError(.value, "cross_entropy: target \(TensorFormatter.formatNumber(value)) is not a class id in 0..<\(classes)", at: given.span)
        }
        return targets
    }

    /// logits[..., targets[...]]: each row's logit of its target, as the sum of the row
    /// times a one-hot mask (a constant), so that the tape differentiates it.
    private static func picked(_ logits: Tensor, _ targets: Tensor) throws -> Tensor {
        let classes = try Tensor.arange(start: 0, stop: Double(logits.shape[logits.rank - 1]), step: 1)
        let oneHot = try Tensor.binary(.equal, targets.unsqueezed(axis: targets.rank), classes)
        return try Tensor.binary(.multiply, logits, oneHot).reduce(.sum, axes: [-1])
    }

    private static func adamRecord(kind: String, lr: Double, betas: [Double], eps: Double, weightDecay: Double) -> Value {
        var entries: [(String, Value)] = [("optimizer", .string(kind)), ("lr", .number(lr)),
                                          ("betas", .list(ListValue(betas.map { .number($0) }))),
                                          ("eps", .number(eps))]
        if kind == "adamw" { entries.append(("weight_decay", .number(weightDecay))) }
        entries += [("t", .number(0)), ("m", .none), ("v", .none)]
        return .record(RecordValue(entries))
    }

    /// Every tensor in a value (records and lists walked, a shared one once), in order.
    fileprivate static func collectTensors(_ value: Value, into leaves: inout [Tensor]) throws {
        _ = try Gradients.mapLeaves(value) { leaf in
            if case .tensor(let t) = leaf { leaves.append(t) }
            return leaf
        }
    }

    /// t *= factor, in place (t is a tensor of the argument g).
    fileprivate static func scale(_ t: Tensor, by factor: Float, _ g: RawArgument) throws {
        let buffer = try writable(t, of: g)
        for i in 0..<t.count { buffer[i] *= factor }
    }

    /// The elements of `t`, a tensor of `argument`, to be written in place: `t` must be
    /// contiguous (every tensor a computation or initialiser makes is).
    static func writable(_ t: Tensor, of argument: RawArgument) throws -> UnsafeMutablePointer<Float> {
        guard t.isContiguous else {
            throw TxError(.value, "\(argument.arguments.builtin.name): a tensor of \(argument.name) is a view with gaps (a transpose or a slice); copy it before training it", at: argument.span)
        }
        return t.storage.pointer + t.offset
    }
}

extension Param where T == [Double] {
    /// betas= of adam and adamw: two numbers in [0, 1) as a list or a 1-D tensor, or none
    /// for [0.9, 0.999].
    fileprivate static var betas: Param {
        .optional("betas", default: .none, shown: "[0.9, 0.999]") { args, name in
            let given = try args.value(name)
            if given.isNone { return [0.9, 0.999] }
            let values: [Double]
            switch given {
            case .list(let list): values = list.items.compactMap(Convert.number)
            case .tensor(let t) where t.rank == 1: values = t.values.map(Double.init)
            default: values = []
            }
            guard values.count == 2, values.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
                throw TxError(.value, "\(args.builtin.name): betas must be two numbers in [0, 1), e.g. [0.9, 0.999]", at: args.span(name))
            }
            return values
        }
    }
}
