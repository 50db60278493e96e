import Interpreter
import Lang
import Testing
import TestSupport

/// What a practitioner calls on a loaded all-MiniLM-L6-v2, against Hugging Face
/// transformers and sentence-transformers: the fixtures (Fixtures/minilm_batch, written
/// by make_fixtures.py there) hold the tokenizer's padded batches (ids, masks, type ids,
/// offsets, truncation counts, decoded texts) for texts, pairs and cut lengths, every
/// layer's hidden states and the batched attention of a padded batch, and
/// sentence-transformers' embeddings with and without its Normalize module.
enum MiniLMBatch {
    static let fixtures: String = {
        let path = #filePath
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/Fixtures/minilm_batch"
    }()

    /// Runs tx code with the model loaded as m, the fixtures' reference.json as r and the
    /// fixtures' folder as fixtures.
    static func run(_ code: String) -> (output: String, error: TxError?) {
        runScript("""
            m = load_model("all-MiniLM-L6-v2")
            r = read_json("\(fixtures)/reference.json")
            fixtures = "\(fixtures)"
            fn batch_of(c) = if c.pairs == none { tokenize(m, c.texts, max_length=c.max_length) } else { tokenize(m, c.texts, pair=c.pairs, max_length=c.max_length) }
            \(code)
            """, name: "minilm-batch.tx")
    }
}

extension OneAtATime {
    /// tokenize of a list: the padded batch Hugging Face's tokenizer gives (padding=True,
    /// truncation=True, return_offsets_mapping=True): ids, attention mask, token type ids
    /// and offsets (in tx's characters) equal, and the tokens truncation cut counted.
    @Test(MiniLM.needed) func batchTokenizeIsTheModelTokenizers() {
        let (output, error) = MiniLMBatch.run("""
            for name in keys(r.cases) {
                c = r.cases[name]
                b = batch_of(c)
                print(name, shape(b.ids), b.truncated)
                assert_close(b.ids, tensor(c.ids), atol=0, rtol=0)
                assert_close(b.mask, tensor(c.mask), atol=0, rtol=0)
                assert_close(b.type_ids, tensor(c.type_ids), atol=0, rtol=0)
                assert_close(b.offsets, tensor(c.offsets), atol=0, rtol=0)
                assert(b.truncated == c.truncated, name)
            }
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            batch [19, 28] [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            long [3, 256] [0, 640, 0]
            cut [7, 12] [0, 7, 6, 0, 0, 2, 0]
            pairs [7, 63] [0, 0, 0, 0, 0, 0, 0]
            pairs_cut [7, 16] [6, 0, 0, 1, 47, 0, 0]
            pairs_cut_odd [7, 11] [11, 4, 0, 6, 52, 0, 4]

            """)
    }

    /// Pairs may come as [a, b] lists, as pair=, or as two strings (one pair: a list of
    /// ids); one text's list of ids is its batch row; truncation=false keeps every token.
    @Test(MiniLM.needed) func pairsAndSingleTextsAgreeWithTheBatch() {
        let (output, error) = MiniLMBatch.run("""
            c = r.cases.pairs_cut
            listed = []
            for i in range(len(c.texts)) { push(listed, push([], c.texts[i], c.pairs[i])) }
            b = tokenize(m, listed, max_length=16)
            assert_close(b.ids, tensor(c.ids), atol=0, rtol=0)
            assert_close(b.type_ids, tensor(c.type_ids), atol=0, rtol=0)
            for i in range(len(c.texts)) {
                k = item(sum(b.mask[i]))
                assert(tokenize(m, c.texts[i], c.pairs[i], max_length=16) == c.ids[i][0:k], str(i))
            }
            print(tokens(m, "Hi there", "Hello"))
            print(tokens(m, [["Hi", "Ho"], "A b"]))
            long = r.cases.long.texts[1]
            print(len(tokenize(m, long)), len(tokenize(m, long, truncation=false)), len(tokenize(m, long, max_length=10)))
            print(tokenize(m, [long], truncation=false).truncated, shape(tokenize(m, [long], truncation=false).ids))
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            ["[CLS]", "hi", "there", "[SEP]", "hello", "[SEP]"]
            [["[CLS]", "hi", "[SEP]", "ho", "[SEP]"], ["[CLS]", "a", "b", "[SEP]"]]
            256 896 10
            [0] [1, 896]

            """)
    }

