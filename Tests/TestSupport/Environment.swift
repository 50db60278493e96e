import Glibc

/// What the tests read from their environment: where the pretrained model is, and how
/// many inputs each fuzz target runs.
public enum TestEnvironment {
    public static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// all-MiniLM-L6-v2's folder in tx's model cache ($TX_MODELS or ~/.cache/tx), where
    /// scripts/get-model puts it.
    public static var miniLMFolder: String { cache + "/all-MiniLM-L6-v2" }

    /// The training text that scripts/get-text puts in the same cache.
    public static var shakespeare: String { cache + "/shakespeare.txt" }

    static var cache: String { variable("TX_MODELS") ?? ((variable("HOME") ?? ".") + "/.cache/tx") }

    /// Whether the tests that load all-MiniLM-L6-v2 or the training text run: both are
    /// there, or CI requires them (CI=true), so that a missing file fails instead of skipping.
    public static var runsModelTests: Bool {
        (access(miniLMFolder + "/model.safetensors", R_OK) == 0 && access(shakespeare, R_OK) == 0) || variable("CI") == "true"
    }

    /// Why such a test is skipped.
    public static let modelMissing = "all-MiniLM-L6-v2 or shakespeare.txt is not in tx's cache; scripts/get-model and scripts/get-text fetch them (scripts/test does)"

    /// TX_FUZZ_SCALE multiplies every fuzz target's count of inputs: 1 by default (a
    /// quick run), 20 in CI (.ci/run), 500 for the long runs the README reports.
    public static var fuzzScale: Int { variable("TX_FUZZ_SCALE").flatMap { Int($0) }.map { max($0, 1) } ?? 1 }

    /// `base` inputs times the scale.
    public static func fuzzCount(_ base: Int) -> Int { base * fuzzScale }
}
