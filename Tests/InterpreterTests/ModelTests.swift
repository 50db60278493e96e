import Glibc
import Interpreter
import Lang
import Testing
import TestSupport

/// all-MiniLM-L6-v2 in tx against sentence-transformers and Hugging Face: the fixtures
/// (Fixtures/minilm, written by make_fixtures.py there) hold the tokenizer's ids and the
/// embeddings of 33 sentences and the first layer's per-head attention of two.
/// scripts/test fetches the model (scripts/get-model) before it runs the tests. Run on
/// their own (`swift test` without it), these tests show as skipped when the model is
/// missing; with CI=true they run anyway and fail on the missing model.
enum MiniLM {
    static let fixtures: String = {
        let path = #filePath
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/Fixtures/minilm"
    }()

    /// The trait of every test that loads the model.
    static let needed = ConditionTrait.enabled(if: TestEnvironment.runsModelTests, Comment(rawValue: TestEnvironment.modelMissing))

    /// Runs tx code with the model loaded as m and the fixtures' reference.json as r.
    static func run(_ code: String) -> (output: String, error: TxError?) {
        runScript("""
            m = load_model("all-MiniLM-L6-v2")
            r = read_json("\(fixtures)/reference.json")
            fixtures = "\(fixtures)"
            \(code)
            """, name: "minilm.tx")
    }
}

/// The tests that hold the model (hundreds of MB of tensors) run one at a time.
@Suite(.serialized) struct OneAtATime {}

extension OneAtATime {
    @Test(MiniLM.needed) func miniLMTokenIdsAreExactlyTheModelTokenizers() {
        let (output, error) = MiniLM.run("""
            assert(len(r.sentences) >= 30, "the fixtures hold at least 30 sentences")
            for i in range(len(r.sentences)) {
                ids = tokenize(m, r.sentences[i])
                if ids != r.ids[i] { print(format("sentence {}: {}\\n  tx: {}\\n  hf: {}", i, r.sentences[i], ids, r.ids[i])) }
            }
            len(r.ids[len(r.ids) - 1])
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        // Only the length of the over-length sentence is printed: it is cut to 256 tokens.
        #expect(output == "256\n")
    }

    @Test(MiniLM.needed) func miniLMEmbeddingsMatchSentenceTransformers() {
        let (output, error) = MiniLM.run("""
            e = embed(m, r.sentences)
            shape(e)
            assert_close(e, load(fixtures + "/embeddings.npy"), atol=1e-4, rtol=0)
            assert_close(norm(e, axis=-1), ones(len(r.sentences)), atol=1e-5)
            assert_close(embed(m, r.sentences[2]), e[2:3], atol=1e-5, rtol=0)
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "[33, 384]\n")
    }

