import Interpreter
import Lang
import Testing
import TestSupport

/// Generated and mutated programs, run with variables of several kinds defined: each
/// ends in a value or a TxError, never a crash.
@Test func randomProgramsRunOrFailCleanly() {
    var generator = ProgramGenerator(random: Seeded(state: 11))
    let count = TestEnvironment.fuzzCount(1_000)
    var values = 0, errors = 0
    for n in 0..<count {
        let program = generator.program()
        let text = ProgramGenerator.prelude + (n % 3 == 0 ? program : generator.mutate(program))
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
    #expect(values > count / 30, "some programs run to a value")
    #expect(errors > count / 30, "some programs fail with an error")
}
