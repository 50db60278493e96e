import Foundation
import Glibc
import Interpreter
import Lang
import Tensor
import Testing

/// Model folders as the Hub lays them out, against transformers and sentence-transformers:
/// tiny random checkpoints (Fixtures/checkpoints, written by scripts/make-tiny-checkpoints
/// with what the Python libraries compute from them in reference.json). Each loads and
/// computes what the reference does to 1e-5, or is refused with an error that names the
/// file and the setting or tensor.
enum Checkpoints {
    static let fixtures: String = {
        let path = #filePath
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/Fixtures/checkpoints"
    }()

    /// Runs tx code with the reference as r and the fixtures' folder as f.
    static func run(_ code: String) -> (output: String, error: TxError?) {
        runScript("""
            f = "\(fixtures)"
            r = read_json(f + "/reference.json")
            \(code)
            """, name: "checkpoints.tx")
    }

    /// The error load_model gives for a copy of the fixture `name` changed by `edit`.
    static func loadError(_ name: String, _ edit: (String) throws -> Void) throws -> String {
        let folder = try copy(name)
        defer { remove(folder) }
        try edit(folder)
        let (_, error) = runScript("load_model(\"\(folder)\")")
        return (error?.message ?? "no error").replacingOccurrences(of: folder, with: "F")
    }

    /// A copy of a fixture folder in /tmp (its files and the files of its subfolders).
    static func copy(_ name: String) throws -> String {
        let folder = "/tmp/tx-checkpoint-\(name)-\(getpid())-\(counter.next())"
        try copyTree(fixtures + "/" + name, to: folder)
        return folder
    }

    private static func copyTree(_ from: String, to: String) throws {
        mkdir(to, 0o755)
        for entry in names(in: from) {
            var info = stat()
            stat(from + "/" + entry, &info)
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try copyTree(from + "/" + entry, to: to + "/" + entry)
            } else {
                try writeFile(path: to + "/" + entry, bytes: try readFile(path: from + "/" + entry))
            }
        }
    }

    static func remove(_ folder: String) {
        for entry in names(in: folder) {
            var info = stat()
            stat(folder + "/" + entry, &info)
            if (info.st_mode & S_IFMT) == S_IFDIR { remove(folder + "/" + entry) } else { unlink(folder + "/" + entry) }
        }
        rmdir(folder)
    }

    static func names(in folder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    }

    /// Replaces text in a file of the folder.
    static func edit(_ file: String, _ old: String, _ new: String) throws {
        let text = String(decoding: try readFile(path: file), as: UTF8.self)
        #expect(text.contains(old), "\(file) has no \(old)")
        try writeFile(path: file, bytes: Array(text.replacingOccurrences(of: old, with: new).utf8))
    }

    /// Rewrites model.safetensors with `change` applied to its tensors.
    static func editTensors(_ folder: String, _ change: (inout [(name: String, tensor: Tensor)]) throws -> Void) throws {
        var tensors = try SafeTensors.load(path: folder + "/model.safetensors")
        try change(&tensors)
        try SafeTensors.save(tensors, path: folder + "/model.safetensors")
    }

    final class Counter: @unchecked Sendable {
        private var n = 0
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        init() { pthread_mutex_init(lock, nil) }
        func next() -> Int {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            n += 1
            return n
        }
    }
    static let counter = Counter()
}

private extension String {
    func replacingOccurrences(of old: String, with new: String) -> String {
        guard !old.isEmpty else { return self }
        var out = "", rest = Substring(self)
        while let range = rest.range(of: old) {
            out += rest[..<range.lowerBound] + new
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

private extension Substring {
    func range(of needle: String) -> Range<Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<(index(i, offsetBy: needle.count)) }
            i = index(after: i)
        }
        return nil
    }
}