    @Test(MiniLM.needed) func miniLMFirstLayerAttentionMatchesHuggingFacePerHead() {
        let (output, error) = MiniLM.run("""
            for k in range(len(r.attention_sentences)) {
                maps = attention_maps(m, r.attention_sentences[k])
                print(shape(maps))
                assert_close(maps[0], load(format("{}/attention_{}.npy", fixtures, k)), atol=1e-5, rtol=0)
                assert_close(sum(maps, axis=-1), ones(6, 12, size(maps, 2)), atol=1e-5)
            }
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "[6, 12, 11, 11]\n[6, 12, 11, 11]\n")
    }

    /// save_model writes the checkpoint load_model read: the same names and shapes as the
    /// original model.safetensors, and, for a model not trained, the same tensors exactly
    /// (position_ids, int64 in the original, as float32).
    @Test(MiniLM.needed) func savingAnUnchangedModelReproducesItsCheckpoint() {
        let folder = "/tmp/tx-save-model-test-\(getpid())"
        defer { removeModelFolder(folder) }
        let (output, error) = MiniLM.run("""
            fn leaves(r, prefix, out) {
                if type(r) == "tensor" { push(out, prefix); return out }
                names = if type(r) == "list" { range(len(r)) } else { keys(r) }
                for k in names { leaves(r[k], if prefix == "" { str(k) } else { prefix + "." + str(k) }, out) }
                out
            }
            save_model(m, "\(folder)");
            original = load(m.folder + "/model.safetensors")
            saved = load("\(folder)/model.safetensors")
            names = leaves(original, "", [])
            print(len(names), len(leaves(saved, "", [])), names[0], names[len(names) - 1])
            for name in names {
                assert(shape(saved[name]) == shape(original[name]), name)
                assert_close(saved[name], original[name], atol=0, rtol=0)
            }
            for file in ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
                assert(read_text("\(folder)/" + file) == read_text(m.folder + "/" + file), file)
            }
            for module in read_json("\(folder)/modules.json") { print(module.path, module.type) }
            print(read_json("\(folder)/sentence_bert_config.json"))
            pooling = read_json("\(folder)/1_Pooling/config.json")
            print(pooling.word_embedding_dimension, pooling.pooling_mode_mean_tokens, pooling.pooling_mode_cls_token, pooling.pooling_mode_max_tokens)
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            104 104 embeddings.position_ids pooler.dense.weight
             sentence_transformers.models.Transformer
            1_Pooling sentence_transformers.models.Pooling
            2_Normalize sentence_transformers.models.Normalize
            {max_seq_length: 256, do_lower_case: false}
            384 true false false

            """)
    }

    /// A model trained in place (its weights are transposed views of the checkpoint's, and
    /// step writes through them) saves its new weights, back in [d_out, d_in], and
    /// load_model of the folder embeds exactly as the model in memory.
    @Test(MiniLM.needed) func aTrainedModelSavesAndLoadsBack() {
        let folder = "/tmp/tx-save-trained-test-\(getpid())"
        defer { removeModelFolder(folder) }
        let (output, error) = MiniLM.run("""
            seed(0)
            R = randn(2, 384)
            s = ["the cat sat", "stocks fell"]
            before = copy(m.encoder.layers[0].attn.Wq)
            g = grad(fn(m) = sum(embed(m, s) * R))(m)
            step(sgd(0.5), m, g)
            print(item(max(abs(m.encoder.layers[0].attn.Wq - before))) > 1e-4)
            save_model(m, "\(folder)");
            w = load("\(folder)/model.safetensors")
            assert_close(w.encoder.layer[0].attention.self.query.weight, m.encoder.layers[0].attn.Wq', atol=0, rtol=0)
            assert_close(w.encoder.layer[5].intermediate.dense.weight, m.encoder.layers[5].ffn.W1', atol=0, rtol=0)
            assert_close(w.embeddings.word_embeddings.weight, m.embeddings.word_embeddings.weight, atol=0, rtol=0)
            m2 = load_model("\(folder)")
            print(m2.folder == "\(folder)", keys(m2.unused))
            assert_close(embed(m2, s + r.sentences[0:3]), embed(m, s + r.sentences[0:3]), atol=0, rtol=0)
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "true\ntrue [\"pooler.dense.bias\", \"pooler.dense.weight\"]\n")
    }

    @Test(MiniLM.needed) func modelHelpExamplesRun() {
        let builtins = Interpreter(output: { _ in }).builtinList.filter { $0.category == .models }
        #expect(builtins.map(\.name) == ["load_model", "save_model", "corpus", "tokenize", "tokens", "embed", "hidden_states", "fill_mask", "score_pairs", "attention_maps"])
        for builtin in builtins {
            let (_, error) = runScript(builtin.example, name: "example of \(builtin.name)")
            #expect(error == nil, "\(builtin.name): \(builtin.example): \(error?.rendered() ?? "")")
        }
    }
}

/// Removes a folder save_model wrote (its files, 1_Pooling and itself).
private func removeModelFolder(_ folder: String) {
    for file in ["config.json", "config_sentence_transformers.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "model.safetensors", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"] {
        unlink(folder + "/" + file)
    }
    rmdir(folder + "/1_Pooling")
    rmdir(folder)
}

@Test func mkdirMakesTheFoldersOnTheWay() {
    let folder = "/tmp/tx-mkdir-test-\(getpid())"
    defer { rmdir(folder + "/a/b"); rmdir(folder + "/a"); unlink(folder + "/file"); rmdir(folder) }
    let (output, error) = runScript("""
        mkdir("\(folder)/a/b")
        mkdir("\(folder)/a/b")
        print(exists("\(folder)/a/b"))
        write_text("\(folder)/file", "x")
        expect_error(fn() = mkdir("\(folder)/file"), "exists and is not a folder")
        expect_error(fn() = mkdir("\(folder)/file/c"), "Not a directory")
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == """
        true
        "io error: \(folder)/file exists and is not a folder"
        "io error: cannot make the folder \(folder)/file/c: Not a directory"

        """)
}

@Test func aMissingModelSaysHowToGetIt() {
    let (_, error) = runScript("load_model(\"no-such-model\")")
    #expect(error?.message.contains("no model 'no-such-model'") == true)
    #expect(error?.message.contains("scripts/get-model") == true)
    #expect(error?.span?.column == 12)
}

@Test func aMissingTextSaysHowToGetIt() {
    let (_, error) = runScript("corpus(\"no-such-text\")")
    #expect(error?.message.contains("no text 'no-such-text'") == true)
    #expect(error?.message.contains("scripts/get-text") == true)
    #expect(error?.span?.column == 8)
}

@Test func includeLooksBesideTheScriptThenInTxsLibrary() throws {
    let folder = "/tmp/tx-include-test-\(getpid())"
    mkdir(folder, 0o755)
    defer { unlink(folder + "/helper.tx"); rmdir(folder) }
    let (_, writeError) = runScript("write_text(\"\(folder)/helper.tx\", \"fn helped(x) = x + 1\")")
    #expect(writeError == nil)
    // The script's name places it in the folder; the current folder is elsewhere.
    let (output, error) = runScript("include(\"helper\")\nhelped(1)\ninclude(\"bert.tx\")\ntype(bert_block)",
                                    name: folder + "/main.tx")
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == "2\n\"function\"\n")
    // A file that includes itself stops with an error at its include, inside the file.
    let loop = folder + "/loop.tx"
    defer { unlink(loop) }
    let (_, loopError) = runScript("write_text(\"\(loop)\", \"include(\\\"\(loop)\\\")\")\ninclude(\"\(loop)\")")
    #expect(loopError?.message == "recursion limit: include nested more than 32 files deep (does \(loop) include itself?)")
    #expect(loopError?.span?.source.name == loop && loopError?.span?.column == 1)
    let (_, missing) = runScript("include(\"helper\")", name: "<expr>")
    #expect(missing?.message.hasPrefix("io error: include: no file helper in ., ") == true, "\(missing?.message ?? "")")
}
