import Foundation
import Interpreter
import Testing

/// tx's Transformer builtins against PyTorch. The fixtures and the script that made
/// them (with PyTorch, on a developer's machine) are in Tests/TransformerTests/Fixtures.
/// Tolerances are float32's: outputs of size ~1 agree to atol 2e-5 and rtol 1e-4
/// (the stacked 2+2-layer Transformer to 5e-5).
let fixtureDirectory: String = {
    let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    return parts.dropLast(2).joined(separator: "/") + "/TransformerTests/Fixtures"
}()

struct FixtureCase: CustomTestStringConvertible, Sendable {
    let name: String
    let code: String
    var testDescription: String { name }
}

let fixtureCases: [FixtureCase] = {
    var cases: [FixtureCase] = [
        FixtureCase(name: "softmax with -inf entries", code: """
            f = load("softmax")
            assert_close(softmax(f.x), f.out, atol=1e-6)
            assert_close(softmax(f.x3, axis=1), f.out3_axis1, atol=1e-6)
            """),
        FixtureCase(name: "layernorm", code: """
            f = load("layernorm")
            assert_close(layernorm(f.x, f.gamma, f.beta), f.out, atol=2e-5)
            """),
        FixtureCase(name: "sinusoidal positions", code: """
            f = load("sinusoidal")
            assert_close(sinusoidal(12, 16), f.out, atol=1e-6)
            """),
    ]
    for b in [1, 2] {
        cases.append(FixtureCase(name: "single-head attention, batch \(b)", code: """
            f = load("attention_b\(b)")
            assert_close(attention(f.Q, f.K, f.V), f.out, atol=2e-5)
            assert_close(attention(f.Q, f.K, f.V, mask=f.mask), f.out_padded, atol=2e-5)
            assert_close(attention(f.Q, f.K, f.V, causal=true), f.out_causal, atol=2e-5)
            assert_close(attention_weights(f.Q, f.K), f.weights, atol=1e-6)
            assert_close(attention_weights(f.Q, f.K, mask=f.mask), f.weights_padded, atol=1e-6)
            assert_close(attention(f.X, f.X, f.X, causal=true), f.out_self_causal, atol=2e-5)
            assert_close(attention(f.X, f.X, f.X, mask=causal_mask(6)), f.out_self_causal, atol=2e-5)
            """))
        cases.append(FixtureCase(name: "nn.MultiheadAttention, batch \(b)", code: """
            f = load("mha_b\(b)")
            assert_close(mha(f.x, f.x, f.p, heads=4), f.self_out, atol=2e-5)
            assert_close(mha_weights(f.x, f.x, f.p, heads=4), f.self_weights, atol=1e-6)
            assert_close(mha(f.x, f.memory, f.p, heads=4, mask=f.mask), f.cross_out, atol=2e-5)
            assert_close(mha_weights(f.x, f.memory, f.p, heads=4, mask=f.mask), f.cross_weights, atol=1e-6)
            assert_close(mha(f.x, f.x, f.p, heads=4, causal=true), f.causal_out, atol=2e-5)
            """))
        for (variant, options) in [("relu", ""), ("gelu", ", activation=\"gelu\""), ("prenorm", ", norm_first=true")] {
            cases.append(FixtureCase(name: "nn.TransformerEncoderLayer \(variant), batch \(b)", code: """
                f = load("encoder_\(variant)_b\(b)")
                assert_close(encoder_block(f.x, f.p, heads=4\(options)), f.out, atol=2e-5)
                """))
        }
        for (variant, options) in [("relu", ""), ("prenorm", ", norm_first=true")] {
            cases.append(FixtureCase(name: "nn.TransformerDecoderLayer \(variant), batch \(b)", code: """
                f = load("decoder_\(variant)_b\(b)")
                assert_close(decoder_block(f.y, f.memory, f.p, heads=4\(options)), f.out, atol=2e-5)
                """))
        }
        cases.append(FixtureCase(name: "nn.Transformer 2+2 layers, batch \(b)", code: """
            f = load("transformer_b\(b)")
            assert_close(transformer(f.src, f.tgt, f.p, heads=4), f.out, atol=5e-5)
            memory = encoder(f.src, f.p.encoder, heads=4)
            assert_close(decoder(f.tgt, memory, f.p.decoder, heads=4), f.out, atol=5e-5)
            """))
    }
    return cases
}()

@Test(arguments: fixtureCases)
func agreesWithPyTorch(_ c: FixtureCase) {
    let code = c.code.replacingFixtureNames()
    let (_, error) = runScript(code, name: c.name)
    #expect(error == nil, "\(c.name): \(error?.rendered() ?? "")")
}

extension String {
    /// `load("name")` → `load("<fixtures>/name.safetensors")`.
    func replacingFixtureNames() -> String {
        split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let open = line.range(of: "load(\""), let close = line[open.upperBound...].firstIndex(of: "\"") else { return String(line) }
            let name = line[open.upperBound..<close]
            return line.replacingCharacters(in: open.upperBound..<close, with: "\(fixtureDirectory)/\(name).safetensors")
        }.joined(separator: "\n")
    }
}
