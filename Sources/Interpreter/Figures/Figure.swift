@preconcurrency import Glibc

/// A picture a builtin draws: as text for the terminal, and as SVG for a file or an HTML
/// transcript (the stepper shows both).
public protocol Figure {
    func terminal(color: Bool, width: Int) throws -> String
    func svg(standalone: Bool) throws -> String
}

/// A C printf format of one number: `%.2f`, `%.3g`.
func formatC(_ x: Double, _ format: String) -> String {
    var buffer = [CChar](repeating: 0, count: 48)
    _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
