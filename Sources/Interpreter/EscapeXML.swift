/// Text safe inside XML 1.0 and HTML elements and attribute values: & < > " become
/// references, and each character that XML 1.0 forbids or HTML calls a control (the C0
/// controls but tab, newline and carriage return; DEL; the C1 controls; U+FFFE and
/// U+FFFF) becomes U+FFFD: no reference to one is legal XML (&#1; is not), and in HTML
/// &#128; to &#159; mean other characters. Text with none of them is returned as it is.
public func escapeXML(_ s: String) -> String {
    // The bytes that start something to replace: & < > ", C0 controls, DEL, 0xC2 (the
    // lead byte of C1 controls) and 0xEF (of U+FFFE and U+FFFF).
    guard s.utf8.contains(where: { byte in
        byte < 0x20 ? byte != 9 && byte != 10 && byte != 13
            : byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x7F || byte == 0xC2 || byte == 0xEF
    }) else { return s }
    var out = String.UnicodeScalarView()
    for scalar in s.unicodeScalars {
        switch scalar.value {
        case 0x26: out.append(contentsOf: "&amp;".unicodeScalars)
        case 0x3C: out.append(contentsOf: "&lt;".unicodeScalars)
        case 0x3E: out.append(contentsOf: "&gt;".unicodeScalars)
        case 0x22: out.append(contentsOf: "&quot;".unicodeScalars)
        case 9, 10, 13: out.append(scalar)
        case 0..<0x20, 0x7F...0x9F, 0xFFFE, 0xFFFF: out.append("\u{FFFD}")
        default: out.append(scalar)
        }
    }
    return String(out)
}
