import Foundation
import Interpreter
import Testing

/// tx's reverse-mode gradients (issue 17) against PyTorch: Fixtures/gradients holds, for
/// each case, float32 inputs, a fixed random R and the float64 reference gradients of
/// the loss sum(out * R), written by make_fixtures.py there (with PyTorch, on a
/// developer's machine, never in CI). manifest.json lists the cases: the loss's body in
/// tx, its parameters, which of them to differentiate and the files.
///
/// Each gradient leaf is held to ||tx - ref|| / ||ref|| <= 1e-5 (1e-4 for blocks and
/// stacks); a leaf whose exact gradient is zero (attention's key bias) to
/// ||tx|| <= tolerance * the norm of the whole reference gradient. The loss itself is
/// held to |tx - ref| <= tolerance * sum(|out * R|), and that check runs without the
/// engine too: it is the forward half of every case.
enum GradientFixtures {
    static let folder: String = {
        let path = #filePath
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/Fixtures/gradients"
    }()

    struct Manifest: Decodable {
        let format: Int
        let cases: [Case]
        let models: [ModelCase]?
    }

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name: String
        let kind: String
        let tolerance: Double
        /// The loss's parameters, in order; R is the last.
        let params: [String]
        /// Parameter name → file, relative to the fixtures folder (.npy or .safetensors).
        let inputs: [String: String]
        let wrt: [String]
        /// The tx code of the loss's body.
        let body: String
        /// Name in wrt → the reference gradient's file, shaped like the input.
        let grads: [String: String]
        /// Dotted paths from a name in wrt to every tensor of its gradient: "x", "p.attn.Wq".
        let leaves: [String]
        let zeroLeaves: [String]
        let gradNorm: Double
        let value: Double
        let valueScale: Double
        var testDescription: String { name }

