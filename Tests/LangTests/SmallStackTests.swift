import Glibc
import Lang
import Testing

/// Runs `body` on a thread with a 4 MiB stack.
func onSmallStack(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, 4096 * 1024)
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    let started = pthread_create(&thread, &attributes, { context in
        guard let context else { return nil }
        Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
        return nil
    }, context)
    pthread_attr_destroy(&attributes)
    if started == 0 { pthread_join(thread, nil) }
}

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