/// Each folder's settings are honoured: embeddings equal sentence-transformers' to 1e-5.
/// Before: the cased model was lower-cased, CLS pooling and the folder without Normalize
/// were mean-pooled and normalised, sentence-transformers 6's folder (no vocab.txt) and
/// the masked LM (a "bert." prefix) did not load, and the CRLF vocabulary had no [UNK].
@Test(arguments: [
    ("mean", "true [\"mean\"] true"), ("cased", "false [\"mean\"] true"), ("cls", "true [\"cls\"] true"),
    ("unnormalized", "true [\"mean\"] false"), ("st6", "true [\"cls\"] true"), ("crlf", "true [\"mean\"] true"),
    ("masked_lm", "true [\"mean\"] false"),
])
func checkpointEmbeddingsMatchSentenceTransformers(_ name: String, _ settings: String) {
    let (output, error) = Checkpoints.run("""
        m = load_model(f + "/\(name)")
        print(m.lower, m.pooling, m.normalize)
        assert_close(embed(m, r.sentences), tensor(r["\(name)"].embeddings), atol=1e-5, rtol=0)
        """)
    #expect(error == nil, "\(name): \(error?.rendered() ?? "")")
    #expect(output == settings + "\n")
}

@Test func aCasedModelKeepsCaseAndAccents() {
    let (output, error) = Checkpoints.run("""
        print(tokens(load_model(f + "/cased"), "The Chef visited Paris, café!"))
        print(tokens(load_model(f + "/mean"), "The Chef visited Paris, café!"))
        basic_tokenize("Café", lower=false)
        basic_tokenize("Café", lower=false, strip_accents=true)
        basic_tokenize("Café", strip_accents=false)
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == """
        ["[CLS]", "The", "Chef", "visited", "Paris", ",", "café", "!", "[SEP]"]
        ["[CLS]", "the", "chef", "visited", "paris", ",", "cafe", "!", "[SEP]"]
        ["Café"]
        ["Cafe"]
        ["café"]

        """)
}

/// fill_mask equals transformers' masked LM: the same top 5 tokens and probabilities to 1e-5.
@Test func fillMaskMatchesTransformers() {
    let (output, error) = Checkpoints.run("""
        m = load_model(f + "/masked_lm")
        for k in range(len(r.masked)) {
            expected = r.masked_lm.fill_mask[k]
            assert(tokenize(m, r.masked[k]) == expected.ids, r.masked[k])
            got = fill_mask(m, r.masked[k])
            if len(expected.top) == 1 { got = push([], got) }
            for j in range(len(expected.top)) {
                for i in range(5) {
                    assert(got[j][i].token == expected.top[j][i].token && got[j][i].id == expected.top[j][i].id, r.masked[k])
                    assert_close(got[j][i].probability, expected.top[j][i].probability, atol=1e-5, rtol=0)
                }
            }
        }
        top = fill_mask(m, "The chef [MASK] the kitchen.", top_k=2)
        print(len(top), keys(top[0]), top[0].token)
        expect_error(fn() = fill_mask(m, "no mask here"), "has no [MASK]")
        expect_error(fn() = fill_mask(m, "a [MASK]", top_k=0), "top_k must be at least 1")
        expect_error(fn() = fill_mask(load_model(f + "/mean"), "a [MASK]"), "needs a BertForMaskedLM checkpoint")
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == """
        2 ["token", "id", "probability"] l
        "assertion failed: fill_mask: the text has no [MASK] within its first m.max_length tokens"
        "value error: fill_mask: top_k must be at least 1, got 0"
        "value error: fill_mask: m is a BertModel (\(Checkpoints.fixtures)/mean), without the head fill_mask runs; it needs a BertForMaskedLM checkpoint (such as bert-base-uncased)"

        """)
}

