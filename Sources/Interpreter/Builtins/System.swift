import Lang
import Glibc
import Tensor

extension Library {
    static func system() -> [Builtin] {
        [
            builtin("clock", summary: "Seconds from a fixed point, for timing: t = clock(); ...; clock() - t.",
                    example: "t = clock()") { _ in
                .number(monotonicSeconds())
            },
            builtin("blas", summary: "The BLAS library tx uses: its core (kernel family), threads and how the core was chosen; and the instruction set of tx's own kernels.",
                    example: "blas().core") { _ in
                .record(RecordValue([
                    ("core", .string(BLAS.core)),
                    ("threads", .number(Double(BLAS.threads))),
                    ("chosen", .string(BLAS.coreSource)),
                    ("library", .string(BLAS.library)),
                    ("kernels", .string(BLAS.kernels)),
                ]))
            },
            builtin("memory", .bool("reset_peak", default: false), .optionalArgument("limit"),
                    summary: "Memory in bytes (tensors, strings, lists, records): {live, peak, limit, cached}; reset_peak=true then starts a new peak from now, limit= sets the limit.",
                    example: "memory(reset_peak=true); o = attention(randn(2000, 64), randn(2000, 64), randn(2000, 64)); memory().peak",
                    details: """
                        live: bytes held now by tensors (payload and 256 bytes each), strings, lists and records;
                        peak: the most held at once since start-up (or the last reset_peak=true), counting
                        attention's score blocks while it runs; limit: the most allowed (--max-memory,
                        TX_MAX_MEMORY); cached: freed tensor buffers kept for reuse, which count against the
                        limit and are given back when an allocation needs the room (and on :reset). The
                        record is read before the reset and before the new limit.

                        limit= sets the limit for the rest of the session, as --max-memory does at start-up:
                        bytes (1e9) or a size ("512M", "4G", "50%" of what tx may use), at least what is
                        live now. Past it an operation stops with a memory limit error. The record gives
                        the old limit back: old = memory(limit="256M"); ...; memory(limit=old.limit).
                        """) { _, resetPeak, limitArgument in
                let stats = Value.record(RecordValue([
                    ("live", .number(Double(Memory.liveBytes))),
                    ("peak", .number(Double(Memory.peakBytes))),
                    ("limit", .number(Double(Memory.limit))),
                    ("cached", .number(Double(Memory.cachedBytes))),
                ]))
                let limit = try memoryLimit(limitArgument)
                if resetPeak { Memory.resetPeak() }
                if let limit { Memory.limit = limit }
                return stats
            },
        ]
    }

    /// The limit `memory(limit=)` asks for, in bytes, or nil when none is given.
    private static func memoryLimit(_ limit: RawArgument) throws -> Int? {
        let value = limit.value
        let bytes: Int?
        switch value {
        case .none: return nil
        case .string(let text): bytes = Memory.size(text.text, of: Memory.available())
        default:
            guard let number = Convert.number(value) else {
                throw limit.typeError(expected: "a number of bytes or a size such as \"512M\"")
            }
            bytes = number >= 1 && number < 1e18 ? Int(number) : nil
        }
        guard let bytes else {
            throw TxError(.value, "memory: cannot read the size '\(Display.text(value))' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\"", at: limit.span)
        }
        guard bytes >= Memory.liveBytes else {
            throw TxError(.value, "memory: a limit of \(Memory.format(bytes: bytes)) is below the \(Memory.format(bytes: Memory.liveBytes)) held now", at: limit.span)
        }
        return bytes
    }
}