        enum CodingKeys: String, CodingKey {
            case name, kind, tolerance, params, inputs, wrt, body, grads, leaves, value
            case zeroLeaves = "zero_leaves", gradNorm = "grad_norm", valueScale = "value_scale"
        }
    }

    /// The gradient of embed with respect to all-MiniLM-L6-v2's whole record. The full
    /// gradient is 90 MB, so each leaf (a dotted path from m) is kept by its kind: "full"
    /// whole; "rows" only on the rows the sentences use (rows[leaf]), the others must be 0;
    /// "projected" (a matrix G [d_in, d_out]) as G @ U with a fixed random
    /// U = projections[d_out] [d_out, 4], and by its norm (norms[leaf]).
    struct ModelCase: Decodable, Sendable {
        let name: String
        let model: String
        let tolerance: Double
        let sentences: [String]
        let params: [String]
        let inputs: [String: String]
        let body: String
        let projections: [String: String]
        let rows: [String: String]
        let grads: [String: String]
        let leaves: [String: String]
        let norms: [String: Double]
        let zeroLeaves: [String]
        let gradNorm: Double
        let value: Double
        let valueScale: Double

        enum CodingKeys: String, CodingKey {
            case name, model, tolerance, sentences, params, inputs, body, projections, rows, grads, leaves, norms, value
            case zeroLeaves = "zero_leaves", gradNorm = "grad_norm", valueScale = "value_scale"
        }
    }

    /// The cases of manifest.json; none when it cannot be read (gradientManifestIsComplete says why).
    static let cases: [Case] = (try? load()) ?? []

    static func manifest() throws -> Manifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    static func load() throws -> [Case] { try manifest().cases }

    /// Whether this build of tx has the gradient engine: until value_and_grad is a
    /// builtin the gradient tests are skipped (reported as such), not failed.
    static let engineExists: Bool = Interpreter(output: { _ in }).builtins["value_and_grad"] != nil

    static func quoted(_ path: String) -> String { "\"\(folder)/\(path)\"" }

    /// Loads the inputs and defines `fn loss(params) { body }`.
    static func prelude(_ c: Case) -> String {
        let loads = c.params.map { "\($0) = load(\(quoted(c.inputs[$0] ?? "")))" }
        let body = c.body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        return (loads + ["fn loss(\(c.params.joined(separator: ", "))) {"] + body + ["}"]).joined(separator: "\n")
    }

    /// One line per number the checks need, read back by `measurements`.
    static func gradientScript(_ c: Case) -> String {
        let wrt = c.wrt.map { "\"\($0)\"" }.joined(separator: ", ")
        let reference = c.wrt.map { "\"\($0)\": load(\(quoted(c.grads[$0] ?? "")))" }.joined(separator: ", ")
        let leaves = c.leaves.map { "\"\($0)\"" }.joined(separator: ", ")
        return prelude(c) + """

            result = value_and_grad(loss, wrt=[\(wrt)])(\(c.params.joined(separator: ", ")))
            reference = {\(reference)}
            print(format("value {:.12e}", item(result.value)))
            for leaf in [\(leaves)] {
                g = result.grad[leaf]
                ref = reference[leaf]
                if type(g) != "tensor" {
                    print(format("leaf {} kind {}", leaf, type(g)))
                } else if shape(g) != shape(ref) {
                    print(format("leaf {} shape {} instead of {}", leaf, shape(g), shape(ref)))
                } else {
                    print(format("leaf {} error {:.9e} {:.9e}", leaf, item(norm(g - ref)), item(norm(ref))))
                }
            }
            """
    }

    /// The printed lines by their first two words ("value" or "leaf NAME"): the rest, split at spaces.
    static func measurements(_ output: String) -> [String: [String]] {
        var found: [String: [String]] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "value", words.count == 2 {
                found["value"] = [words[1]]
            } else if words.first == "leaf", words.count >= 3 {
                found["leaf " + words[1]] = Array(words.dropFirst(2))
            }
        }
        return found
    }

    static func checkValue(_ c: Case, _ printed: String?) {
        checkValue(name: c.name, value: c.value, scale: c.valueScale, tolerance: c.tolerance, printed)
    }

    static func checkValue(name: String, value reference: Double, scale: Double, tolerance: Double, _ printed: String?) {
        guard let printed, let value = Double(printed) else {
            Issue.record("\(name): the loss printed no value")
            return
        }
        let error = abs(value - reference) / scale
        #expect(error <= tolerance, "\(name): loss \(value), reference \(reference): |tx - ref| / sum|out * R| = \(error) > \(tolerance)")
    }

    /// Holds a printed "leaf NAME error DIFFERENCE NORM" line to DIFFERENCE <= tolerance * bound,
    /// where bound is NORM unless given.
    static func checkLeaf(_ name: String, _ leaf: String, _ words: [String]?, tolerance: Double, bound: Double? = nil) {
        guard let words else {
            Issue.record("\(name): no gradient printed for \(leaf)")
            return
        }
        guard words.first == "error", words.count == 3, let difference = Double(words[1]), let norm = Double(words[2]) else {
            Issue.record("\(name): the gradient of \(leaf) has the wrong \(words.joined(separator: " "))")
            return
        }
        if let bound {
            #expect(difference <= tolerance * bound,
                    "\(name): the gradient of \(leaf) should be 0; tx's differs by \(difference), more than \(tolerance) x \(bound) (the whole gradient's norm)")
        } else {
            #expect(difference <= tolerance * norm, "\(name): \(leaf): ||tx - ref|| / ||ref|| = \(difference / norm) > \(tolerance)")
        }
    }

    /// A tx string literal.
    static func literal(_ text: String) -> String { Display.quoted(text) }

    /// Loads the model case's files and the model, and defines `fn loss(m, R)`.
    static func modelPrelude(_ c: ModelCase) -> String {
        let loads = c.inputs.keys.sorted().map { "\($0) = load(\(quoted(c.inputs[$0] ?? "")))" }
        return (loads + [
            "m = load_model(\(literal(c.model)))",
            "sentences = [\(c.sentences.map(literal).joined(separator: ", "))]",
            "fn loss(\(c.params.joined(separator: ", "))) {",
            "    \(c.body)",
            "}",
        ]).joined(separator: "\n")
    }

    static func modelGradientScript(_ c: ModelCase) -> String {
        let projections = c.projections.keys.sorted().map { "\"\($0)\": load(\(quoted(c.projections[$0] ?? "")))" }
        let rows = c.rows.keys.sorted().map { "\"\($0)\": load(\(quoted(c.rows[$0] ?? "")))" }
        var lines = [
            modelPrelude(c),
            "U = {\(projections.joined(separator: ", "))}",
            "rows = {\(rows.joined(separator: ", "))}",
            "reference = {m: load(\(quoted(c.grads["m"] ?? "")))}",
            "result = value_and_grad(loss, wrt=[\"m\"])(\(c.params.joined(separator: ", ")))",
            "print(format(\"value {:.12e}\", item(result.value)))",
            "fn report(leaf, a, ref) {",
            "    if shape(a) != shape(ref) {",
            "        print(format(\"leaf {} shape {} instead of {}\", leaf, shape(a), shape(ref)))",
            "    } else {",
            "        print(format(\"leaf {} error {:.9e} {:.9e}\", leaf, item(norm(a - ref)), item(norm(ref))))",
            "    }",
            "}",
        ]
        for leaf in c.leaves.keys.sorted() {
            let name = "\"\(leaf)\""
            switch c.leaves[leaf] {
            case "rows":
                lines += ["g = result.grad[\(name)]; r = rows[\(name)]",
                          "report(\(name), g[r], reference[\(name)])",
                          "h = copy(g); h[r] = 0",
                          "print(format(\"leaf {}[rest] error {:.9e} {:.9e}\", \(name), item(norm(h)), item(norm(reference[\(name)]))))"]
            case "projected":
                let norm = c.norms[leaf] ?? 0
                lines += ["g = result.grad[\(name)]",
                          "report(\(name), g @ U[str(size(g, -1))], reference[\(name)])",
                          "print(format(\"leaf {}[norm] error {:.9e} {:.9e}\", \(name), abs(item(norm(g)) - \(norm)), \(norm)))"]
            default:
                lines += ["report(\(name), result.grad[\(name)], reference[\(name)])"]
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// The manifest reads, names at least the cases issue 17 asks for, and every file it
/// names is there.
@Test func gradientManifestIsComplete() throws {
    let cases = try GradientFixtures.load()
    #expect(cases.count >= 90)
    let names = Set(cases.map(\.name))
    for required in ["attention_fully_masked_row", "attention_1100_keys", "attention_padding_mask",
                     "attention_causal_rectangular", "encoder_block_padded", "decoder_block", "encoder_stack",
                     "loop_rnn", "tied_embedding", "max_axis_ties", "maximum_ties", "ellipsis", "clip_both",
                     "clip_one_bound", "cumsum_axes", "sort_ascending_descending", "flip", "einsum_attention_scores",
                     "einsum_batched_permuted", "einsum_sums_and_implicit", "einsum_ellipsis_broadcast",
                     "einsum_ellipsis_implicit_and_summed", "einsum_three_chain", "einsum_three_attention",
                     "einsum_diagonal_trace"] {
        #expect(names.contains(required), "no case \(required)")
    }
    for c in cases {
        #expect(c.params.last == "R" && Set(c.params) == Set(c.inputs.keys), "\(c.name): params and inputs differ")
        #expect(Set(c.wrt).isSubset(of: Set(c.params)) && Set(c.wrt) == Set(c.grads.keys), "\(c.name): wrt")
        #expect(Set(c.zeroLeaves).isSubset(of: Set(c.leaves)), "\(c.name): zero_leaves")
        for file in Array(c.inputs.values) + Array(c.grads.values) {
            #expect(FileManager.default.fileExists(atPath: GradientFixtures.folder + "/" + file), "\(c.name): \(file) is missing")
        }
    }
}

/// The forward half of every case: tx's loss equals PyTorch's float64 loss. Runs with
/// or without the gradient engine.
@Test(arguments: GradientFixtures.cases)
func gradientFixtureLoss(_ c: GradientFixtures.Case) {
    let (output, error) = runScript(GradientFixtures.prelude(c) + """

        print(format("value {:.12e}", item(loss(\(c.params.joined(separator: ", "))))))
        """, name: c.name + ".tx")
    #expect(error == nil, "\(c.name): \(error?.rendered() ?? "")")
    GradientFixtures.checkValue(c, GradientFixtures.measurements(output)["value"]?.first)
}

/// value_and_grad of every case against PyTorch's float64 gradients, leaf by leaf.
@Test(.enabled(if: GradientFixtures.engineExists, "value_and_grad is not a builtin yet (issue 17)"),
      arguments: GradientFixtures.cases)
func gradientAgreesWithPyTorch(_ c: GradientFixtures.Case) {
    let (output, error) = runScript(GradientFixtures.gradientScript(c), name: c.name + ".tx")
    #expect(error == nil, "\(c.name): \(error?.rendered() ?? "")")
    let found = GradientFixtures.measurements(output)
    GradientFixtures.checkValue(c, found["value"]?.first)
    for leaf in c.leaves {
        GradientFixtures.checkLeaf(c.name, leaf, found["leaf " + leaf], tolerance: c.tolerance,
                                   bound: c.zeroLeaves.contains(leaf) ? c.gradNorm : nil)
    }
}

/// The gradient of embed with respect to all-MiniLM-L6-v2's whole record (issue 17's last
/// case), and the loss it starts from. They hold the model, so they run one at a time.
extension OneAtATime {
    static let modelCases: [GradientFixtures.ModelCase] = (try? GradientFixtures.manifest().models) ?? []

    @Test(MiniLM.needed) func miniLMEmbedLossAgreesWithPyTorch() {
        #expect(!Self.modelCases.isEmpty, "manifest.json has no model case")
        for c in Self.modelCases {
            let (output, error) = runScript(GradientFixtures.modelPrelude(c) + """

                print(format("value {:.12e}", item(loss(\(c.params.joined(separator: ", "))))))
                """, name: c.name + ".tx")
            #expect(error == nil, "\(c.name): \(error?.rendered() ?? "")")
            GradientFixtures.checkValue(name: c.name, value: c.value, scale: c.valueScale, tolerance: c.tolerance,
                                        GradientFixtures.measurements(output)["value"]?.first)
        }
    }

    @Test(MiniLM.needed, .enabled(if: GradientFixtures.engineExists, "value_and_grad is not a builtin yet (issue 17)"))
    func miniLMEmbedGradientAgreesWithPyTorch() {
        #expect(!Self.modelCases.isEmpty, "manifest.json has no model case")
        for c in Self.modelCases {
            let (output, error) = runScript(GradientFixtures.modelGradientScript(c), name: c.name + ".tx")
            #expect(error == nil, "\(c.name): \(error?.rendered() ?? "")")
            let found = GradientFixtures.measurements(output)
            GradientFixtures.checkValue(name: c.name, value: c.value, scale: c.valueScale, tolerance: c.tolerance,
                                        found["value"]?.first)
            #expect(c.leaves.count > 100, "\(c.name): \(c.leaves.count) leaves")
            for (leaf, kind) in c.leaves.sorted(by: { $0.key < $1.key }) {
                let zero = c.zeroLeaves.contains(leaf)
                GradientFixtures.checkLeaf(c.name, leaf, found["leaf " + leaf], tolerance: c.tolerance,
                                           bound: zero ? c.gradNorm : nil)
                if kind == "rows" {
                    // The rows no sentence uses: 0, up to the tolerance times the used rows' norm.
                    GradientFixtures.checkLeaf(c.name, leaf + "[rest]", found["leaf " + leaf + "[rest]"],
                                               tolerance: c.tolerance, bound: nil)
                } else if kind == "projected" && !zero {
                    GradientFixtures.checkLeaf(c.name, leaf + "[norm]", found["leaf " + leaf + "[norm]"],
                                               tolerance: c.tolerance, bound: nil)
                }
            }
        }
    }
}
