@preconcurrency import Glibc
import Lang
import Tensor

/// What `:time` measured, as IPython's `%timeit` does: a statement run again and again
/// (compiled once, results not printed) for about half a second, or once when one run
/// takes longer; the floating-point operations of its products and attention; and the
/// most tensor memory it held at once beyond what was live before.
public struct Timing {
    /// Seconds per run, fastest first.
    public let runs: [Double]
    /// Floating-point operations of one run (matrix products and attention).
    public let operations: Double
    /// The most tensor memory held at once during the runs, beyond what was live before.
    public let peakBytes: Int

    /// Time spent running, after which no further run starts.
    static let budget = 0.5
    static let maxRuns = 100_000

    public var best: Double { runs.first ?? 0 }
    public var median: Double {
        guard !runs.isEmpty else { return 0 }
        let middle = runs.count / 2
        return runs.count % 2 == 1 ? runs[middle] : (runs[middle - 1] + runs[middle]) / 2
    }

    /// `36.21 ms best, 36.93 ms median of 14 runs; 474.5 GFLOP/s; peak tensor memory +16 MiB`.
    public var summary: String {
        var parts = [runs.count == 1
            ? "\(formatDuration(best)) (1 run)"
            : "\(formatDuration(best)) best, \(formatDuration(median)) median of \(runs.count) runs"]
        if operations > 0, best > 0 {
            let rate = operations / best / 1e9
            parts.append(TensorFormatter.formatNumber(rate >= 100 ? rate.rounded() : (rate * 10).rounded() / 10) + " GFLOP/s")
        }
        parts.append("peak tensor memory +" + Memory.format(bytes: peakBytes))
        return parts.joined(separator: "; ")
    }

    /// Runs `body` until `budget` seconds of runs (at most `maxRuns`) and measures it.
    static func measure(_ body: () throws -> Void) throws -> Timing {
        var runs: [Double] = []
        var total = 0.0
        let operationsBefore = BLAS.operationCount
        let (_, peak) = try Memory.peakGrowth {
            repeat {
                try Interrupt.check()
                let start = monotonicSeconds()
                try body()
                let seconds = monotonicSeconds() - start
                runs.append(seconds)
                total += seconds
            } while total < budget && runs.count < maxRuns
        }
        return Timing(runs: runs.sorted(), operations: (BLAS.operationCount - operationsBefore) / Double(runs.count),
                      peakBytes: peak)
    }
}

extension Interpreter {
    /// `:time`: parses and compiles `text` once, then runs it as `Timing` describes.
    public func time(_ text: String, name: String, firstLine: Int = 1) throws -> Timing {
        try LargeStack.run {
            let program = try Parser.parse(Source(name: name, text: text, firstLine: firstLine))
            let compiler = Compiler(interpreter: self)
            let codes = try program.statements.map { try compiler.statement($0) }
            do {
                return try Timing.measure { for (statement, code) in zip(program.statements, codes) { _ = try execute(code, at: statement.span) } }
            } catch let error as TensorError {
                throw TxError(error, at: program.statements.first.map { $0.span.through(program.statements.last?.span ?? $0.span) })
            }
        }
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// `12.3 ms`, `1.25 s`, `850 µs`, `95 ns`.
func formatDuration(_ seconds: Double) -> String {
    func rounded(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return TensorFormatter.formatNumber(r >= 100 ? r.rounded() : r)
    }
    if seconds >= 1 { return rounded(seconds) + " s" }
    if seconds >= 1e-3 { return rounded(seconds * 1e3) + " ms" }
    if seconds >= 1e-6 { return rounded(seconds * 1e6) + " µs" }
    return rounded(seconds * 1e9) + " ns"
}
