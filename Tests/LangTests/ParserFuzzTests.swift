import Lang
import Testing
import TestSupport

/// Generated and mutated programs (5,000 times TX_FUZZ_SCALE): each parses to a program
/// or fails with a TxError that has a place in the source; none crashes. A quarter are
/// generated whole and must parse; of the mutated ones, enough must still parse and
/// enough fail that both paths are exercised.
@Test func randomProgramsParseOrFailCleanly() {
    var generator = ProgramGenerator(random: Seeded(state: 2026))
    let count = TestEnvironment.fuzzCount(5_000)
    var parsed = 0, failed = 0
    for n in 0..<count {
        let valid = generator.program()
        let text = n % 4 == 0 ? valid : generator.mutate(valid)
        do {
            _ = try Parser.parse(Source(name: "fuzz.tx", text: text))
            parsed += 1
        } catch let error as TxError {
            failed += 1
            if error.span == nil { Issue.record("error without a place for \(text.debugDescription): \(error.message)") }
        } catch {
            Issue.record("unexpected error type for \(text.debugDescription): \(error)")
        }
        _ = Parser.isIncomplete(text)
    }
    #expect(parsed > count / 4, "the whole programs and some mutated ones parse")
    #expect(failed > count / 10, "mutations break programs")
}

@Test func generatedProgramsAreValid() throws {
    var generator = ProgramGenerator(random: Seeded(state: 7))
    for _ in 0..<2_000 {
        let text = generator.program()
        #expect(throws: Never.self, "\(text)") { try Parser.parse(Source(name: "gen.tx", text: text)) }
    }
}
