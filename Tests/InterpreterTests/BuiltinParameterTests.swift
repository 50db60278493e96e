import Foundation
@testable import Interpreter
import Lang
import Testing

/// A builtin's body reads its arguments by name (`args.tensor("axis")`). A name the builtin
/// does not declare must never read another argument: the scan below finds such a name in
/// the sources, and at run time it is an internal error, not a silently wrong value.

private let builtinsFolder = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    .dropLast(3).joined(separator: "/") + "/Sources/Interpreter/Builtins"

private func scan(_ files: [(name: String, text: String)]) throws -> ParameterScan {
    let library = try String(contentsOfFile: builtinsFolder + "/Library.swift", encoding: .utf8)
    let arguments = try String(contentsOfFile: builtinsFolder + "/../Arguments.swift", encoding: .utf8)
    let librarySource = SwiftSource(name: "Library.swift", text: library)
    let shorthands = librarySource.matches(#"static var (\w+): BuiltinParameter \{ \.\w+\("(\w+)""#, in: librarySource.all)
        .reduce(into: [String: String]()) { $0[$1.groups[0] ?? ""] = $1.groups[1] }
    let argumentsSource = SwiftSource(name: "Arguments.swift", text: arguments)
    let methods = Set(argumentsSource.matches(#"func (\w+)\(_ name: String"#, in: argumentsSource.all).compactMap { $0.groups[0] })
    let table = Interpreter().builtinList.reduce(into: [String: Set<String>]()) { $0[$1.name] = Set($1.parameters.map(\.name)) }
    return ParameterScan(files: files, shorthands: shorthands, methods: methods, table: table)
}

private func builtinFiles() throws -> [(name: String, text: String)] {
    try FileManager.default.contentsOfDirectory(atPath: builtinsFolder).filter { $0.hasSuffix(".swift") }.sorted()
        .map { ($0, try String(contentsOfFile: builtinsFolder + "/" + $0, encoding: .utf8)) }
}

@Test func builtinBodiesReadOnlyTheirParameters() throws {
    let scan = try scan(try builtinFiles())
    #expect(scan.shorthands == ["x": "x", "axisAll": "axis", "keepdims": "keepdims"])
    #expect(scan.methods.isSuperset(of: ["value", "span", "tensor", "int", "bool", "axes", "record", "typeError"]))
    #expect(scan.problems() == [])
    let (entries, _) = scan.scan()
    // The scan sees (nearly) every builtin: all but those made in loops under a computed name.
    let named = Set(entries.compactMap(\.name))
    #expect(named.count + 25 > scan.table.count, "the scan found only \(named.count) of \(scan.table.count) builtins")
    #expect(entries.filter { $0.name == nil }.count >= 5)
    // A typed entry is seen and left to the compiler (the encoder block reads heads,
    // activation, norm_first and eps through Params now; theScanFindsAWrongName's fixture
    // shows the scan following a helper, heads(args)).
    let encoder = try #require(entries.first { $0.name == "encoder_block" })
    #expect(encoder.typed)
    let heatmap = try #require(entries.first { $0.name == "heatmap" })
    #expect(heatmap.typed && heatmap.read.isEmpty)
}

/// A fixture written as the builtin files are, with one wrong name in each way of reading.
private let wrongFixture = #"""
    import Lang
    extension Library {
        static func broken() -> [Builtin] {
            let options: [BuiltinParameter] = [.optional("mask", .none, "none"), .optional("causal", .bool(false), "false")]
            return [
                builtin("mean", [.x, .axisAll, .keepdims, .optional("where", .none, "none")], "reduction", "The mean.", example: "mean([1])") { args in
                    .tensor(try args.tensor("x").reduce(.mean, axes: try args.axes("axs"), keepdims: try args.bool("keepdims")))
                },
                builtin("zeros", [.variadic("d")], "creation", "Zeros, \(1 + 1) of them (\"not code\").", example: "zeros(2)") { args in
                    .number(Double(try sizeArgument(args, "n")))
                },
                builtin("attention", [.required("Q"), .required("K"), .required("V")] + options, "attention", "",
                        example: "") { args in
                    throw TxError(.value, "value error: \(try args.value("Q")) and \(args.span("mask")) \(try heads(args))")
                },
            ]
        }
        private static func heads(_ args: Arguments) throws -> Int { try args.int("heads") }
    }
    func sizeArgument(_ args: Arguments, _ name: String) throws -> Int { try args.int(name) }
    """#

@Test func theScanFindsAWrongName() throws {
    let scan = try scan([("Broken.swift", wrongFixture)])
    #expect(scan.problems() == [
        "Broken.swift:6: mean reads the parameter 'axs', which it does not declare (it has axis, keepdims, where, x)",
        "Broken.swift:9: zeros reads the parameter 'n', which it does not declare (it has d)",
        "Broken.swift:12: attention reads the parameter 'heads', which it does not declare (it has K, Q, V, causal, mask)",
    ])
    let fixed = wrongFixture.replacingOccurrences(of: "\"axs\"", with: "\"axis\"")
        .replacingOccurrences(of: "args, \"n\"", with: "args, \"d\"")
        .replacingOccurrences(of: " \\(try heads(args))", with: "")
    #expect(ParameterScan(files: [("Fixed.swift", fixed)], shorthands: scan.shorthands, methods: scan.methods, table: scan.table).problems() == [])
}

@Test func theScanCatchesDeclarationsItCannotRead() throws {
    let scan = try scan([("Odd.swift", """
        let all = [builtin("sum", parameters(), "reduction", "", example: "") { a in .none }]
        """)])
    #expect(scan.problems() == [
        "Odd.swift:1: the body calls its Arguments 'a'; the scan reads only 'args'",
        "Odd.swift:1: the scan reads sum's parameters as [], the table has [\"axis\", \"keepdims\", \"where\", \"x\"]; teach ParameterScan how they are declared",
    ])
}

/// At run time an undeclared name is an internal error at the call, not argument 0.
@Test func readingAnUndeclaredParameterIsAnError() {
    var output = ""
    let interpreter = Interpreter(output: { output += $0 })
    let broken = Builtin("broken", [.x, .axisAll], category: .system, summary: "", example: "") { args in
        .tensor(try args.tensor("x").reduce(.sum, axes: try args.axes("axs"), keepdims: false))
    }
    interpreter.globals.define("broken", .builtin(broken))
    do {
        try interpreter.run("y = 1\ny = broken([[1, 2], [3, 4]], axis=0)", name: "t.tx", echo: true)
        Issue.record("no error; printed \(output)")
    } catch let error as TxError {
        #expect(error.kind == .name)
        #expect(error.message == "internal error: broken reads a parameter 'axs' it does not have; please report this")
        #expect(error.span?.text == "broken([[1, 2], [3, 4]], axis=0)")
        #expect(error.span?.line == 2)
    } catch {
        Issue.record("unexpected \(error)")
    }
    #expect(interpreter.value(named: "y").map { Display.text($0) } == "1")
}