    /// Offsets highlight the words each token came from, accents and capitals included.
    @Test(MiniLM.needed) func offsetsHighlightTheWordsOfTheText() {
        let (output, error) = MiniLMBatch.run("""
            text = "Unaffable chefs in São Paulo, naïvely!"
            b = tokenize(m, [text])
            t = tokens(m, text)
            for j in range(len(t)) {
                o = b.offsets[0, j]
                print(t[j], text[o[0]:o[1]])
            }
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            [CLS] 
            una Una
            ##ffa ffa
            ##ble ble
            chefs chefs
            in in
            sao São
            paulo Paulo
            , ,
            naive naïve
            ##ly ly
            ! !
            [SEP] 

            """)
    }

    /// decode(m, ids) is Hugging Face's decode, with and without the special tokens.
    @Test(MiniLM.needed) func decodeIsTheModelTokenizers() {
        let (output, error) = MiniLMBatch.run("""
            for name in keys(r.cases) {
                c = r.cases[name]
                b = batch_of(c)
                texts = decode(m, b.ids)
                skipped = decode(m, b.ids, skip_special=true)
                for i in range(len(c.texts)) {
                    assert(texts[i] == c.decoded[i], format("{} {}: {} != {}", name, i, texts[i], c.decoded[i]))
                    assert(skipped[i] == c.decoded_skipping[i], format("{} {}: {} != {}", name, i, skipped[i], c.decoded_skipping[i]))
                }
            }
            print(decode(m, tokenize(m, "Héllo, World! Don't stop."), skip_special=true))
            print(decode(m, tensor(tokenize(m, "unaffable"))))
            print(decode(m, []))
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            hello, world! don ' t stop.
            [CLS] unaffable [SEP]


            """)
    }

    /// hidden_states: every layer of a padded batch equals transformers'
    /// output_hidden_states (first 48 features directly, all 384 through a projection),
    /// pairs with their token types too; one text gives its row without the batch axis.
    @Test(MiniLM.needed) func hiddenStatesMatchTransformers() {
        let (output, error) = MiniLMBatch.run("""
            h = hidden_states(m, r.state_texts)
            print(shape(h.states), keys(h))
            assert_close(h.ids, tensor(r.state_ids), atol=0, rtol=0)
            assert_close(h.mask, tensor(r.state_mask), atol=0, rtol=0)
            P = load(fixtures + "/project.npy")
            # The real tokens to 1e-5; padding positions, which no real token reads, to 1e-4.
            real = h.mask[:, :, none]
            states = load(fixtures + "/states.npy")
            projection = load(fixtures + "/projection.npy")
            assert_close(h.states[:, :, :, 0:48] * real, states * real, atol=1e-5, rtol=0)
            assert_close((h.states @ P) * real, projection * real, atol=1e-5, rtol=0)
            assert_close(h.states[:, :, :, 0:48], states, atol=1e-4, rtol=0)
            assert_close(h.states @ P, projection, atol=1e-4, rtol=0)
            p = hidden_states(m, r.pair_state_texts)
            assert_close(p.type_ids, tensor(r.pair_state_type_ids), atol=0, rtol=0)
            assert_close((p.states @ P) * p.mask[:, :, none], load(fixtures + "/pair_projection.npy") * p.mask[:, :, none], atol=1e-5, rtol=0)
            assert_close(p.states @ P, load(fixtures + "/pair_projection.npy"), atol=1e-4, rtol=0)
            assert_close(hidden_states(m, tokenize(m, r.pair_state_texts)).states, p.states, atol=0, rtol=0)
            one = hidden_states(m, r.state_texts[0])
            print(shape(one))
            assert_close(one, h.states[:, 0, 0:size(one, 1)], atol=1e-5, rtol=0)
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            [7, 3, 11, 384] ["ids", "mask", "type_ids", "offsets", "truncated", "states"]
            [7, 7, 384]

            """)
    }

