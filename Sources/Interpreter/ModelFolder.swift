import Glibc
import Lang
import Tensor

/// A Hugging Face BERT model folder, read and checked before lib/bert.tx maps its weights
/// onto tx's blocks. Every setting tx honours is read here (the tokenizer's casing, the
/// sentence-transformers modules, the maximum length, the head); one it cannot honour is
/// refused, naming the file and the setting; every tensor the model runs is checked by
/// name and by the shape config.json gives it. A folder that loads therefore runs:
/// nothing fails later inside lib/bert.tx for want of a token, a position or a tensor.
struct ModelFolder {
    let path: String
    let span: SourceSpan
    private let files: [String]
    private let config: [(String, JSON)]

    /// What `load_model` in lib/bert.tx maps: the folder's settings and its tensors.
    static func read(_ path: String, at span: SourceSpan) throws -> RecordValue {
        try ModelFolder(path, at: span).settings()
    }

    private init(_ path: String, at span: SourceSpan) throws {
        self.path = path
        self.span = span
        files = ModelFolder.list(path)
        guard case .object(let members)? = try ModelFolder.json(path + "/config.json", at: span) else {
            throw TxError(.io, "\(path)/config.json is not a JSON object", at: span)
        }
        config = members
    }

    // MARK: The settings

    private func settings() throws -> RecordValue {
        let modelType = configString("model_type") ?? "none"
        guard modelType == "bert" else {
            throw refusal("config.json: model_type is \(Display.quoted(modelType)); load_model reads BERT models (model_type \"bert\")")
        }
        let activation = configString("hidden_act") ?? "gelu"
        guard activation == "gelu" || activation == "relu" else {
            throw refusal("config.json: hidden_act is \(Display.quoted(activation)); tx's blocks compute \"gelu\" (the exact GELU) and \"relu\", and \(activation) differs from both")
        }
        if let kind = configString("position_embedding_type"), kind != "absolute" {
            throw refusal("config.json: position_embedding_type is \(Display.quoted(kind)); tx's BERT adds learned absolute positions (\"absolute\")")
        }
        let d = try configInt("hidden_size"), layers = try configInt("num_hidden_layers"), heads = try configInt("num_attention_heads")
        let ff = try configInt("intermediate_size"), positions = try configInt("max_position_embeddings")
        let rows = try configInt("vocab_size"), types = try configInt("type_vocab_size")
        guard heads > 0, d % heads == 0 else {
            throw refusal("config.json: hidden_size \(d) is not a multiple of num_attention_heads \(heads)")
        }
        let architecture = configArchitecture()
        let head: String? = switch architecture {
        case "BertForMaskedLM", "BertForPreTraining": "masked_lm"
        case "BertForSequenceClassification": "classifier"
        default: nil
        }
        // What every text needs, checked here rather than found missing in lib/bert.tx.
        guard layers >= 1 else {
            throw refusal("config.json: num_hidden_layers is 0; tx's BERT runs at least one encoder layer")
        }
        guard types >= 1 else {
            throw refusal("config.json: type_vocab_size is 0; every token has a token type (0, and 1 for the second text of a pair)")
        }
        let specials = head == "classifier" ? 3 : 2
        guard positions >= specials else {
            throw refusal("config.json: max_position_embeddings is \(positions); every text takes at least \(specials) positions (\(head == "classifier" ? "[CLS] a [SEP] b [SEP] for a pair" : "[CLS] and [SEP]"))")
        }

        let out = RecordValue()
        out["folder"] = .string(path)
        out["config"] = FileContents.value(of: .object(config))
        out["architecture"] = .string(architecture)
        out["head"] = head.map { Value.string($0) } ?? Value.none
        out["activation"] = .string(activation)
        var eps = 1e-12
        if case .number(let x)? = configValue("layer_norm_eps") { eps = x }
        out["eps"] = .number(eps)

        let vocab = try vocabulary()
        try checkVocabulary(vocab, rows: rows, head: head)
        out["vocab"] = .list(ListValue(vocab.map { .string($0) }))
        let (lower, strip) = try casing()
        out["lower"] = .bool(lower)
        out["strip_accents"] = .bool(strip)
        out["max_length"] = .number(Double(try maxLength(positions: positions)))
        let (pooling, normalize) = try modules(d: d)
        out["pooling"] = .list(ListValue(pooling.map { .string($0) }))
        out["normalize"] = .bool(normalize)

        var labels: [String] = []
        if head == "classifier" {
            guard types >= 2 else {
                throw refusal("config.json: type_vocab_size is \(types); score_pairs gives the second sentence of a pair token type 1")
            }
            labels = try classLabels()
            out["labels"] = .list(ListValue(labels.map { .string($0) }))
            out["score"] = .string(try scoreActivation(labels: labels.count))
        }
        let tied = configBool("tie_word_embeddings") ?? true
        out["tied"] = .bool(tied)
        try weights(into: out, d: d, layers: layers, ff: ff, positions: positions, rows: rows, types: types,
                    head: head, labels: labels.count, tied: tied)
        return out
    }

