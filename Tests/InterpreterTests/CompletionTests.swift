@testable import Console
import Interpreter
import Testing

@Test func completionOffersNamesFieldsAndCommands() throws {
    let interpreter = Interpreter(output: { _ in })
    try interpreter.run("params = init_encoder_block(8, 2, 16); softness = 1", name: "t", echo: false)
    #expect(Completion.candidates(for: "soft", in: interpreter) == ["softmax", "softness"])
    #expect(Completion.candidates(for: "params.at", in: interpreter) == ["params.attn"])
    #expect(Completion.candidates(for: "params.attn.W", in: interpreter) == ["params.attn.Wk", "params.attn.Wo", "params.attn.Wq", "params.attn.Wv"])
    #expect(Completion.candidates(for: "params.nope.x", in: interpreter) == [])
    #expect(Completion.candidates(for: ":he", in: interpreter) == [":help"])
    #expect(Completion.candidates(for: "whi", in: interpreter) == ["while"])
}

@Test func fieldsCompleteAtAnyDepthAndAfterAnIndex() throws {
    let interpreter = Interpreter(output: { _ in })
    try interpreter.run("m = {layers: [{attn: {Wq: 1}, ffn: 2}, 3], deep: {a: {b: {c: {leaf: 1}}}}}", name: "t", echo: false)
    #expect(Completion.candidates(for: "m.deep.a.b.c.l", in: interpreter) == ["m.deep.a.b.c.leaf"])
    // `]` breaks the word: readline hands over ".a" with the path before it.
    #expect(Completion.candidates(for: ".a", before: "y = m.layers[0]", in: interpreter) == [".attn"])
    #expect(Completion.candidates(for: ".", before: "m.layers[-2]", in: interpreter) == [".attn", ".ffn"])
    #expect(Completion.candidates(for: ".", before: "m.layers[1]", in: interpreter) == [])
    #expect(Completion.candidates(for: ".", before: "m.layers[f(0)]", in: interpreter) == [])
}

@Test func insideACallKeywordNamesCompleteAndStatementsDoNot() throws {
    let interpreter = Interpreter(output: { _ in })
    try interpreter.run("fn scale(x, beta=2) = x * beta; x = 1", name: "t", echo: false)
    #expect(Completion.place(before: "y = softmax(x, ") == .expression(call: "softmax"))
    #expect(Completion.candidates(for: "ax", before: "softmax(x, ", in: interpreter) == ["axis="])
    #expect(Completion.candidates(for: "bet", before: "scale(x + f(1), ", in: interpreter) == ["beta="])
    // After `axis=` a value stands, not a keyword name.
    #expect(Completion.candidates(for: "ax", before: "softmax(x, axis=", in: interpreter) == [])
    #expect(Completion.candidates(for: "cont", before: "softmax(", in: interpreter) == [])
    #expect(Completion.candidates(for: "tr", before: "softmax(", in: interpreter).contains("true"))
    #expect(Completion.candidates(for: ":", before: "softmax(", in: interpreter) == [])
    #expect(Completion.candidates(for: "cont", before: "for i in range(3) { ", in: interpreter) == ["continue"])
    #expect(Completion.candidates(for: "cont", before: "r = {a: ", in: interpreter) == [])
    #expect(Completion.candidates(for: "ax", before: "print(\"softmax(x, \", ", in: interpreter) == [])
}

@Test func pathsAndHelpTopicsCompleteAfterTheirCommands() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Completion.place(before: ":step ") == .file)
    #expect(Completion.place(before: "  :load ") == .file)
    #expect(Completion.place(before: "x = load(\"") == .file)
    #expect(Completion.place(before: ":help ") == .helpTopic)
    #expect(Completion.place(before: "x = ") == .expression(call: nil))
    #expect(Completion.candidates(for: "syn", before: ":help ", in: interpreter) == ["syntax"])
    #expect(Completion.candidates(for: "ar", before: ":time ", in: interpreter).contains("arange"))
}

@Test func aUniqueBuiltinShowsItsSignature() {
    let interpreter = Interpreter(output: { _ in })
    #expect(Completion.signature(for: ["softmax"], in: interpreter) == "softmax(x, axis=-1)")
    #expect(Completion.signature(for: ["softmax", "softness"], in: interpreter) == nil)
}

/// Inside a string, text that ends in a backslash and the start of a LaTeX name completes
/// as that name (the REPL then completes it as outside a string); an escaped backslash,
/// or a name no LaTeX name starts with, leaves it to file names.
@Test func aLaTeXNameEndingTheTextInsideAStringIsFound() {
    #expect(Completion.endsInString("s = \"angle \\alp"))
    #expect(Completion.latexName(endingAt: "s = \"angle \\alp") == "alp")
    #expect(Completion.latexName(endingAt: "s = \"x\\_1") == "_1")
    #expect(Completion.latexName(endingAt: "s = \"a\\\\alpha") == nil)
    #expect(Completion.latexName(endingAt: "s = \"a\\\\\\alpha") == "alpha")
    #expect(Completion.latexName(endingAt: "s = \"data/\\zzz") == nil)
    #expect(Completion.latexName(endingAt: "s = \"examples/03") == nil)
    #expect(!Completion.endsInString("s = \"a\" + b"))
    #expect(!Completion.endsInString("s = 1  # \"comment"))
    #expect(Completion.endsInString("s = \"a\\\" b"))
    #expect(Completion.candidates(for: "\\alp", in: Interpreter(output: { _ in })) == ["α"])
}