/// score_pairs equals sentence-transformers' CrossEncoder.predict (a sigmoid of one
/// label's logit) and the classifier's three logits, with the tokenizer's pair ids,
/// token types and longest_first truncation.
@Test func scorePairsMatchesCrossEncoder() {
    // The pairs' ids and token types (tokenize of a pair, as score_pairs reads them), the last two cut.
    let (lengths, pairError) = Checkpoints.run("""
        m = load_model(f + "/cross_encoder")
        for i in range(len(r.pairs)) {
            e = tokenize(m, [r.pairs[i]])
            assert_close(e.ids[0], tensor(r.cross_encoder.ids[i]), atol=0, rtol=0)
            assert_close(e.type_ids[0], tensor(r.cross_encoder.type_ids[i]), atol=0, rtol=0)
            print(size(e.ids, 1), item(sum(e.type_ids)))
        }
        """)
    #expect(pairError == nil, "\(pairError?.rendered() ?? "")")
    #expect(lengths == "17 8\n16 7\n12 6\n32 9\n32 24\n32 16\n")
    let (output, error) = Checkpoints.run("""
        m = load_model(f + "/cross_encoder")
        s = score_pairs(m, r.pairs)
        print(shape(s))
        assert_close(s, tensor(r.cross_encoder.scores), atol=1e-5, rtol=0)
        c = load_model(f + "/classifier")
        print(shape(score_pairs(c, r.pairs)), c.head.labels, c.head.activation)
        assert_close(score_pairs(c, r.pairs), tensor(r.classifier.scores), atol=1e-5, rtol=0)
        assert_close(score_pairs(c, r.pairs), tensor(r.classifier.logits), atol=1e-5, rtol=0)
        print(shape(score_pairs(m, [])))
        expect_error(fn() = score_pairs(m, [["a", 1]]), "pair 0")
        expect_error(fn() = score_pairs(load_model(f + "/masked_lm"), r.pairs), "BertForSequenceClassification")
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == """
        [6]
        [6, 3] ["LABEL_0", "LABEL_1", "LABEL_2"] identity
        [0]
        "type error: score_pairs: pair 0 is [\\"a\\", 1], not a list of two strings"
        "value error: score_pairs: m is a BertForMaskedLM (\(Checkpoints.fixtures)/masked_lm), without the head score_pairs runs; it needs a BertForSequenceClassification checkpoint (a cross-encoder)"

        """)
}

/// save_model writes a head model back under its checkpoint's names (the "bert." prefix,
/// cls.predictions, classifier), and what it wrote loads and computes the same.
@Test func headModelsSaveAndLoadBack() throws {
    let folder = "/tmp/tx-save-heads-\(getpid())"
    defer { Checkpoints.remove(folder + "-mlm"); Checkpoints.remove(folder + "-ce"); Checkpoints.remove(folder + "-cls") }
    let (output, error) = Checkpoints.run("""
        fn names(path) {
            out = []
            for k in keys(load(path)) { push(out, k) }
            out
        }
        m = load_model(f + "/masked_lm")
        save_model(m, "\(folder)-mlm");
        print(names(f + "/masked_lm/model.safetensors") == names("\(folder)-mlm/model.safetensors"), names("\(folder)-mlm/model.safetensors"))
        m2 = load_model("\(folder)-mlm")
        assert_close(fill_mask(m2, r.masked[0])[0].probability, fill_mask(m, r.masked[0])[0].probability, atol=0, rtol=0)
        c = load_model(f + "/cross_encoder")
        save_model(c, "\(folder)-ce");
        assert_close(score_pairs(load_model("\(folder)-ce"), r.pairs), score_pairs(c, r.pairs), atol=0, rtol=0)
        p = load_model(f + "/cls")
        save_model(p, "\(folder)-cls");
        p2 = load_model("\(folder)-cls")
        print(p2.pooling, p2.normalize)
        assert_close(embed(p2, r.sentences), tensor(r.cls.embeddings), atol=1e-5, rtol=0)
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == "true [\"bert\", \"cls\"]\n[\"cls\"] true\n")
}

