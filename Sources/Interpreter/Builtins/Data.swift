import Lang
import Tensor

/// Text as data for a character-level model, as nanoGPT's prepare.py does it: the
/// vocabulary of a text, its characters as ids and back, and random batches of windows
/// (docs/LANGUAGE.md §6.15). Characters are what tx's strings index and iterate
/// (extended grapheme clusters).
extension Library {
    static func data() -> [Builtin] {
        [
            builtin("vocabulary", [.required("text")], "training",
                    "The distinct characters of text, sorted, as one string: the vocabulary of a character-level model.",
                    example: "vocabulary(\"hello world\")",
                    details: "Sorted by their Unicode scalars, as Python's sorted(set(text)). encode and decode map characters to their positions in it and back.") { args in
                let text = try args.string("text")
                let distinct = Set(text)
                return .string(String(distinct.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }))
            },
            builtin("encode", [.required("text"), .required("vocab")], "training",
                    "The characters of text as their positions in vocab: a tensor [n] of ids.",
                    example: "encode(\"hello\", vocabulary(\"hello world\"))",
                    details: "A character that vocab lacks is a value error naming it and its place in text.") { args in
                let text = try args.string("text"), vocab = try args.string("vocab")
                var ids: [Character: Float] = [:]
                for (i, c) in vocab.enumerated() where ids[c] == nil { ids[c] = Float(i) }
                let count = text.count
                let out = try Tensor(uninitializedShape: [count])
                for (i, c) in text.enumerated() {
                    guard let id = ids[c] else {
                        throw TxError(.value, "value error: encode: character \(String(c).debugDescription) (at \(i)) is not in the vocabulary", at: args.span("text"))
                    }
                    out.storage.pointer[i] = id
                }
                return .tensor(out)
            },
            builtin("decode", [.required("ids"), .required("vocab"), .optional("skip_special", .bool(false), "false")], "training",
                    "The string whose characters are vocab's at the positions ids: encode's inverse. decode(m, ids): a model's token ids as text.",
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
                        """) { args in
                if case .record(let model) = try args.value("ids") {
                    return try callModelFunction("bert_decode", [.record(model), try args.value("vocab"), try args.value("skip_special")], args)
                }
                if try args.bool("skip_special") {
                    throw TxError(.value, "value error: decode: skip_special is for a model's token ids, decode(m, ids, skip_special=true)", at: args.span("skip_special"))
                }
                let ids = try args.tensor("ids").contiguous().values, vocab = Array(try args.string("vocab"))
                try Memory.checkRoom(for: StringValue.objectBytes + ids.count * 4, "decode's string")
                var text = ""
                for id in ids {
                    guard id >= 0, id < Float(vocab.count), id == id.rounded() else {
                        throw TxError(.value, "value error: decode: id \(TensorFormatter.formatNumber(id)) is not a position in the vocabulary of \(vocab.count) characters", at: args.span("ids"))
                    }
                    text.append(vocab[Int(id)])
                }
                return .string(text)
            },
            builtin("progress", [.required("n"), .optional("show", .none, "none")], "training",
                    "range(n), or the range n, with a status line while a for loop runs over it: steps done, rate, time left, and show()'s value.",
                    example: "for t in progress(3) { }",
                    details: """
                        for t in progress(range(1000), show=fn() = format("loss {:.3f}", loss)) { ... } keeps one
                        line on the terminal, redrawn at most ten times a second: 120/1000  35.2 it/s  ETA 0:25
                        loss 2.113. show is called at each redraw (so it reads the latest values); its result
                        is shown as str shows it. The line goes to standard error and only when that is a
                        terminal: pipes, files and transcripts get nothing. The last line stays when the loop
                        ends, is left with break, or is stopped by Ctrl-C (which stops training between steps:
                        parameters updated with step stay as the last step left them).
                        """) { args in
                let given = try args.value("n")
                let base: RangeValue
                switch given {
                case .range(let r): base = r
                default:
                    let n = try args.int("n")
                    guard n >= 0 else { throw TxError(.value, "value error: progress: n must be a count >= 0, got \(n)", at: args.span("n")) }
                    base = RangeValue(start: 0, stop: Double(n), step: 1)
                }
                let show = try args.value("show")
                var render: (() -> String)? = nil
                if !show.isNone {
                    switch show {
                    case .function, .builtin: break
                    default: throw args.typeError("show", expected: "a function of no arguments", got: show)
                    }
                    let interpreter = args.interpreter, span = args.span("show")
                    render = {
                        do { return Display.text(try interpreter.call(show, [], at: span)) } catch { return "?" }
                    }
                }
                return .range(RangeValue(start: base.start, step: base.step, count: base.count,
                                         progress: ProgressLine(total: base.count, show: render)))
            },
            builtin("get_batch", [.required("data"), .required("block"), .required("size")], "training",
                    "size random windows of block ids from data [n]: {x, y}, each [size, block], y shifted one ahead of x (the next-token targets).",
                    example: "seed(0); get_batch(arange(10), 4, 2)",
                    details: "Starts are drawn uniformly from 0..<n - block with the session's generator (see seed), as nanoGPT's get_batch. Split the data first: n = floor(0.9 * size(d, 0)); train = d[:n]; val = d[n:].") { args in
                let data = try args.tensor("data"), block = try args.int("block"), size = try args.int("size")
                guard data.rank == 1 else {
                    throw TxError(.shape, "shape mismatch in get_batch: data must be a 1-D tensor of ids, got \(describe(shape: data.shape))", at: args.span("data"))
                }
                let n = data.shape[0]
                guard block >= 1, n > block else {
                    throw TxError(.value, "value error: get_batch: block must be in 1..<\(n) (the data's length), got \(block)", at: args.span("block"))
                }
                guard size >= 1 else {
                    throw TxError(.value, "value error: get_batch: size must be at least 1, got \(size)", at: args.span("size"))
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
}
