import Interpreter
import Testing

/// Every lecture example in examples/ runs to the end without an error; the asserts
/// inside each example check what it claims.
let examplesDirectory: String = {
    let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    return parts.dropLast(3).joined(separator: "/") + "/examples"
}()

@Test(arguments: listDirectory(examplesDirectory).filter { $0.hasSuffix(".tx") })
func example(_ file: String) throws {
    let path = examplesDirectory + "/" + file
    let (_, error) = runScript(try Runner.readSource(path: path), name: path)
    #expect(error == nil, "\(file): \(error?.rendered() ?? "")")
}

@Test func thereAreExamples() {
    #expect(listDirectory(examplesDirectory).filter { $0.hasSuffix(".tx") }.count >= 5)
}
