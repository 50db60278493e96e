import Lang

/// A passed or failed `assert`, `assert_close` or `expect_error`, as the stepper shows it:
/// `Interpreter.checkObserver` receives one for each check that runs.
public struct Check {
    public let passed: Bool
    /// The call as written: `assert_close(o[:3], o2[:3])`.
    public let text: String
    /// What was found: the largest difference, the expected error, the failure message.
    public let detail: String
    /// The file the check is written in: the stepper shows the script's own checks,
    /// not those of the library code it includes.
    public var source = ""

    /// The check written at `span`: its text and its file.
    init(passed: Bool, at span: SourceSpan, detail: String) {
        self.init(passed: passed, text: span.text, detail: detail, source: span.source.name)
    }

    public init(passed: Bool, text: String, detail: String, source: String = "") {
        self.passed = passed
        self.text = text
        self.detail = detail
        self.source = source
    }
}
