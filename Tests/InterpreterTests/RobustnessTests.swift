import Glibc
import Interpreter
import Lang
import Tensor
import Testing

/// Pathological input through the whole interpreter: an error with a place, never a crash.
@Test(arguments: [
    String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000),
    String(repeating: "[", count: 5000) + "1" + String(repeating: "]", count: 5000),
    String(repeating: "-", count: 5000) + "1",
    "x = " + Array(repeating: "1", count: 5000).joined(separator: " + "),
    String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000),
])
func deepNestingThroughTheInterpreter(_ text: String) {
    let (_, error) = runScript(text)
    if let error {
        #expect(error.kind == .limit)
        #expect(error.span != nil)
    }
}

@Test func aLongLeftNestedSumEvaluates() throws {
    let (output, error) = runScript(Array(repeating: "1", count: 5000).joined(separator: " + "))
    #expect(error == nil)
    #expect(output == "5000\n")
}

@Test func malformedFilesAreErrorsInTx() throws {
    let good = try NPY.encode(try Tensor.arange(start: 0, stop: 6, step: 1))
    let path = "/tmp/tx-truncated-\(getpid()).npy"
    try writeFile(path: path, bytes: Array(good.prefix(good.count - 3)))
    defer { unlink(path) }
    let (_, error) = runScript("x = load(\"\(path)\")")
    #expect(error?.kind == .io)
    #expect(error?.message == "io error: \(path): truncated: the header says 24 bytes of data, the file has 21")
    #expect(error?.span?.column == 5)
    let (_, missing) = runScript("load(\"/tmp/tx-surely-missing.safetensors\")")
    #expect(missing?.message == "io error: no such file: /tmp/tx-surely-missing.safetensors")
}

@Test func theSessionSurvivesErrors() throws {
    var output = ""
    let interpreter = Interpreter(output: { output += $0 })
    try interpreter.run("x = 41", name: "a", echo: true)
    for bad in ["x @ x", "x[", "nope", "zeros(1000000, 1000000)", "fn f(n) = f(n + 1); f(0)", "load(\"/nonexistent.npy\")"] {
        #expect(throws: TxError.self) { try interpreter.run(bad, name: "bad", echo: true) }
    }
    try interpreter.run("x + 1", name: "b", echo: true)
    #expect(output == "42\n")
}
