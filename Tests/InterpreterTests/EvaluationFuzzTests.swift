import Interpreter
import Lang
import Testing
import TestSupport

/// Generated and mutated programs, run with variables of several kinds defined: each
/// ends in a value or a TxError, never a crash.
@Test func randomProgramsRunOrFailCleanly() {
    var generator = ProgramGenerator(random: Seeded(state: 11))
    let prelude = """
        x = [[1, 2], [3, 4]]; Q = randn(2, 2); K = eye(2); s = 0; i = 1; j = 0; r = {f: 1, Wq: eye(2), name: "n", layers: [1]}
        fn f(v, axis=-1) = v

        """
    var values = 0, errors = 0
    for n in 0..<3_000 {
        let program = generator.program()
        let text = prelude + (n % 3 == 0 ? program : generator.mutate(program))
        var output = ""
        let interpreter = Interpreter(output: { output += $0 })
        do {
            try interpreter.run(text, name: "fuzz.tx", echo: true)
            values += 1
        } catch is TxError {
            errors += 1
        } catch {
            Issue.record("unexpected error type for \(text.debugDescription): \(error)")
        }
    }
    #expect(values + errors == 3_000)
    #expect(values > 100 && errors > 100)
}
