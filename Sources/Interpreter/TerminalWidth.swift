@preconcurrency import Glibc
import Tensor

/// The terminal as the language sees it: the width printing, heatmaps and plots fit.
/// The console adds reading lines and Ctrl-C to it (`Sources/Console/Terminal.swift`).
public enum Terminal {
    /// The width printing wraps at: the terminal's columns when standard output is one,
    /// else 80 (pipes and files print the same everywhere).
    public static func columns() -> Int {
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 { return Int(size.ws_col) }
        return TensorFormatter.defaultWidth
    }
}