    /// The vocabulary, one token per id: vocab.txt (lines ended by \n or \r\n, as
    /// Python's universal newlines and Rust's lines() read it), else tokenizer.json's
    /// WordPiece vocabulary.
    private func vocabulary() throws -> [String] {
        if files.contains("vocab.txt") {
            let bytes = try readFile(path: path + "/vocab.txt")
            var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
                String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
            }
            if lines.last?.isEmpty == true { lines.removeLast() }
            return lines
        }
        if files.contains("tokenizer.json") {
            guard case .object(let tokenizer)? = try ModelFolder.json(path + "/tokenizer.json", at: span),
                  case .object(let model)? = tokenizer.first(where: { $0.0 == "model" })?.1 else {
                throw refusal("tokenizer.json has no \"model\" object")
            }
            guard case .string("WordPiece")? = model.first(where: { $0.0 == "type" })?.1,
                  case .object(let entries)? = model.first(where: { $0.0 == "vocab" })?.1 else {
                throw refusal("tokenizer.json: the tokenizer's model is not WordPiece with a vocab; tx's BERT tokenizer is WordPiece")
            }
            var tokens = [String?](repeating: nil, count: entries.count)
            for (token, id) in entries {
                guard case .number(let x) = id, x >= 0, x < Double(entries.count), x == x.rounded(), tokens[Int(x)] == nil else {
                    throw refusal("tokenizer.json: the vocab's ids are not 0 to \(entries.count - 1), each once (\(Display.quoted(token)))")
                }
                tokens[Int(x)] = token
            }
            return tokens.map { $0 ?? "" }
        }
        throw missing("vocab.txt", "tx reads the WordPiece vocabulary from vocab.txt, or else from tokenizer.json")
    }

    private func checkVocabulary(_ vocab: [String], rows: Int, head: String?) throws {
        let file = files.contains("vocab.txt") ? "vocab.txt" : "tokenizer.json"
        guard vocab.count <= rows else {
            throw refusal("\(file) has \(vocab.count) tokens, more than the \(rows) rows of the word embeddings (config.json's vocab_size): the last ids would have no embedding")
        }
        let tokenizer = try ModelFolder.json(path + "/tokenizer_config.json", at: span, optional: true)
        for (role, token) in [("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("mask_token", "[MASK]")] {
            if let named = ModelFolder.specialToken(role, in: tokenizer), named != token {
                throw refusal("tokenizer_config.json: \(role) is \(Display.quoted(named)); tx's BERT tokenizer uses \(token)")
            }
            guard token != "[MASK]" || head == "masked_lm" else { continue }
            guard vocab.contains(token) else {
                let why = switch token {
                case "[CLS]": "tx's BERT tokenizer starts every text with it"
                case "[SEP]": "tx's BERT tokenizer ends every text (and sentence of a pair) with it"
                case "[PAD]": "tx pads the texts of a batch with it"
                case "[UNK]": "WordPiece gives it for every word it cannot split"
                default: "fill_mask looks for it in the text"
                }
                throw refusal("\(file) has no \(token): \(why)")
            }
        }
    }

    /// Whether the tokenizer lower-cases and strips accents: tokenizer_config.json's
    /// do_lower_case and strip_accents (as transformers reads them), else tokenizer.json's
    /// BertNormalizer; sentence_bert_config.json's do_lower_case lower-cases the text first.
    private func casing() throws -> (lower: Bool, strip: Bool) {
        var lower = true
        var strip: Bool?
        var chinese = true
        var source = "tokenizer_config.json"
        if case .object(let members)? = try ModelFolder.json(path + "/tokenizer_config.json", at: span, optional: true) {
            let value = { (key: String) in members.first { $0.0 == key }?.1 }
            if case .bool(let b)? = value("do_lower_case") { lower = b }
            if case .bool(let b)? = value("strip_accents") { strip = b }
            if case .bool(let b)? = value("tokenize_chinese_chars") { chinese = b }
        } else if case .object(let members)? = try ModelFolder.json(path + "/tokenizer.json", at: span, optional: true),
                  let normalizer = members.first(where: { $0.0 == "normalizer" })?.1, normalizer != .null {
            source = "tokenizer.json"
            guard case .object(let fields) = normalizer, case .string("BertNormalizer")? = fields.first(where: { $0.0 == "type" })?.1 else {
                throw refusal("tokenizer.json: the normalizer is not a BertNormalizer; tx's BERT tokenizer normalises as BertNormalizer does")
            }
            let value = { (key: String) in fields.first { $0.0 == key }?.1 }
            if case .bool(let b)? = value("lowercase") { lower = b }
            if case .bool(let b)? = value("strip_accents") { strip = b }
            if case .bool(let b)? = value("handle_chinese_chars") { chinese = b }
        }
        guard chinese else {
            throw refusal("\(source): CJK characters are not split (tokenize_chinese_chars false); tx's BERT tokenizer always splits them")
        }
        if case .object(let members)? = try ModelFolder.json(path + "/sentence_bert_config.json", at: span, optional: true),
           case .bool(true)? = members.first(where: { $0.0 == "do_lower_case" })?.1 {
            return (true, strip ?? lower)
        }
        return (lower, strip ?? lower)
    }

    /// sentence_bert_config.json's max_seq_length, else the smaller of the positions and
    /// tokenizer_config.json's model_max_length (sentence-transformers' and CrossEncoder's rule).
    private func maxLength(positions: Int) throws -> Int {
        if case .object(let members)? = try ModelFolder.json(path + "/sentence_bert_config.json", at: span, optional: true),
           let value = members.first(where: { $0.0 == "max_seq_length" })?.1, value != .null {
            guard case .number(let x) = value, x >= 2, x == x.rounded(), x < 1e9 else {
                throw refusal("sentence_bert_config.json: max_seq_length must be a whole number of at least 2")
            }
            guard Int(x) <= positions else {
                throw refusal("sentence_bert_config.json: max_seq_length \(Int(x)) is more than the model's \(positions) positions (config.json's max_position_embeddings)")
            }
            return Int(x)
        }
        if case .object(let members)? = try ModelFolder.json(path + "/tokenizer_config.json", at: span, optional: true),
           case .number(let x)? = members.first(where: { $0.0 == "model_max_length" })?.1, x >= 2 {
            return x < Double(positions) ? Int(x) : positions
        }
        return positions
    }

    /// What embed computes after the encoder: modules.json's Pooling (its config.json) and
    /// whether a Normalize module follows. Without modules.json, sentence-transformers
    /// pools by the mean and does not normalise.
    private func modules(d: Int) throws -> (pooling: [String], normalize: Bool) {
        guard case .array(let list)? = try ModelFolder.json(path + "/modules.json", at: span, optional: true) else {
            return (["mean"], false)
        }
        var pooling: [String]?
        var normalize = false
        for (i, module) in list.enumerated() {
            guard case .object(let fields) = module, case .string(let type)? = fields.first(where: { $0.0 == "type" })?.1 else {
                throw refusal("modules.json: module \(i) has no type")
            }
            var folder = ""
            if case .string(let p)? = fields.first(where: { $0.0 == "path" })?.1 { folder = p }
            switch type.split(separator: ".").last.map(String.init) ?? type {
            case "Transformer" where folder.isEmpty && i == 0: continue
            case "Pooling" where pooling == nil && !normalize: pooling = try poolingModes(folder, d: d)
            case "Normalize" where !normalize: normalize = true
            default:
                throw refusal("modules.json: module \(i) is \(type)\(folder.isEmpty ? "" : " (\(folder))"); tx's embed runs the Transformer of this folder, then Pooling, then Normalize, and no other module")
            }
        }
        guard let pooling else {
            throw refusal("modules.json has no Pooling module; tx's embed pools the token states into one vector per text")
        }
        return (pooling, normalize)
    }

    /// The pooling modes of a Pooling module's config.json, in the order
    /// sentence-transformers concatenates them: the classic pooling_mode_* flags, or
    /// sentence-transformers 6's pooling_mode (a name or a list of names).
    private func poolingModes(_ folder: String, d: Int) throws -> [String] {
        let file = (folder.isEmpty ? "" : folder + "/") + "config.json"
        guard case .object(let members)? = try ModelFolder.json(path + "/" + file, at: span) else {
            throw refusal("\(file) is not a JSON object")
        }
        let value = { (key: String) in members.first { $0.0 == key }?.1 }
        if case .number(let x)? = value("word_embedding_dimension") ?? value("embedding_dimension"), Int(x) != d {
            throw refusal("\(file): the embedding dimension is \(Int(x)), config.json's hidden_size \(d)")
        }
        let known = ["cls", "max", "mean", "mean_sqrt_len_tokens"]
        var modes: [String] = []
        switch value("pooling_mode") {
        case .string(let name)?: modes = [name]
        case .array(let names)?:
            modes = try names.map { name in
                guard case .string(let s) = name else { throw refusal("\(file): pooling_mode lists a value that is not a name") }
                return s
            }
        default:
            let flags = [("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"), ("pooling_mode_mean_tokens", "mean"),
                         ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
                         ("pooling_mode_weightedmean_tokens", "weightedmean"), ("pooling_mode_lasttoken", "lasttoken")]
            for (key, mode) in flags where value(key) == .bool(true) {
                modes.append(mode)
                if !known.contains(mode) {
                    throw refusal("\(file): \(key) is true; tx's embed pools by cls, max, mean and mean_sqrt_len_tokens only")
                }
            }
        }
        if modes.isEmpty { throw refusal("\(file): no pooling mode is chosen") }
        for mode in modes where !known.contains(mode) {
            throw refusal("\(file): pooling_mode \(Display.quoted(mode)); tx's embed pools by cls, max, mean and mean_sqrt_len_tokens only")
        }
        // Concatenated in sentence-transformers' order, whatever the order of the list.
        return known.filter(modes.contains)
    }

    /// A classifier's labels in the order of its outputs: config.json's id2label, else
    /// num_labels (2 by default) named LABEL_0, LABEL_1, ...
    private func classLabels() throws -> [String] {
        if case .object(let entries)? = configValue("id2label"), !entries.isEmpty {
            var labels = [String?](repeating: nil, count: entries.count)
            for (key, name) in entries {
                guard let i = Int(key), i >= 0, i < entries.count, labels[i] == nil, case .string(let s) = name else {
                    throw refusal("config.json: id2label must name the ids 0 to \(entries.count - 1) once each")
                }
                labels[i] = s
            }
            return labels.map { $0 ?? "" }
        }
        let n = (try? configInt("num_labels")) ?? 2
        return (0..<n).map { "LABEL_\($0)" }
    }

    /// The activation sentence-transformers' CrossEncoder applies to the logits: the one
    /// config.json names, else a sigmoid for one label and none for several.
    private func scoreActivation(labels: Int) throws -> String {
        var named: String?
        if case .object(let st)? = configValue("sentence_transformers"),
           case .string(let s)? = st.first(where: { $0.0 == "activation_fn" })?.1 {
            named = s
        } else if case .string(let s)? = configValue("sbert_ce_default_activation_function") {
            named = s
        }
        guard let named else { return labels == 1 ? "sigmoid" : "identity" }
        switch named.split(separator: ".").last {
        case "Sigmoid": return "sigmoid"
        case "Identity": return "identity"
        default: throw refusal("config.json: the cross-encoder's activation_fn is \(named); tx's score_pairs applies Sigmoid or Identity")
        }
    }

    // MARK: The tensors

    /// Reads model.safetensors (or the shards model.safetensors.index.json lists) and
    /// checks every tensor the model runs; puts into `out` the base model's tensors
    /// (`base`, without the "bert." prefix), the head's (`head_weights`, by their names) and
    /// the others (`unused`, by their full names), and the prefix.
    private func weights(into out: RecordValue, d: Int, layers: Int, ff: Int, positions: Int, rows: Int, types: Int,
                         head: String?, labels: Int, tied: Bool) throws {
        let (file, read) = try readTensors()
        // Checkpoints converted from TensorFlow (bert-base-uncased's) name LayerNorm's
        // parameters gamma and beta; transformers reads them as weight and bias.
        let tensors = read.map { entry in
            var name = entry.name
            if name.hasSuffix("LayerNorm.gamma") { name = name.dropLast("gamma".count) + "weight" }
            if name.hasSuffix("LayerNorm.beta") { name = name.dropLast("beta".count) + "bias" }
            return (name: name, tensor: entry.tensor)
        }
        var shapes: [String: [Int]] = [:]
        for (name, tensor) in tensors { shapes[name] = tensor.shape }
        let prefix = shapes.keys.contains { $0.hasPrefix("bert.embeddings.") } ? "bert." : ""

        var expected: [(name: String, shape: [Int], what: String)] = [
            ("embeddings.word_embeddings.weight", [rows, d], "the word embeddings"),
            ("embeddings.position_embeddings.weight", [positions, d], "the position embeddings"),
            ("embeddings.token_type_embeddings.weight", [types, d], "the token type embeddings"),
            ("embeddings.LayerNorm.weight", [d], "the embeddings' LayerNorm"),
            ("embeddings.LayerNorm.bias", [d], "the embeddings' LayerNorm"),
        ]
        var found = Set<Int>()
        for name in shapes.keys where name.hasPrefix(prefix + "encoder.layer.") {
            let rest = name.dropFirst((prefix + "encoder.layer.").count)
            if let n = Int(rest.prefix { $0 != "." }) { found.insert(n) }
        }
        // Each of 0 to layers - 1, and no other (without a set of all of them: config.json
        // may say a billion).
        guard found.count == layers, found.allSatisfy({ (0..<layers).contains($0) }) else {
            let sorted = found.sorted()
            let have = sorted.prefix(12).map(String.init).joined(separator: ", ") + (sorted.count > 12 ? ", … (\(sorted.count) layers)" : "")
            throw refusal("\(file) holds encoder layers \(have.isEmpty ? "none" : have); config.json's num_hidden_layers \(layers) needs layers 0 to \(layers - 1)")
        }
        for l in 0..<layers {
            let layer = "encoder.layer.\(l)."
            for (part, what) in [("query", "query"), ("key", "key"), ("value", "value")] {
                expected.append((layer + "attention.self.\(part).weight", [d, d], "layer \(l): the attention's \(what) weight"))
                expected.append((layer + "attention.self.\(part).bias", [d], "layer \(l): the attention's \(what) bias"))
            }
            expected += [
                (layer + "attention.output.dense.weight", [d, d], "layer \(l): the attention's output weight"),
                (layer + "attention.output.dense.bias", [d], "layer \(l): the attention's output bias"),
                (layer + "attention.output.LayerNorm.weight", [d], "layer \(l): the LayerNorm after attention"),
                (layer + "attention.output.LayerNorm.bias", [d], "layer \(l): the LayerNorm after attention"),
                (layer + "intermediate.dense.weight", [ff, d], "layer \(l): the feed-forward's first weight"),
                (layer + "intermediate.dense.bias", [ff], "layer \(l): the feed-forward's first bias"),
                (layer + "output.dense.weight", [d, ff], "layer \(l): the feed-forward's second weight"),
                (layer + "output.dense.bias", [d], "layer \(l): the feed-forward's second bias"),
                (layer + "output.LayerNorm.weight", [d], "layer \(l): the LayerNorm after the feed-forward"),
                (layer + "output.LayerNorm.bias", [d], "layer \(l): the LayerNorm after the feed-forward"),
            ]
        }
        var headExpected: [(name: String, shape: [Int], what: String)] = []
        if head == "classifier" {
            expected += [("pooler.dense.weight", [d, d], "the pooler's weight"), ("pooler.dense.bias", [d], "the pooler's bias")]
            headExpected = [("classifier.weight", [labels, d], "the classifier's weight (\(labels) labels)"),
                            ("classifier.bias", [labels], "the classifier's bias")]
        } else if head == "masked_lm" {
            headExpected = [
                ("cls.predictions.transform.dense.weight", [d, d], "the masked-LM head's dense weight"),
                ("cls.predictions.transform.dense.bias", [d], "the masked-LM head's dense bias"),
                ("cls.predictions.transform.LayerNorm.weight", [d], "the masked-LM head's LayerNorm"),
                ("cls.predictions.transform.LayerNorm.bias", [d], "the masked-LM head's LayerNorm"),
                ("cls.predictions.bias", [rows], "the masked-LM head's output bias"),
            ]
            if !tied { headExpected.append(("cls.predictions.decoder.weight", [rows, d], "the masked-LM head's decoder (tie_word_embeddings is false)")) }
        }
        let named = expected.map { (name: prefix + $0.name, shape: $0.shape, what: $0.what) } + headExpected
        for (name, shape, what) in named {
            guard let actual = shapes[name] else {
                throw refusal("\(file) has no \(name) (\(what), \(describe(shape: shape)))")
            }
            guard actual == shape else {
                throw refusal("\(file): \(name) (\(what)) is \(describe(shape: actual)); config.json makes it \(describe(shape: shape))")
            }
        }

        // The base model's tensors (its embeddings whole, position_ids included), the
        // head's, and the rest.
        let used = Set(named.map(\.name))
        var base: [(name: String, value: Value)] = [], headWeights: [(name: String, value: Value)] = []
        let unused = RecordValue()
        for (name, tensor) in tensors {
            if headExpected.contains(where: { $0.name == name }) {
                headWeights.append((name, .tensor(tensor)))
            } else if used.contains(name) || name.hasPrefix(prefix + "embeddings.") {
                base.append((String(name.dropFirst(prefix.count)), .tensor(tensor)))
            } else {
                unused[name] = .tensor(tensor)
            }
        }
        out["prefix"] = .string(prefix)
        out["base"] = try TensorRecords.nest(base, from: path + "/" + file, at: span)
        out["head_weights"] = try TensorRecords.nest(headWeights, from: path + "/" + file, at: span)
        out["unused"] = .record(unused)
    }

    /// The tensors of model.safetensors, or of every shard model.safetensors.index.json
    /// names, and the file to name in errors.
    private func readTensors() throws -> (file: String, tensors: [(name: String, tensor: Tensor)]) {
        do {
            if files.contains("model.safetensors") {
                return ("model.safetensors", try SafeTensors.load(path: path + "/model.safetensors"))
            }
            let index = "model.safetensors.index.json"
            if files.contains(index) {
                guard case .object(let members)? = try ModelFolder.json(path + "/" + index, at: span),
                      case .object(let map)? = members.first(where: { $0.0 == "weight_map" })?.1 else {
                    throw refusal("\(index) has no weight_map")
                }
                var shards: [String] = []
                for (_, file) in map {
                    guard case .string(let shard) = file, !shard.contains("/") else { throw refusal("\(index): a weight_map entry is not a file of the folder") }
                    if !shards.contains(shard) { shards.append(shard) }
                }
                var tensors: [(name: String, tensor: Tensor)] = []
                var seen = Set<String>()
                for shard in shards {
                    guard files.contains(shard) else { throw missing(shard, "\(index) lists it") }
                    for entry in try SafeTensors.load(path: path + "/" + shard) {
                        guard seen.insert(entry.name).inserted else { throw refusal("\(entry.name) is in two shards (\(shard) and another)") }
                        tensors.append(entry)
                    }
                }
                return (index, tensors)
            }
        } catch let error as TensorError {
            throw TxError(error, at: span)
        }
        var hint = "tx reads the weights from model.safetensors, or from the shards model.safetensors.index.json lists"
        if files.contains("pytorch_model.bin") {
            hint += """
                . pytorch_model.bin is PyTorch's pickle format, which tx does not read; convert it once with
                    python3 -c "import torch; from safetensors.torch import save_file; w = torch.load('\(path)/pytorch_model.bin', map_location='cpu'); save_file({k: v.clone().contiguous() for k, v in w.items()}, '\(path)/model.safetensors')"
                """
        } else if files.contains("pytorch_model.bin.index.json") {
            hint += ". pytorch_model-*.bin are PyTorch's pickle shards, which tx does not read; save the model again with transformers' save_pretrained (safetensors by default)"
        }
        throw missing("model.safetensors", hint)
    }

    // MARK: Reading

    private func refusal(_ message: String) -> TxError {
        TxError(.value, "load_model: \(path)/\(message)", at: span)
    }

    private func missing(_ file: String, _ why: String) -> TxError {
        let shown = files.count > 12 ? files.prefix(12).joined(separator: ", ") + ", …" : files.joined(separator: ", ")
        return TxError(.io, "load_model: \(path) has no \(file) (it holds \(shown.isEmpty ? "no files" : shown)); \(why)", at: span)
    }

    private func configValue(_ key: String) -> JSON? { config.first { $0.0 == key }?.1 }

    private func configString(_ key: String) -> String? {
        if case .string(let s)? = configValue(key) { return s }
        return nil
    }

    private func configBool(_ key: String) -> Bool? {
        if case .bool(let b)? = configValue(key) { return b }
        return nil
    }

    private func configInt(_ key: String) throws -> Int {
        guard case .number(let x)? = configValue(key), x >= 0, x == x.rounded(), x < 1e9 else {
            throw refusal("config.json: \(key) is missing or not a whole number")
        }
        return Int(x)
    }

    private func configArchitecture() -> String {
        if case .array(let names)? = configValue("architectures"), case .string(let first)? = names.first { return first }
        return "BertModel"
    }

    /// A special token as tokenizer_config.json names it: a string, or {"content": ...}.
    private static func specialToken(_ role: String, in config: JSON?) -> String? {
        guard case .object(let members)? = config, let value = members.first(where: { $0.0 == role })?.1 else { return nil }
        switch value {
        case .string(let s): return s
        case .object(let fields):
            if case .string(let s)? = fields.first(where: { $0.0 == "content" })?.1 { return s }
            return nil
        default: return nil
        }
    }

    /// A JSON file of the folder; nil when `optional` and it is not there.
    private static func json(_ file: String, at span: SourceSpan, optional: Bool = false) throws -> JSON? {
        var info = stat()
        if optional && stat(file, &info) != 0 { return nil }
        do {
            return try JSON.parse(try readFile(path: file), what: "JSON in \(file)")
        } catch let error as TensorError {
            throw TxError(error, at: span)
        }
    }

    /// The names in a folder, sorted (files and folders alike).
    private static func list(_ folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

// MARK: The model record

extension ModelFolder {
    /// The role of load_model's record: a summary in place of its fields, and no
    /// max_length the model cannot run, nor settings embed and tokenize cannot read.
    static let role = RecordRole(summary: modelSummary, refusal: fieldRefusal)

    private static func fieldRefusal(_ m: RecordValue, _ key: String, _ value: Value) -> String? {
        switch key {
        case "max_length":
            let positions = tensor(m, "embeddings", "position_embeddings", "weight")?.shape.first ?? 0
            guard let x = Convert.number(value), x == x.rounded(), x >= 2, x <= Double(positions) else {
                return "m.max_length = \(Display.short(value)): the model has \(positions) positions (config.json's max_position_embeddings), so max_length is a whole number from 2 to \(positions)"
            }
        case "lower", "strip_accents", "normalize":
            guard case .bool = value else { return "m.\(key) is true or false, not \(Display.short(value))" }
        case "pooling":
            let known = ["cls", "max", "mean", "mean_sqrt_len_tokens"]
            guard case .list(let modes) = value, !modes.items.isEmpty, modes.items.allSatisfy({ mode in
                if case .string(let s) = mode { return known.contains(s.text) }
                return false
            }) else {
                return "m.pooling is a list of \(known.map(Display.quoted).joined(separator: ", ")) (at least one), not \(Display.short(value))"
            }
        default: break
        }
        return nil
    }

    /// As PyTorch prints a module: what the model is, its sizes and its parameter count.
    private static func modelSummary(_ m: RecordValue, oneLine: Bool) -> String {
        let architecture = string(m, "architecture") ?? "BertModel"
        let folder = string(m, "folder") ?? "?"
        let name = folder.split(separator: "/").last.map(String.init) ?? folder
        let layers: [Value] = if case .list(let l)? = field(m, "encoder", "layers") { l.items } else { [] }
        let word = tensor(m, "embeddings", "word_embeddings", "weight")?.shape ?? []
        let d = word.last ?? 0
        // Parameters, as PyTorch counts them: not the position_ids buffer, nor unused tensors.
        let counted = grouped(count(m["embeddings"], skipping: "position_ids") + count(m["encoder"]) + count(m["head"]))
        if oneLine { return "<model \(architecture) \(name): \(layers.count) layers, d \(d), \(counted) parameters>" }

        func shape(_ path: String...) -> String { tensor(m, path).map { describe(shape: $0.shape) } ?? "?" }
        var lines = ["\(architecture) from \(folder): \(counted) parameters"]
        lines.append("  embeddings  word \(shape("embeddings", "word_embeddings", "weight")), position \(shape("embeddings", "position_embeddings", "weight")), types \(shape("embeddings", "token_type_embeddings", "weight")), LayerNorm")
        let heads = number(m, "heads").map { Int($0) } ?? 0
        let ff = tensor(m, "encoder", "layers", "0", "ffn", "W1")?.shape.last ?? 0
        let activation = string(m, "activation") ?? "?"
        lines.append("  encoder     \(layers.count) × encoder_block: \(heads) heads of \(heads > 0 ? d / heads : 0), ffn \(d) → \(ff) → \(d) \(activation), post-LN")
        if case .record(let head)? = m["head"] {
            switch string(head, "kind") {
            case "masked_lm":
                let decoder = head["decoder"]?.isNone ?? true ? "tied decoder" : "decoder \(shape("head", "decoder"))"
                lines.append("  head        masked LM for fill_mask: dense, \(activation), LayerNorm, \(decoder)")
            case "classifier":
                let labels: [String] = if case .list(let l)? = head["labels"] { l.items.map(Display.text) } else { [] }
                let activation = string(head, "activation") ?? "identity"
                let named = labels.count <= 3 ? " (\(labels.joined(separator: ", ")))" : ""
                lines.append("  head        classifier for score_pairs: pooler, \(labels.count) label\(labels.count == 1 ? "" : "s")\(named), \(activation)")
            default: break
            }
        }
        var casing = "cased"
        if case .bool(true)? = m["lower"] { casing = "lower-cased" }
        if case .bool(true)? = m["strip_accents"] { casing += ", accents stripped" }
        let vocabulary: Int = if case .list(let l)? = m["vocab"] { l.items.count } else { 0 }
        let maxLength = number(m, "max_length").map { TensorFormatter.formatNumber($0) } ?? "?"
        let positions = tensor(m, "embeddings", "position_embeddings", "weight")?.shape.first ?? 0
        lines.append("  tokenizer   \(grouped(vocabulary)) WordPiece tokens, \(casing), max_length \(maxLength) of \(positions)")
        let pooling: [String] = if case .list(let l)? = m["pooling"] { l.items.map(Display.text) } else { [] }
        var normalised = "not normalised"
        if case .bool(true)? = m["normalize"] { normalised = "normalised" }
        lines.append("  embed       \(pooling.joined(separator: " + ")) pooling, \(normalised)")
        if case .record(let unused)? = m["unused"], unused.count > 0 {
            let names = unused.keys.prefix(4).joined(separator: ", ") + (unused.count > 4 ? ", …" : "")
            lines.append("  unused      \(unused.count) tensor\(unused.count == 1 ? "" : "s") (\(names)), kept for save_model")
        }
        // The field names, wrapped at 80 columns.
        var line = "  fields      "
        for (i, key) in m.keys.enumerated() {
            let piece = key + (i + 1 < m.keys.count ? "," : "")
            if line.count + 1 + piece.count > 80 && !line.hasSuffix("  ") {
                lines.append(line)
                line = String(repeating: " ", count: 14)
            } else if !line.hasSuffix("  ") {
                line += " "
            }
            line += piece
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    private static func field(_ record: RecordValue, _ path: String...) -> Value? { field(record, path) }

    private static func field(_ record: RecordValue, _ path: [String]) -> Value? {
        var current = Value.record(record)
        for part in path {
            switch current {
            case .record(let r): guard let next = r[part] else { return nil }; current = next
            case .list(let l): guard let i = Int(part), i >= 0, i < l.items.count else { return nil }; current = l.items[i]
            default: return nil
            }
        }
        return current
    }

    private static func tensor(_ record: RecordValue, _ path: String...) -> Tensor? { tensor(record, path) }

    private static func tensor(_ record: RecordValue, _ path: [String]) -> Tensor? {
        if case .tensor(let t)? = field(record, path) { return t }
        return nil
    }

    private static func string(_ record: RecordValue, _ key: String) -> String? {
        if case .string(let s)? = record[key] { return s.text }
        return nil
    }

    private static func number(_ record: RecordValue, _ key: String) -> Double? { record[key].flatMap(Convert.number) }

    /// The number of tensor entries in a value, through records and lists.
    private static func count(_ value: Value?, skipping: String? = nil, depth: Int = 0) -> Int {
        guard let value, depth <= Display.maxDepth else { return 0 }
        switch value {
        case .tensor(let t): return t.count
        case .record(let r): return r.entries.filter { $0.key != skipping }.reduce(0) { $0 + count($1.value, depth: depth + 1) }
        case .list(let l): return l.items.reduce(0) { $0 + count($1, depth: depth + 1) }
        default: return 0
        }
    }

    /// 22713216 as "22,713,216".
    private static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}
