/// The one error type of tx: every failure the user must hear about, from the lexer to
/// the tensor kernels, ends up as a `TxError` with a kind, a message and (where known)
/// the span it happened at. `rendered()` is the single place that formats it.
public struct TxError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case syntax          // the text does not parse
        case name            // unknown variable, field, builtin or keyword argument
        case type            // a value of the wrong kind
        case shape           // tensor shapes that do not fit
        case index           // out of range or non-integral index
        case value           // a right kind of value with a wrong content
        case arity           // wrong number of arguments
        case assertion       // assert / assert_close failed
        case io              // files: missing, truncated, malformed
        case memory          // an allocation over the limit
        case limit           // nesting or recursion too deep
        case interrupted     // Ctrl-C

        /// How a message of this kind starts, unless the error names a finer label.
        public var label: String {
            switch self {
            case .syntax: "syntax error"
            case .name: "name error"
            case .type: "type error"
            case .shape: "shape mismatch"
            case .index: "index error"
            case .value: "value error"
            case .arity: "arity error"
            case .assertion: "assertion failed"
            case .io: "io error"
            case .memory: "memory limit"
            case .limit: "nesting limit"
            case .interrupted: "interrupted"
            }
        }
    }

    public var kind: Kind
    /// What kind of error it is, as the message starts: "type error", "shape mismatch in @".
    /// The kind's own label unless the error names a finer one (`Kind.label`).
    public var label: String
    /// What went wrong, after the label; empty for an error that is its label alone
    /// ("interrupted"). An empty label is a message of its own (the REPL's `:command`
    /// errors).
    public var detail: String
    public var span: SourceSpan?
    /// Calls that led here, innermost first, shown under the main location.
    public var trace: [Call]

    /// The full first line after `error: `, e.g. "shape mismatch in @: [4, 8] @ [4, 8] ...".
    public var message: String { detail.isEmpty ? label : label.isEmpty ? detail : label + ": " + detail }

    /// One frame of a trace: the function the error (or the next frame) was in, and where
    /// it was called.
    public struct Call: Sendable {
        public var function: String
        public var site: SourceSpan

        public init(function: String, site: SourceSpan) {
            self.function = function
            self.site = site
        }
    }

    /// An error labelled by its kind: `TxError(.type, "f expects a tensor", at: span)`
    /// reads "type error: f expects a tensor".
    public init(_ kind: Kind, _ detail: String, at span: SourceSpan? = nil) {
        self.init(kind, label: kind.label, detail, at: span)
    }

    /// An error with a finer label than its kind's: "shape mismatch in @", "gradient error".
    public init(_ kind: Kind, label: String, _ detail: String, at span: SourceSpan? = nil) {
        self.kind = kind
        self.label = label
        self.detail = detail
        self.span = span
        self.trace = []
    }

    public var description: String { rendered() }

    /// The parts of a rendered error that a terminal may colour.
    public enum Part: Sendable {
        /// `error:`
        case label
        /// The label that starts the message, with its colon: `shape mismatch in @:`.
        case kind
        /// The line of carets under the span.
        case caret
        /// The `-->` line and the gutter.
        case location
    }

    /// The error as tx shows it:
    /// ```
    /// error: shape mismatch in @: [4, 8] @ [4, 8] (inner sizes 8 and 4 differ)
    ///   --> attn.tx:7:7
    ///   |
    /// 7 | e = Q @ K / sqrt(8)
    ///   |       ^
    ///  ... in scores, called from attn.tx:12:5
    /// ```
    /// (the last line, one for each function call that led to the error, when there was one).
    public func rendered(_ paint: (Part, String) -> String = { $1 }) -> String {
        var out = paint(.label, "error:") + " " + (detail.isEmpty || label.isEmpty ? message : paint(.kind, label + ":") + " " + detail)
        guard let span else { return out }
        let line = span.line, column = span.column
        let text = span.source.lineText(line)
        let gutter = String(line).count
        let pad = String(repeating: " ", count: gutter)
        // Underline the span on its first line; at least one caret.
        let endOnLine = min(span.end, span.source.lineEnd(at: span.start))
        let width = max(1, span.source.column(at: max(endOnLine, span.start)) - column)
        // Long lines show a window of about 100 characters around the span.
        var displayed = Array(text.displayable())
        var caretColumn = column - 1
        var carets = width
        let window = 100
        if displayed.count > window {
            let start = max(0, min(caretColumn - 20, displayed.count - window))
            let end = min(displayed.count, start + window)
            let head = start > 0 ? "…" : "", tail = end < displayed.count ? "…" : ""
            displayed = Array(head) + Array(displayed[start..<end]) + Array(tail)
            caretColumn = caretColumn - start + head.count
            carets = max(1, min(carets, end - (column - 1)))
        }
        out += "\n" + paint(.location, "\(pad) --> \(span.source.name):\(line):\(column)")
        out += "\n" + paint(.location, "\(pad) |")
        out += "\n" + paint(.location, "\(line) |") + " \(String(displayed))"
        // Wide characters (CJK, emoji) take two columns on a terminal, so the carets do too.
        let before = displayed.prefix(max(0, caretColumn)).reduce(0) { $0 + displayWidth($1) }
        let under = displayed.dropFirst(max(0, caretColumn)).prefix(carets).reduce(0) { $0 + displayWidth($1) }
        out += "\n" + paint(.location, "\(pad) |") + " " + String(repeating: " ", count: before) + paint(.caret, String(repeating: "^", count: max(carets, under)))
        for call in trace {
            let site = call.site
            out += "\n\(pad)... in \(call.function), called from \(site.source.name):\(site.line):\(site.column)"
        }
        return out
    }
}

extension String {
    /// Tabs and form feeds as single spaces, so that carets line up with the text above
    /// them, and NUL as a visible symbol, so that the line survives C strings.
    fileprivate func displayable() -> String {
        String(map { $0 == "\t" || $0 == "\u{0C}" ? " " : $0 == "\u{0}" ? "␀" : $0 })
    }
}

/// The columns a character takes on a terminal: 2 for East Asian wide and full-width
/// characters and emoji, 1 otherwise.
public func displayWidth(_ character: Character) -> Int {
    guard let scalar = character.unicodeScalars.first, scalar.value >= 0x1100 else { return 1 }
    if scalar.properties.isEmojiPresentation { return 2 }
    switch scalar.value {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
         0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
         0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
        return 2
    default:
        return 1
    }
}
