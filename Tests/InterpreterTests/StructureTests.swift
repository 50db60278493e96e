import Foundation
@testable import Interpreter
import Lang
import Tensor
import Testing

/// Rules the compiler cannot hold the sources to (issue 22): each has one home, and these
/// tests fail when a second one appears.

private let root = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    .dropLast(3).joined(separator: "/")

private func swiftSources() throws -> [(path: String, text: String)] {
    let enumerator = FileManager.default.enumerator(atPath: root + "/Sources")
    var files: [(String, String)] = []
    while let path = enumerator?.nextObject() as? String {
        guard path.hasSuffix(".swift") else { continue }
        files.append(("Sources/" + path, try String(contentsOfFile: root + "/Sources/" + path, encoding: .utf8)))
    }
    return files.sorted { $0.0 < $1.0 }
}

/// An error's label comes from its kind (`TxError.Kind.label`) or its `label:` argument:
/// a message that spells it again would read "type error: type error: ...".
@Test func noErrorSpellsItsLabelInItsMessage() throws {
    let labels = "syntax error|name error|type error|shape mismatch|index error|value error|arity error|assertion failed|io error|memory limit|out of memory|nesting limit|recursion limit|gradient error|internal error"
    let pattern = try Regex("(TxError\\(\\.\\w+,|TensorError\\(\\.\\w+,|TensorError\\.\\w+\\(|throw \\.\\w+\\()\\s*\"(\(labels))( in [^\":]+)?: ")
    var found: [String] = []
    for (path, text) in try swiftSources() {
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(pattern) {
            found.append("\(path):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
        }
    }
    #expect(found == [])
}

/// Tensor cannot see Lang, so TensorError's kinds spell their labels again: they must be
/// the words of the interpreter's kinds they become.
@Test func tensorErrorLabelsAreTheInterpretersLabels() {
    let kinds: [TensorError.Kind] = [.shape, .index, .value, .type, .memory, .io, .interrupted]
    for kind in kinds {
        let error = TxError(TensorError(kind, "detail"), at: nil)
        #expect(error.label == error.kind.label, "\(kind): \(error.label) != \(error.kind.label)")
    }
}

/// docs/ARCHITECTURE.md's module table names every target of Package.swift.
@Test func theArchitecturePageNamesEveryModule() throws {
    let package = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
    let page = try String(contentsOfFile: root + "/docs/ARCHITECTURE.md", encoding: .utf8)
    let targets = package.matches(of: try Regex("\\.(?:target|executableTarget|systemLibrary)\\(name: \"(\\w+)\"([^)]*path: \"([^\"]+)\")?"))
        .compactMap { match -> String? in
            let name = match.output[1].substring.map(String.init) ?? ""
            // Test targets are the Tests section's, not the module table's.
            if let path = match.output[3].substring { return path.hasPrefix("Tests/") ? nil : String(path) }
            return "Sources/" + name
        }
    #expect(targets.count >= 9)
    let missing = targets.filter { !page.contains("`\($0)`") }
    #expect(missing == [], "docs/ARCHITECTURE.md does not name \(missing)")
}