    /// attention_maps of a list: transformers' output_attentions on the padded batch
    /// (first and last layer), rows summing to 1 over the real tokens and 0 on padding.
    @Test(MiniLM.needed) func batchedAttentionMapsMatchTransformers() {
        let (output, error) = MiniLMBatch.run("""
            a = attention_maps(m, r.state_texts)
            print(shape(a.maps))
            ref = load(fixtures + "/attention.npy")
            assert_close(a.maps[0], ref[0], atol=1e-5, rtol=0)
            assert_close(a.maps[5], ref[1], atol=1e-5, rtol=0)
            assert_close(sum(a.maps, axis=-1), ones(6, 3, 12, 11), atol=1e-5)
            k = item(sum(a.mask[2]))
            print(k, item(max(a.maps[:, 2, :, :, k:])))
            single = attention_maps(m, r.state_texts[0])
            n = size(single, -1)
            assert_close(single, a.maps[:, 0, :, 0:n, 0:n], atol=1e-5, rtol=0)
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "[6, 3, 12, 11, 11]\n3 0\n")
    }

    /// embed's options: normalize=false is sentence-transformers' pooling without its
    /// Normalize module, batch_size changes nothing but the batches, and the rows come
    /// back in the order of the texts although they are embedded longest first.
    @Test(MiniLM.needed) func embedOptionsMatchSentenceTransformers() {
        let (output, error) = MiniLMBatch.run("""
            raw = embed(m, r.embed_texts, batch_size=4, normalize=false)
            assert_close(raw, load(fixtures + "/embed_raw.npy"), atol=1e-5, rtol=1e-5)
            e = embed(m, r.embed_texts, batch_size=4)
            assert_close(e, load(fixtures + "/embed.npy"), atol=1e-6, rtol=0)
            assert_close(e, raw / norm(raw, axis=-1, keepdims=true), atol=1e-6, rtol=0)
            assert_close(embed(m, r.embed_texts, batch_size=1), e, atol=1e-6, rtol=0)
            assert_close(embed(m, r.embed_texts[3:4]), e[3:4], atol=1e-6, rtol=0)
            print(shape(raw), item(min(norm(raw, axis=-1))) > 1.5)
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "[10, 384] true\n")
    }

    /// Wrong calls say what is wrong.
    @Test(MiniLM.needed) func modelCallErrorsSayWhatIsWrong() {
        let (output, error) = MiniLMBatch.run("""
            print(expect_error(fn() = tokenize(m, ["a", "b"], pair=["x"]), "pair"))
            print(expect_error(fn() = tokenize(m, [["a", "b", "c"]]), "pair"))
            print(expect_error(fn() = tokenize(m, "a b", max_length=1), "max_length"))
            print(expect_error(fn() = tokenize(m, 5), "tokenize"))
            long = tokenize(m, [r.cases.long.texts[1] + r.cases.long.texts[1]], truncation=false)
            print(expect_error(fn() = hidden_states(m, long), "512"))
            print(expect_error(fn() = decode(m, [30522]), "vocabulary"))
            print(expect_error(fn() = decode(tensor([1, 2]), "abc", skip_special=true), "skip_special"))
            print(expect_error(fn() = embed(m, ["a"], batch_size=0), "batch_size"))
            print(expect_error(fn() = hidden_states(m, {ids: 1}), "mask"))
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == """
            assertion failed: tokenize of a list takes a list of as many second texts as pair (2 texts, pair is a list of 1)
            assertion failed: item 0 of tokenize's list is a list of 3: a pair is [a, b] (and then no pair=)
            assertion failed: max_length=1 is less than the 2 special tokens every row has
            assertion failed: tokenize needs a string, a list of strings or a list of [a, b] pairs; got number
            assertion failed: 1790 tokens: the model reads at most 512 (\(TestEnvironment.miniLMFolder)/config.json's max_position_embeddings); tokenize with truncation=true cuts them to max_length
            assertion failed: decode: 30522 is not a token id of the model's vocabulary of 30522
            value error: decode: skip_special is for a model's token ids, decode(m, ids, skip_special=true)
            assertion failed: embed: batch_size must be a whole number >= 1, got 0
            assertion failed: a batch for the model is a record with ids and mask (as tokenize gives for a list), got one with ["ids"]

            """)
    }
}
