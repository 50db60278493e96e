import Interpreter
import Testing

extension OneAtATime {
    /// grad through embed, the model path of load_model: the word embeddings' gradient
    /// is nonzero exactly on the rows of the sentence's token ids, the numbers of the
    /// model record get number gradients and its strings none, the values are unchanged,
    /// and a layer's gradient agrees with finite differences.
    @Test(MiniLM.needed) func miniLMEmbeddingsAreDifferentiable() {
        let (output, error) = MiniLM.run("""
            seed(0)
            R = randn(1, 384)
            fn loss(m) = sum(embed(m, ["the cat sat"]) * R)
            r = value_and_grad(loss)(m)
            assert_close(r.value, loss(m), atol=1e-6)
            g = r.grad
            rows = sum(abs(g.embeddings.word_embeddings.weight), axis=1) > 0
            ids = tokenize(m, "the cat sat")
            print(item(sum(rows)) == len(ids), item(rows[ids[1]]) == 1, item(rows[999]) == 0)
            print(g.heads, g.vocab[0], shape(g.encoder.layers[5].ffn.W2))
            fn layer_loss(W) {
                l = m.encoder.layers[0]
                a = l.attn
                block = {attn: {Wq: W, bq: a.bq, Wk: a.Wk, bk: a.bk, Wv: a.Wv, bv: a.bv, Wo: a.Wo, bo: a.bo},
                         ln1: l.ln1, ffn: l.ffn, ln2: l.ln2}
                layers = [block] + m.encoder.layers[1:]
                loss({heads: m.heads, activation: m.activation, eps: m.eps, max_length: m.max_length, ids: m.ids,
                      special: m.special, vocab: m.vocab, config: m.config, embeddings: m.embeddings,
                      lower: m.lower, strip_accents: m.strip_accents, pooling: m.pooling, normalize: m.normalize,
                      encoder: {layers: layers, norm: none}})
            }
            check_grad(layer_loss, m.encoder.layers[0].attn.Wq) < 1e-2
            """)
        #expect(error == nil, "\(error?.rendered() ?? "")")
        #expect(output == "true true true\n0 none [1536, 384]\ntrue\n")
    }
}
