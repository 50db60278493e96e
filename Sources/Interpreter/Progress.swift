import Glibc
import Lang

/// The status line of a long loop, `for t in progress(range(n), show=fn() = loss)`: on a
/// terminal's standard error, redrawn in place at most ten times a second, it gives the
/// steps done, the rate, the time left and what `show` returns (the latest loss, say).
/// Without a terminal on standard error (a pipe, a file, CI) it draws nothing.
final class ProgressLine {
    private let total: Int
    private let show: (() -> String)?
    private let started = ProgressLine.now()
    private var drawn = 0.0
    private var visible = false

    init(total: Int, show: (() -> String)?) {
        self.total = total
        self.show = show
    }

    /// Whether the line can be seen: standard error is a terminal.
    static var isShown: Bool { isatty(2) != 0 }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// `done` steps are finished.
    func tick(done: Int) {
        let t = ProgressLine.now()
        guard ProgressLine.isShown, t - drawn >= 0.1 || done == total else { return }
        drawn = t
        draw(done: done, elapsed: t - started)
    }

    /// The loop ended (or was left) after `done` steps: the last line stays.
    func finish(done: Int) {
        guard ProgressLine.isShown else { return }
        if !visible { draw(done: done, elapsed: ProgressLine.now() - started) }
        writeStandardError("\n")
        visible = false
    }

    private func draw(done: Int, elapsed: Double) {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var line = "\(done)/\(total)"
        if done > 0 && elapsed > 0 {
            line += rate >= 1 ? "  " + ProgressLine.number(rate) + " it/s" : "  " + ProgressLine.number(1 / rate) + " s/it"
            line += done < total ? "  ETA " + ProgressLine.duration(Double(total - done) / rate) : "  " + ProgressLine.duration(elapsed)
        }
        if let show { line += "  " + show() }
        writeStandardError("\r" + String(line.prefix(Swift.max(20, Terminal.columns() - 1))) + "\u{1B}[K")
        visible = true
    }

    static func number(_ x: Double) -> String { x >= 100 ? String(Int(x.rounded())) : formatC(x, "%.3g") }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600):" + two((s / 60) % 60) + ":" + two(s % 60) : "\(s / 60):" + two(s % 60)
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
