import Glibc
import Lang
import TestSupport
import Testing

/// The nesting limit keeps the parser within a modest stack: 300 levels stop at the
/// limit (256) within 4 MiB even in a debug build, whose frames are several times
/// larger than release's. (tx itself parses on a 1 GiB stack.)
@Test func nestingLimitHoldsOnASmallStack() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{a: ", "}"), ("f(", ")")] {
        let text = String(repeating: open, count: 300) + "1" + String(repeating: close, count: 300)
        onSmallStack {
            do {
                _ = try Parser.parse(Source(name: "t.tx", text: text))
                Issue.record("no error for \(open)")
            } catch let error as TxError {
                #expect(error.kind == .limit)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
