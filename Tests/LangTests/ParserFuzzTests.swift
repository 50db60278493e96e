import Lang
import Testing
import TestSupport

/// 100,000 generated and mutated programs: each parses to a program or fails with a
/// TxError that has a place in the source; none crashes.
@Test func randomProgramsParseOrFailCleanly() {
    var generator = ProgramGenerator(random: Seeded(state: 2026))
    var parsed = 0, failed = 0
    for n in 0..<100_000 {
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
    #expect(parsed + failed == 100_000)
    #expect(parsed > 25_000)
    #expect(failed > 10_000)
}

@Test func generatedProgramsAreValid() throws {
    var generator = ProgramGenerator(random: Seeded(state: 7))
    for _ in 0..<2_000 {
        let text = generator.program()
        #expect(throws: Never.self, "\(text)") { try Parser.parse(Source(name: "gen.tx", text: text)) }
    }
}
