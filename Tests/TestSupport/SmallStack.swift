import Glibc

/// Runs `body` on a thread with a 4 MiB stack.
public func onSmallStack(_ body: @escaping @Sendable () -> Void) {
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
