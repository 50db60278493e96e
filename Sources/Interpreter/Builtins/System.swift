import Lang
import Glibc
import Tensor

extension Library {
    static func system() -> [Builtin] {
        [
            builtin("clock", [], "system", "Seconds from a fixed point, for timing: t = clock(); ...; clock() - t.",
                    example: "t = clock()") { _ in
                .number(monotonicSeconds())
            },
            builtin("blas", [], "system", "The BLAS library tx uses: its core (kernel family), threads and how the core was chosen; and the instruction set of tx's own kernels.",
                    example: "blas().core") { _ in
                .record(RecordValue([
                    ("core", .string(BLAS.core)),
                    ("threads", .number(Double(BLAS.threads))),
                    ("chosen", .string(BLAS.coreSource)),
                    ("library", .string(BLAS.library)),
                    ("kernels", .string(BLAS.kernels)),
                ]))
            },
            builtin("memory", [.optional("reset_peak", .bool(false), "false")], "system",
                    "Memory in bytes (tensors, strings, lists, records): {live, peak, limit, cached}; reset_peak=true then starts a new peak from now.",
                    example: "memory(reset_peak=true); o = attention(randn(2000, 64), randn(2000, 64), randn(2000, 64)); memory().peak",
                    details: """
                        live: bytes held now by tensors (payload and 256 bytes each), strings, lists and records;
                        peak: the most held at once since start-up (or the last reset_peak=true), counting
                        attention's score blocks while it runs; limit: the most allowed (--max-memory,
                        TX_MAX_MEMORY); cached: freed tensor buffers kept for reuse, which count against the
                        limit and are given back when an allocation needs the room (and on :reset). The
                        record is read before the reset.
                        """) { args in
                let stats = Value.record(RecordValue([
                    ("live", .number(Double(Memory.liveBytes))),
                    ("peak", .number(Double(Memory.peakBytes))),
                    ("limit", .number(Double(Memory.limit))),
                    ("cached", .number(Double(Memory.cachedBytes))),
                ]))
                if try args.bool("reset_peak") { Memory.resetPeak() }
                return stats
            },
        ]
    }
}
