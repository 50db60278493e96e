import Console
import Glibc
import Interpreter
import Testing
import Transformer

/// Every builtin's `:help` example runs, in a fresh session, without an error.
@Test func everyHelpExampleRuns() {
    let builtins = Interpreter(output: { _ in }).builtinList
    #expect(builtins.count > 80)
    // The pretrained-model examples load all-MiniLM-L6-v2: OneAtATime.modelHelpExamplesRun runs them.
    for (name, example) in builtins.filter({ $0.category != .models }).map({ ($0.name, $0.example) }) {
        let (_, error) = runScript(example, name: "example of \(name)")
        #expect(error == nil, "\(name): \(example): \(error?.rendered() ?? "")")
    }
}

/// Every builtin has a help entry with its signature first, and the core builtins
/// are all there.
@Test func helpCoversTheBuiltins() {
    let interpreter = Interpreter(output: { _ in })
    for builtin in interpreter.builtinList {
        let text = Help.topic(builtin.name, interpreter) ?? ""
        #expect(text.hasPrefix(builtin.signature + "\n"), "\(builtin.name)")
        #expect(text.contains("example: "), "\(builtin.name)")
    }
    let promised = """
        zeros ones full eye arange linspace randn rand seed shape size rank reshape transpose permute squeeze
        unsqueeze concat stack split tril triu exp log sqrt abs tanh sin cos sigmoid relu gelu maximum minimum
        where sum mean max min argmax var std logsumexp norm softmax layernorm linear sinusoidal causal_mask
        padding_mask attention attention_weights mha mha_weights ffn encoder_block decoder_block encoder decoder
        transformer init_mha init_ffn init_layernorm init_encoder_block init_decoder_block init_transformer load
        save words str len keys print format assert assert_close heatmap savefig item
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    for name in promised {
        #expect(interpreter.builtins[name] != nil, "\(name) is missing")
    }
    #expect(Help.topic("blas", interpreter)?.contains("core:") == true)
    #expect(Help.overview(interpreter).contains("Attention and Transformers:"))
}

/// The constants have help too, and their examples run.
@Test func constantsHaveHelp() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Help.overview(interpreter).contains("Constants:\n  pi inf nan args\n"))
    for name in ["pi", "inf", "nan", "args"] {
        let text = Help.topic(name, interpreter) ?? ""
        #expect(text.hasPrefix(name + "\n"), "\(name)")
        let example = text.split(separator: "example: ").last.map { String($0.filter { $0 != "\n" }) } ?? ""
        let (_, error) = runScript(example, name: "example of \(name)")
        #expect(!example.isEmpty && error == nil, "\(name): \(example)")
    }
}

/// The language reference in the repository names every builtin and constant, so a new
/// builtin cannot be added without documenting it there.
@Test func referenceNamesEveryBuiltin() throws {
    let folder = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
    let reference = try Runner.readSource(path: folder + "/docs/LANGUAGE.md")
    let words = Set(reference.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init))
    let interpreter = Interpreter(output: { _ in })
    #expect(words.count > 500)
    #expect(Help.topic("syntax", interpreter)?.contains("docs/LANGUAGE.md") == true)
    for name in interpreter.builtinList.map(\.name) + ["pi", "inf", "nan", "args"] {
        #expect(words.contains(name), "docs/LANGUAGE.md does not name \(name)")
    }
}

/// Each layer's parameter record, as its type declares it (`ParameterLayer.fields`),
/// is written in the language reference and in its initialiser's help, and an
/// initialiser gives a record with exactly those fields.
@Test(arguments: ["init_mha(8)", "init_ffn(8, 16)", "init_layernorm(8)", "init_encoder_block(8, 2, 16)", "init_decoder_block(8, 2, 16)"])
func parameterRecordsAreDeclaredOnce(_ initialiser: String) throws {
    let layers: [String: any ParameterLayer.Type] = [
        "init_mha": MultiHeadAttention.self, "init_ffn": FeedForward.self, "init_layernorm": LayerNorm.self,
        "init_encoder_block": EncoderBlock.self, "init_decoder_block": DecoderBlock.self,
    ]
    let name = String(initialiser.prefix { $0 != "(" })
    let layer = try #require(layers[name])
    let folder = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
    let reference = try Runner.readSource(path: folder + "/docs/LANGUAGE.md")
    let flat = reference.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(flat.contains("`p = \(layer.structure)`") || flat.contains("`\(layer.structure)`"),
            "docs/LANGUAGE.md does not write \(layer.structure)")
    let interpreter = Interpreter(output: { _ in })
    let help = try #require(Help.topic(name, interpreter))
    #expect(help.contains(layer.structure), "\(name)'s help does not write \(layer.structure)")
    let (output, error) = runScript("keys(\(initialiser))")
    #expect(error == nil)
    #expect(output == "[" + layer.fields.map { "\"\($0.name)\"" }.joined(separator: ", ") + "]\n")
}

/// `:help vars` says what `:vars` shows of a tensor.
@Test func helpVarsExplainsTheValueColumn() {
    let interpreter = Interpreter(output: { _ in })
    let text = Help.topic("vars", interpreter) ?? ""
    #expect(text.hasPrefix(":vars (also whos) lists your variables"))
    #expect(text.contains("a longer vector its first elements, … and its last"))
    #expect(Help.topics(interpreter).contains("vars"))
}

/// plot's path= writes the plot as SVG: a polyline per run of finite points (nan breaks
/// a series), a dot for a lone point, and the legend's labels.
@Test func plotWritesItsSVG() throws {
    let path = "/tmp/tx-plot-test-\(getpid()).svg"
    defer { unlink(path) }
    let (_, error) = runScript("plot([0, 1, 2, 3], [[1, 2, nan, 4], [2, 2, 2, 2]], labels=[\"a\", \"b\"], title=\"t\", path=\"\(path)\")")
    #expect(error == nil, "\(error?.rendered() ?? "")")
    let svg = try Runner.readSource(path: path)
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
    #expect(svg.components(separatedBy: "<circle").count - 1 == 1)
    #expect(svg.contains(">a</text>") && svg.contains(">b</text>") && svg.contains(">t</text>"))
    #expect(svg.hasSuffix("</svg>\n"))
}

/// The SVG legend gives each entry the room of its label (7 px a character): long labels
/// do not run into the next entry, and entries that would pass the plot's right edge
/// start a new row below, the picture growing by a row's height.
@Test func plotLegendMakesRoomForLongLabels() throws {
    let path = "/tmp/tx-plot-legend-test-\(getpid()).svg"
    defer { unlink(path) }
    func legend(_ labels: [String]) throws -> (svg: String, lines: [(x: Int, y: Int)]) {
        let list = labels.map { "\"\($0)\"" }.joined(separator: ", ")
        let (_, error) = runScript("plot([0, 1], [[0, 1], [1, 0], [1, 1], [0, 0]][:\(labels.count)], labels=[\(list)], path=\"\(path)\")")
        #expect(error == nil, "\(error?.rendered() ?? "")")
        let svg = try Runner.readSource(path: path)
        let lines = svg.matches(of: /<line x1="(\d+)" y1="(\d+)"/).map { (x: Int($0.1) ?? -1, y: Int($0.2) ?? -1) }
        return (svg, lines)
    }
    let three = try legend(["baseline", "without sqrt(d_k)", "without residuals"])
    #expect(three.lines.map(\.x) == [70, 70 + 26 + 7 * 8 + 20, 70 + 2 * (26 + 20) + 7 * (8 + 17)])
    #expect(three.lines.allSatisfy { $0.y == 342 })
    #expect(three.svg.contains("height=\"360\""))
    let long = String(repeating: "a", count: 20)              // 186 px an entry: two fit in 550
    let wrapped = try legend([long, long, long, long])
    #expect(wrapped.lines.map(\.x) == [70, 70 + 26 + 7 * 20 + 20, 70, 70 + 26 + 7 * 20 + 20])
    #expect(wrapped.lines.map(\.y) == [342, 342, 358, 358])
    #expect(wrapped.svg.contains("height=\"376\""))
}
