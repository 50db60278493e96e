import Lang
import TestSupport
import Testing

/// Lexing and parsing look at each byte and token a bounded number of times, whatever
/// the input: pathological inputs of size n and 10 n take about 10 times the steps (a
/// parser that scanned ahead again from every token, or lexed a line again for every
/// operator, would take about 100 times). Steps, not time, so the test is exact.
private let pathological: [(name: String, make: @Sendable (Int) -> String)] = [
    ("lines of 100 operators", { n in String(repeating: "x = " + Array(repeating: "1", count: 100).joined(separator: " + ") + "\n", count: n / 100) }),
    ("200 brackets deep, again and again", { n in String(repeating: "x = " + String(repeating: "[", count: 200) + "1" + String(repeating: "]", count: 200) + "\n", count: n / 200) }),
    ("a long string literal", { n in "s = \"" + String(repeating: "ab\\n", count: n) + "\"\n" }),
    ("one line of n list items", { n in "x = [" + Array(repeating: "1", count: n).joined(separator: ", ") + "]\n" }),
    ("a list over n lines", { n in "x = [\n" + String(repeating: "1,\n", count: n) + "]\n" }),
    ("n keyword arguments over n lines", { n in "f(\n" + String(repeating: "a\n=\n1,\n", count: n) + ")\n" }),
    ("a record of n repeated keys", { n in "r = {" + Array(repeating: "a: 1", count: n).joined(separator: ", ") + "}\n" }),
    ("n blank lines before an else", { n in "x = if true { 1 }" + String(repeating: "\n", count: n) + "else { 2 }\n" }),
    ("n comment lines", { n in String(repeating: "# a comment\n", count: n) + "1\n" }),
    ("n statements on one line", { n in String(repeating: "x = 1; ", count: n) + "\n" }),
    ("n nested blocks, 100 deep", { n in String(repeating: String(repeating: "if true { ", count: 100) + "1" + String(repeating: " }", count: 100) + "\n", count: n / 100) }),
]

private func steps(_ text: String) throws -> Int {
    let steps = ReadingSteps()
    _ = try Parser.parse(Source(name: "t.tx", text: text), steps: steps)
    return steps.count
}

@Test(arguments: pathological.indices)
func parsingIsLinear(_ index: Int) throws {
    let (name, make) = pathological[index]
    let problem = try linearityProblem(name, make, stepsPerByte: 16, steps)
    #expect(problem == nil, "\(problem ?? "")")
}