/// LayerNorm parameters named gamma and beta (bert-base-uncased's file, converted from
/// TensorFlow) load as weight and bias, as transformers reads them.
@Test func layerNormGammaAndBetaLoadAsWeightAndBias() throws {
    let folder = try Checkpoints.copy("masked_lm")
    defer { Checkpoints.remove(folder) }
    try Checkpoints.editTensors(folder) { tensors in
        tensors = tensors.map { entry in
            var name = entry.name
            if name.hasSuffix("LayerNorm.weight") { name = String(name.dropLast(6)) + "gamma" }
            if name.hasSuffix("LayerNorm.bias") { name = String(name.dropLast(4)) + "beta" }
            return (name, entry.tensor)
        }
    }
    let (output, error) = Checkpoints.run("""
        m = load_model("\(folder)")
        print(keys(load("\(folder)/model.safetensors").bert.embeddings.LayerNorm))
        assert_close(fill_mask(m, r.masked[0])[0].probability, r.masked_lm.fill_mask[0].top[0][0].probability, atol=1e-5, rtol=0)
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == "[\"beta\", \"gamma\"]\n")
}

/// Sharded safetensors load (model.safetensors.index.json and its shards) and embed as
/// the single file does.
@Test func shardedCheckpointsLoad() throws {
    let folder = try Checkpoints.copy("mean")
    defer { Checkpoints.remove(folder) }
    let tensors = try SafeTensors.load(path: folder + "/model.safetensors")
    unlink(folder + "/model.safetensors")
    let half = tensors.count / 2
    try SafeTensors.save(Array(tensors[..<half]), path: folder + "/model-00001-of-00002.safetensors")
    try SafeTensors.save(Array(tensors[half...]), path: folder + "/model-00002-of-00002.safetensors")
    let map = tensors.enumerated().map { "\"\($1.name)\": \"model-0000\($0 < half ? 1 : 2)-of-00002.safetensors\"" }
    try writeFile(path: folder + "/model.safetensors.index.json", bytes: Array("{\"metadata\": {}, \"weight_map\": {\(map.joined(separator: ", "))}}".utf8))
    let (_, error) = Checkpoints.run("""
        assert_close(embed(load_model("\(folder)"), r.sentences), tensor(r.mean.embeddings), atol=1e-5, rtol=0)
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
}

/// Folders that would fail later, or compute something else than their settings say, are
/// refused at load_model with the file and the setting or tensor named.
@Test func foldersTxCannotRunAreRefusedNamingTheFileAndSetting() throws {
    #expect(try Checkpoints.loadError("missing_tensor") { _ in } ==
        "value error: load_model: F/model.safetensors has no encoder.layer.1.attention.self.key.weight (layer 1: the attention's key weight, [16, 16])")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.editTensors(f) { tensors in
            let i = tensors.firstIndex { $0.name == "encoder.layer.0.intermediate.dense.weight" }!
            tensors[i].tensor = try Tensor.zeros([32, 8])
        }
    } == "value error: load_model: F/model.safetensors: encoder.layer.0.intermediate.dense.weight (layer 0: the feed-forward's first weight) is [32, 8]; config.json makes it [32, 16]")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.editTensors(f) { tensors in
            tensors = tensors.map { ($0.name.replacingOccurrences(of: "encoder.layer.1.", with: "encoder.layer.2."), $0.tensor) }
        }
    } == "value error: load_model: F/model.safetensors holds encoder layers 0, 2; config.json's num_hidden_layers 2 needs layers 0 to 1")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/config.json", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu_new\"")
    } == "value error: load_model: F/config.json: hidden_act is \"gelu_new\"; tx's blocks compute \"gelu\" (the exact GELU) and \"relu\", and gelu_new differs from both")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/sentence_bert_config.json", "32", "64")
    } == "value error: load_model: F/sentence_bert_config.json: max_seq_length 64 is more than the model's 40 positions (config.json's max_position_embeddings)")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/vocab.txt", "[CLS]\n", "[CLS-]\n")
    } == "value error: load_model: F/vocab.txt has no [CLS]: tx's BERT tokenizer starts every text with it")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/vocab.txt", "[PAD]\n", "[PAD]\nextra1\nextra2\n")
    } == "value error: load_model: F/vocab.txt has 132 tokens, more than the 130 rows of the word embeddings (config.json's vocab_size): the last ids would have no embedding")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/1_Pooling/config.json", "\"pooling_mode_weightedmean_tokens\": false", "\"pooling_mode_weightedmean_tokens\": true")
    } == "value error: load_model: F/1_Pooling/config.json: pooling_mode_weightedmean_tokens is true; tx's embed pools by cls, max, mean and mean_sqrt_len_tokens only")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/modules.json", "2_Normalize", "2_Dense")
        try Checkpoints.edit(f + "/modules.json", "models.Normalize", "models.Dense")
    } == "value error: load_model: F/modules.json: module 2 is sentence_transformers.models.Dense (2_Dense); tx's embed runs the Transformer of this folder, then Pooling, then Normalize, and no other module")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/tokenizer_config.json", "\"cls_token\": \"[CLS]\"", "\"cls_token\": \"<s>\"")
    } == "value error: load_model: F/tokenizer_config.json: cls_token is \"<s>\"; tx's BERT tokenizer uses [CLS]")
    #expect(try Checkpoints.loadError("masked_lm") { f in
        try Checkpoints.editTensors(f) { tensors in tensors.removeAll { $0.name == "cls.predictions.bias" } }
    } == "value error: load_model: F/model.safetensors has no cls.predictions.bias (the masked-LM head's output bias, [130])")
    // Only PyTorch's pickle: the error says what is there, what tx reads, and how to convert.
    let pickle = try Checkpoints.loadError("mean") { f in
        unlink(f + "/model.safetensors")
        try writeFile(path: f + "/pytorch_model.bin", bytes: [0x80, 0x02])
    }
    #expect(pickle.hasPrefix("io error: load_model: F has no model.safetensors (it holds 1_Pooling, config.json, modules.json, pytorch_model.bin, sentence_bert_config.json, tokenizer.json, tokenizer_config.json, vocab.txt); tx reads the weights from model.safetensors, or from the shards model.safetensors.index.json lists. pytorch_model.bin is PyTorch's pickle format"), "\(pickle)")
    #expect(pickle.contains("save_file"))
    let noVocab = try Checkpoints.loadError("mean") { f in unlink(f + "/vocab.txt"); unlink(f + "/tokenizer.json") }
    #expect(noVocab.hasPrefix("io error: load_model: F has no vocab.txt (it holds 1_Pooling, config.json, model.safetensors, modules.json, "), "\(noVocab)")
    let (_, error) = runScript("load_model(\"/tmp\")")
    #expect(error?.message == "io error: load_model: /tmp is a folder without config.json; a Hugging Face model folder has config.json, vocab.txt and model.safetensors")
}

