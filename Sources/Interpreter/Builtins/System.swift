import Lang
import Glibc
import Tensor

extension Library {
    static func system() -> [Builtin] {
        [
            builtin("clock", [], "system", "Seconds from a fixed point, for timing: t = clock(); ...; clock() - t.",
                    example: "t = clock()") { _ in
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                return .number(Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9)
            },
            builtin("blas", [], "system", "The BLAS library tx uses: its core (kernel family), threads and how the core was chosen.",
                    example: "blas().core") { _ in
                .record(RecordValue([
                    ("core", .string(BLAS.core)),
                    ("threads", .number(Double(BLAS.threads))),
                    ("chosen", .string(BLAS.coreSource)),
                    ("library", .string(BLAS.library)),
                ]))
            },
        ]
    }
}
