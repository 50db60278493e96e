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

@Test func fileNamesCompleteInStringsAndAfterLoadAndStep() {
    #expect(Completion.completesFileNames(before: "x = load(", insideString: true))
    #expect(Completion.completesFileNames(before: ":load ", insideString: false))
    #expect(Completion.completesFileNames(before: "  :step ", insideString: false))
    #expect(!Completion.completesFileNames(before: "x = ", insideString: false))
    #expect(!Completion.completesFileNames(before: ":help ", insideString: false))
}