/// Folders whose sizes leave a text nothing to run on (issue 21): the old load_model
/// accepted them and they failed later inside lib/bert.tx (an assertion about max_length,
/// an index out of range, a missing field), naming neither the file nor the setting; a
/// num_hidden_layers of a billion took minutes to refuse.
@Test func foldersWithoutRoomForATextAreRefusedNamingTheSetting() throws {
    #expect(try Checkpoints.loadError("mean") { f in
        unlink(f + "/sentence_bert_config.json")
        try Checkpoints.edit(f + "/config.json", "\"max_position_embeddings\": 40", "\"max_position_embeddings\": 1")
        try Checkpoints.editTensors(f) { tensors in
            let i = tensors.firstIndex { $0.name == "embeddings.position_embeddings.weight" }!
            tensors[i].tensor = try Tensor.zeros([1, 16])
        }
    } == "value error: load_model: F/config.json: max_position_embeddings is 1; every text takes at least 2 positions ([CLS] and [SEP])")
    #expect(try Checkpoints.loadError("classifier") { f in
        try Checkpoints.edit(f + "/config.json", "\"max_position_embeddings\": 40", "\"max_position_embeddings\": 2")
    } == "value error: load_model: F/config.json: max_position_embeddings is 2; every text takes at least 3 positions ([CLS] a [SEP] b [SEP] for a pair)")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/config.json", "\"type_vocab_size\": 2", "\"type_vocab_size\": 0")
    } == "value error: load_model: F/config.json: type_vocab_size is 0; every token has a token type (0, and 1 for the second text of a pair)")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 0")
        try Checkpoints.editTensors(f) { tensors in tensors.removeAll { $0.name.hasPrefix("encoder.") } }
    } == "value error: load_model: F/config.json: num_hidden_layers is 0; tx's BERT runs at least one encoder layer")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.edit(f + "/config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 100000000")
    } == "value error: load_model: F/model.safetensors holds encoder layers 0, 1; config.json's num_hidden_layers 100000000 needs layers 0 to 99999999")
    #expect(try Checkpoints.loadError("mean") { f in
        try Checkpoints.editTensors(f) { tensors in
            tensors = tensors.map { ($0.name.replacingOccurrences(of: "encoder.layer.1.", with: "encoder.layer.01."), $0.tensor) }
        }
    } == "value error: load_model: F/model.safetensors has no encoder.layer.1.attention.self.query.weight (layer 1: the attention's query weight, [16, 16])")
}

