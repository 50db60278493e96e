import Foundation
@testable import Interpreter
import Lang
import Testing

/// A builtin declares each parameter once, with the type its body receives (`Param`), and
/// the body gets the values in declaration order: the compiler holds a body to what its
/// entry declares. Only a group of parameters (`Param(declarations:read:)`, such as
/// attention's mask and causal) reads arguments by name, next to their declarations;
/// every group is read on every call, so running each builtin's example (HelpTests)
/// reads every such name.

/// A group that reads a name it does not declare is an internal error at the call, never
/// a read of another argument.
@Test func aGroupReadingAnUndeclaredParameterIsAnError() {
    var output = ""
    let interpreter = Interpreter(output: { output += $0 })
    let axes = Param<[Int]?>(declarations: [.optional("axis", .none, "none")]) { try $0.axes("axs") }
    let broken = builtin("broken", .tensor("x"), axes, summary: "", example: "") { _, x, axes in
        .tensor(try x.reduce(.sum, axes: axes, keepdims: false))
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

/// The declarations are the table's: names, defaults and their help text, variadics.
@Test func typedParametersDeclareWhatHelpShows() throws {
    let entry = builtin("f", .tensor("x"), .int("axis", default: -1), .number("eps", default: 1e-5, shown: "1e-5"),
                        .bool("causal", default: false), .string("activation", default: "relu"), .optionalTensor("mask"),
                        .sizes("d"), summary: "", example: "") { _, _, _, _, _, _, _, _ in .none }
    #expect(entry.signature == "f(x, axis=-1, eps=1e-5, causal=false, activation=\"relu\", mask=none, d...)")
    let table = Interpreter(output: { _ in }).builtinList
    #expect(table.first { $0.name == "softmax" }?.signature == "softmax(x, axis=-1)")
    #expect(table.first { $0.name == "sum" }?.signature == "sum(x, axis=none, keepdims=false, where=none)")
    // Every builtin lands in a section: its category is the section that lists it.
    #expect(Set(table.map(\.category)) == Set(Category.allCases))
}
