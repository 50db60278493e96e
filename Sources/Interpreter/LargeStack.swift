import Glibc
import Tensor

/// Runs tx code on a thread with a large stack, so that deep (but limited) recursion in
/// the parser, compiler and evaluator never overflows the small default stacks of
/// secondary threads. The caller waits for the thread: this is about stack, not
/// concurrency.
public enum LargeStack {
    static let size = 1 << 30

    private final class Job: @unchecked Sendable {
        let body: () -> Void
        init(body: @escaping () -> Void) { self.body = body }
    }

    /// Marks the large-stack threads, so that nested calls run in place.
    private static let marker: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    public static func run<T>(_ body: () throws -> T) throws -> T {
        if pthread_getspecific(marker) != nil { return try body() }
        return try withoutActuallyEscaping(body) { body in
            var outcome: Result<T, Error> = .failure(TxErrorPlaceholder.notRun)
            // The new thread prints with the caller's options.
            let settings = TensorFormatter.settings
            let job = Job {
                pthread_setspecific(marker, UnsafeRawPointer(bitPattern: 1))
                TensorFormatter.$settings.withValue(settings) {
                    outcome = Result { try body() }
                }
            }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, size)
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let started = pthread_create(&thread, &attributes, { context in
                guard let context else { return nil }
                Unmanaged<Job>.fromOpaque(context).takeRetainedValue().body()
                return nil
            }, context)
            guard started == 0 else {
                // No thread could be made: run on this one rather than fail.
                Unmanaged<Job>.fromOpaque(context).release()
                return try body()
            }
            pthread_join(thread, nil)
            return try outcome.get()
        }
    }

    private enum TxErrorPlaceholder: Error { case notRun }
}