/// A model shows as a summary (PyTorch prints a module so), not its 60,000 vocabulary
/// entries; its fields stay reachable; max_length and the settings refuse values the
/// model cannot run.
@Test func aModelShowsAsASummaryAndRefusesAMaxLengthBeyondItsPositions() {
    let (output, error) = Checkpoints.run("""
        m = load_model(f + "/masked_lm")
        m
        [m]
        print(m.vocab[6], m.ids.chef, len(keys(m)))
        fn set_length(n) { m.max_length = n }
        fn set_key(k, v) { m[k] = v }
        expect_error(fn() = set_length(600), "40 positions")
        expect_error(fn() = set_key("max_length", 1.5), "whole number")
        expect_error(fn() = set_key("pooling", ["weighted"]), "m.pooling")
        m.max_length = 5
        tokens(m, "the chef cleaned the kitchen")
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == """
        BertForMaskedLM from \(Checkpoints.fixtures)/masked_lm: 7,666 parameters
          embeddings  word [130, 16], position [40, 16], types [2, 16], LayerNorm
          encoder     2 × encoder_block: 2 heads of 8, ffn 16 → 32 → 16 gelu, post-LN
          head        masked LM for fill_mask: dense, gelu, LayerNorm, tied decoder
          tokenizer   130 WordPiece tokens, lower-cased, accents stripped, max_length 32 of 40
          embed       mean pooling, not normalised
          fields      folder, config, architecture, heads, activation, eps, max_length,
                      vocab, ids, max_chars, special, lower, strip_accents, pooling,
                      normalize, embeddings, encoder, head, prefix, unused
        [<model BertForMaskedLM masked_lm: 2 layers, d 16, 7,666 parameters>]
        , 27 20
        "value error: m.max_length = 600: the model has 40 positions (config.json's max_position_embeddings), so max_length is a whole number from 2 to 40"
        "value error: m.max_length = 1.5: the model has 40 positions (config.json's max_position_embeddings), so max_length is a whole number from 2 to 40"
        "value error: m.pooling is a list of \\"cls\\", \\"max\\", \\"mean\\", \\"mean_sqrt_len_tokens\\" (at least one), not [\\"weighted\\"]"
        ["[CLS]", "the", "chef", "cleaned", "[SEP]"]

        """)
    // The whole model printed is a few lines, not the vocabulary (62,000 lines for all-MiniLM-L6-v2 before).
    let (shown, _) = Checkpoints.run("load_model(f + \"/mean\")")
    #expect(shown.split(separator: "\n").count == 9, "\(shown)")
}
