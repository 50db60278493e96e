import Glibc
import Interpreter
import Lang
import Testing

/// The `.tx` corpus in Tests/InterpreterTests/Scripts. Each file holds cases separated
/// by `#--- name` lines; each case runs in a fresh session and states what it prints
/// (`# expect: line`, one per line of output) and, when it must fail, the error message
/// (`# error: message`) and its place (`# error at: line:column`, counting lines from
/// the case's first line).
struct ScriptCase: CustomTestStringConvertible, Sendable {
    let file: String
    let name: String
    let line: Int
    let source: String
    let expected: [String]
    let error: String?
    let errorAt: String?

    var testDescription: String { "\(file):\(line) \(name)" }
}

let scriptsDirectory: String = {
    let path = #filePath
    let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return folder + "/Scripts"
}()

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted()
}

func loadScriptCases() throws -> [ScriptCase] {
    var cases: [ScriptCase] = []
    for file in listDirectory(scriptsDirectory) where file.hasSuffix(".tx") {
        let lines = try Runner.readSource(path: scriptsDirectory + "/" + file).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var current: (name: String, start: Int, body: [String])? = nil
        func finish() {
            guard let c = current else { return }
            var expected: [String] = [], error: String? = nil, errorAt: String? = nil
            for line in c.body {
                if line == "# expect:" { expected.append("") }
                if line.hasPrefix("# expect: ") { expected.append(String(line.dropFirst(10))) }
                if line.hasPrefix("# error: ") { error = String(line.dropFirst(9)) }
                if line.hasPrefix("# error at: ") { errorAt = String(line.dropFirst(12)) }
            }
            // Blank lines before the case keep its line numbers those of the file.
            let source = String(repeating: "\n", count: c.start) + c.body.joined(separator: "\n")
            cases.append(ScriptCase(file: file, name: c.name, line: c.start + 1, source: source,
                                    expected: expected, error: error, errorAt: errorAt))
        }
        for (i, line) in lines.enumerated() {
            if line.hasPrefix("#---") {
                finish()
                current = (String(line.dropFirst(4)).trimmingCharacters(), i + 1, [])
            } else if current != nil {
                current?.body.append(line)
            }
        }
        finish()
    }
    return cases
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Runs source in a fresh session, returning what it printed and the error, if any.
func runScript(_ source: String, name: String = "test.tx") -> (output: String, error: TxError?) {
    var output = ""
    let interpreter = Interpreter(output: { output += $0 })
    do {
        try interpreter.run(source, name: name, echo: true)
        return (output, nil)
    } catch let error as TxError {
        return (output, error)
    } catch {
        return (output + "unexpected error: \(error)", nil)
    }
}

@Test(arguments: try loadScriptCases())
func script(_ c: ScriptCase) {
    let (output, error) = runScript(c.source, name: c.file)
    var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    #expect(lines == c.expected, "output of \(c.testDescription)")
    if let expectedError = c.error {
        #expect(error?.message == expectedError, "error of \(c.testDescription)")
        // Lines count from the first line of the case.
        let place = error?.span.map { "\($0.line - c.line + 1):\($0.column)" }
        #expect(c.errorAt != nil, "\(c.testDescription) needs '# error at: line:column'")
        #expect(place == c.errorAt, "error place of \(c.testDescription)")
    } else {
        #expect(error == nil, "\(c.testDescription) failed: \(error?.rendered() ?? "")")
    }
}

@Test func corpusIsNotEmpty() throws {
    #expect(try loadScriptCases().count > 100)
}
