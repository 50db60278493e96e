import Tensor
import TestSupport
import Testing

/// The JSON reader looks at each byte a bounded number of times: inputs of size n and
/// 10 n take about 10 times the steps (see LinearReadingTests for the parser).
private let pathological: [(name: String, make: @Sendable (Int) -> String)] = [
    ("n repeated keys", { n in "{" + Array(repeating: "\"a\": 1", count: n).joined(separator: ", ") + "}" }),
    ("arrays 60 deep, again and again", { n in "[" + Array(repeating: String(repeating: "[", count: 59) + "1" + String(repeating: "]", count: 59), count: n / 60).joined(separator: ",") + "]" }),
    ("a long string of escapes", { n in "\"" + String(repeating: "a\\n\\u00e9", count: n) + "\"" }),
    ("n numbers", { n in "[" + Array(repeating: "-1.5e-3", count: n).joined(separator: ",") + "]" }),
    ("white space", { n in "[" + String(repeating: " \n\t", count: n) + "1]" }),
    ("n objects of long keys", { n in "[" + Array(repeating: "{\"" + String(repeating: "k", count: 50) + "\": null}", count: n / 10).joined(separator: ",") + "]" }),
]

private func steps(_ text: String) throws -> Int {
    var steps = 0
    _ = try JSON.parse(Array(text.utf8), what: "test", steps: &steps)
    return steps
}

@Test(arguments: pathological.indices)
func jsonReadingIsLinear(_ index: Int) throws {
    let (name, make) = pathological[index]
    let problem = try linearityProblem(name, make, stepsPerByte: 4, steps)
    #expect(problem == nil, "\(problem ?? "")")
}
