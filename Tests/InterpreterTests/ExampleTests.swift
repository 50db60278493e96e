import Interpreter
import Testing

/// Every lecture example in examples/ runs to the end without an error; the asserts
/// inside each example check what it claims.
let examplesDirectory: String = {
    let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    return parts.dropLast(3).joined(separator: "/") + "/examples"
}()

extension OneAtATime {
    /// One at a time with the model tests: 14_costs.tx measures memory().peak, which
    /// counts every tensor of the process.
    @Test(arguments: listDirectory(examplesDirectory).filter { $0.hasSuffix(".tx") })
    func example(_ file: String) throws {
        let path = examplesDirectory + "/" + file
        let source = try Runner.readSource(path: path)
        // The pretrained-model examples need all-MiniLM-L6-v2 (see ModelTests).
        if source.contains("load_model("), !MiniLM.available(file) { return }
        // memory(limit=) sets the limit of the whole process, which every test shares:
        // CLITests runs such examples through tx (examplesThatSetTheMemoryLimitRunPlain).
        if source.contains("memory(limit=") { return }
        let (_, error) = runScript(source, name: path)
        #expect(error == nil, "\(file): \(error?.rendered() ?? "")")
    }
}

@Test func thereAreExamples() {
    #expect(listDirectory(examplesDirectory).filter { $0.hasSuffix(".tx") }.count >= 5)
}
