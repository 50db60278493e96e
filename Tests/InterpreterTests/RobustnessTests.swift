import Glibc
import Interpreter
import Lang
import Tensor
import TestSupport
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

/// Chains of 100,000 records, lists and closures are freed one link at a time: nested
/// deinits would need far more than the 4 MiB stack they are dropped on here (the CLI
/// test does the same on the main thread).
@Test func deepChainsAreFreedWithoutRecursion() {
    onSmallStack {
        let interpreter = Interpreter(output: { _ in })
        var chains = try? interpreter.run("""
            fn wrap(g) { fn() { g() + 1 } }
            fn make(n) {
                f = fn() { 0 }; node = none; items = none
                for i in range(n) { f = wrap(f); node = {val: i, next: node}; items = [i, items] }
                [f, node, items]
            }
            make(100000)
            """, name: "chains.tx", echo: false)
        guard case .list(let list)? = chains, list.items.count == 3, case .record(let node) = list.items[1],
              case .number(let last)? = node["val"] else {
            Issue.record("no chains")
            return
        }
        #expect(last == 99999)
        chains = nil
    }
}

/// A name of a million dotted parts would nest a million records: refused, as save
/// refuses them, with the name shortened.
@Test func aSafetensorsNameOfAMillionPartsIsAnError() throws {
    let name = Array(repeating: "a", count: 1_000_000).joined(separator: ".")
    let path = "/tmp/tx-deep-name-\(getpid()).safetensors"
    try writeFile(path: path, bytes: try SafeTensors.encode([(name, try Tensor.zeros([1]))]))
    defer { unlink(path) }
    let (_, error) = runScript("p = load(\"\(path)\")")
    #expect(error?.message == "io error: the name '\(name.prefix(60))…' has 1000000 dotted parts; records nest at most 32 deep")
    #expect(error?.span?.column == 5)
}

/// A .safetensors file written by hand: `header` is its JSON header, each entry one F32.
func safetensorsFile(_ names: [String]) throws -> String {
    let header = "{" + names.enumerated().map { i, name in
        "\"\(name)\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [\(4 * i), \(4 * i + 4)]}"
    }.joined(separator: ", ") + "}"
    let h = Array(header.utf8)
    let bytes = (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + [UInt8](repeating: 0, count: 4 * names.count)
    let path = "/tmp/tx-names-\(getpid())-\(names.joined(separator: "_")).safetensors"
    try writeFile(path: path, bytes: bytes)
    return path
}

/// Names that cannot nest are reported with the file's name and what is wrong with them.
@Test func safetensorsNamesThatCannotNestNameTheFile() throws {
    for (names, why) in [(["a", "a"], "the name 'a' appears twice in the header"),
                         (["a", "a.b"], "the name 'a.b' is both a tensor and a group of tensors"),
                         (["a.b", "a"], "the name 'a' is both a tensor and a group of tensors")] {
        let path = try safetensorsFile(names)
        defer { unlink(path) }
        let (_, error) = runScript("p = load(\"\(path)\")")
        #expect(error?.message == "io error: \(path): \(why)")
        #expect(error?.span?.column == 5)
    }
}

/// The root of a .safetensors file is a record even when its names are 0..n-1, so that
/// save takes it back; only nested groups with such names become lists.
@Test func numericTopLevelNamesLoadAsARecordThatSaves() throws {
    let path = try safetensorsFile(["0", "1", "2.0", "2.1"])
    defer { unlink(path) }
    let (output, error) = runScript("""
        p = load("\(path)")
        type(p)
        p["2"]
        save("\(path)", p)
        keys(load("\(path)"))
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == "\"record\"\n[tensor [1], tensor [1]]\n[\"0\", \"1\", \"2\"]\n")
}

/// A chain of operators, transposes, calls, fields or indexes is parsed by a loop, but
/// compiling, evaluating and freeing it recurse once per link: 10^5 links overflowed the
/// interpreter's stack (SIGSEGV). Past `Parser.maxDepth` links it is a nesting error at
/// the link that went too deep; up to it, it runs.
private let longChains: [(program: String, column: Int)] = {
    let links = 100_000
    let sum: String = "x = " + Array(repeating: "1", count: links).joined(separator: " + ")
    let transposes: String = "x = ones(2, 2)" + String(repeating: "'", count: links)
    let calls: String = "fn f() = f\nf" + String(repeating: "()", count: links)
    let fields: String = "r = {a: 1}\nr" + String(repeating: ".a", count: links)
    let indexes: String = "l = [1]\nl" + String(repeating: "[0]", count: links)
    let negations: String = "x = " + String(repeating: "-", count: links) + "1"
    // The column of the character that takes the tree past 10,000 levels (ones(2, 2) is
    // two levels itself; 0: the nesting limit of brackets and unary operators).
    return [(sum, 40_005), (transposes, 10_013), (calls, 20_001), (fields, 20_001), (indexes, 30_001), (negations, 0)]
}()

@Test(arguments: longChains)
func longChainsAreANestingErrorNotACrash(_ program: String, _ column: Int) {
    let (_, error) = runScript(program)
    #expect(error?.kind == .limit)
    if column > 0 {
        #expect(error?.message == "nesting limit: an expression more than 10000 operations deep")
        #expect(error?.span?.column == column)
    } else {
        #expect(error?.message == "nesting limit: more than 256 levels of nesting")
    }
}

@Test func chainsUpToTheLimitRun() {
    let (output, error) = runScript("""
        x = \(Array(repeating: "1", count: 10_000).joined(separator: " + "))
        x
        y = [[1, 2]]\(String(repeating: "'", count: 9_991))
        y
        fn f() = f
        f\(String(repeating: "()", count: 9_998))
        """)
    #expect(error == nil)
    #expect(output == "10000\ntensor [2, 1]\n[[1],\n [2]]\n<fn f()>\n")
}
