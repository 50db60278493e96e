import Foundation
import Testing

/// Under an address-space limit (a container, `ulimit -v`), memory that is not a
/// tensor's payload must give a memory error too, not an abort. The default limit
/// comes from what the address-space limit leaves (2 GB here: a few hundred MB after
/// the interpreter's 1 GiB stack).
@Test(arguments: [
    // A list of 10^9 blocks, each a record of small tensors.
    ("p = init_transformer(8, 2, 16, 1e9, 1, seed=0)", "error: memory limit: 1000000001 blocks needs 14.9 GiB"),
    ("s = \"ab\"; for i in range(40) { s = s + s }", "error: memory limit: building a string needs"),
    ("l = [\"a\", 1]; for i in range(40) { l = l + l }", "error: memory limit: building a list needs"),
])
func outgrowingAnAddressSpaceLimitIsAMemoryError(_ program: String, _ message: String) throws {
    let run = try shell("ulimit -v 2000000 && \"$TX\" -e '\(program)'")
    #expect(run.status == 1)
    #expect(run.err.hasPrefix(message), "\(run.err.prefix(300))")
}

@Test func theDefaultLimitFollowsAnAddressSpaceLimit() throws {
    let run = try shell("ulimit -v 2000000 && \"$TX\" -e 'l = memory().limit; [l > 1e8, l < 1e9]'")
    #expect(run.out == "[true, true]\n")
}

@Test func manyTinyTensorsCountTheirObjects() throws {
    // 20,000 blocks hold 48 MB of payload but about twice that again in objects and
    // records: counted, they stop at a 64 MiB limit.
    let run = try tx(["--max-memory", "64M", "-e", "p = init_transformer(8, 2, 16, 20000, 1, seed=0)"])
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: memory limit: a tensor of shape"))
}

@Test func wordsCountsItsListBeforeMakingIt() throws {
    // 2^21 words of one letter: 4 MiB of text, but nearly 200 MiB as a list of strings.
    let run = try tx(["--max-memory", "64M", "-e", "s = \"a \"; for i in range(21) { s = s + s }; w = words(s)"])
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: memory limit: the list of words needs 196 MiB"))
}

@Test func saveStreamsTheTensorInsteadOfCopyingIt() throws {
    // 250 MB saved within 1.7 GB of address space (1 GiB of it the interpreter's stack):
    // two more copies of the data would not fit.
    let folder = try temporaryFolder()
    let run = try shell("ulimit -v 1700000 && \"$TX\" --max-memory 400M -e 'x = ones(62500000); save(\"\(folder)/big.npy\", x)'")
    #expect(run.status == 0, "\(run.err.prefix(300))")
    let size = try FileManager.default.attributesOfItem(atPath: folder + "/big.npy")[.size] as? Int
    #expect(size == 128 + 250_000_000)
}

@Test func loadChecksTheAddressSpaceBeforeReading() throws {
    // A 700 MiB (sparse) file cannot be read into 1.7 GB of address space, 1 GiB of it
    // the interpreter's stack, whatever --max-memory says.
    let folder = try temporaryFolder()
    let run = try shell("cd '\(folder)' && truncate -s 700M big.npy && ulimit -v 1700000 && \"$TX\" --max-memory 4G -e 'load(\"big.npy\")'")
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: out of memory: reading big.npy needs 700 MiB, and only "), "\(run.err.prefix(300))")
    #expect(run.err.contains(" of address space is left (ulimit -v)"))
}

@Test func stringsHeldAtOnceCountAgainstTheLimit() throws {
    // Each string of 16 MiB fits on its own; four held at once do not fit in 64 MiB.
    let folder = try temporaryFolder()
    let script = folder + "/strings.tx"
    try """
        s = "ab"; for i in range(23) { s = s + s }
        l = []
        for i in range(10) { l = l + [s + str(i)] }
        """.write(toFile: script, atomically: true, encoding: .utf8)
    let run = try tx(["--max-memory", "64M", script])
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("""
        error: memory limit: building a string needs 16 MiB, which would not fit in the 16 MiB left of the 64 MiB limit (set it with --max-memory or TX_MAX_MEMORY)
          --> \(script):3:33
        """), "\(run.err.prefix(400))")
}

@Test func freeingAStringGivesItsRoomBack() throws {
    // 32 MiB counted while t lives, all of it back when it is freed; then two more
    // strings of 16 MiB fit beside s where, with t's room kept, they would not.
    let run = try tx(["--max-memory", "64M", "-e", """
        s = "ab"; for i in range(23) { s = s + s }; before = memory().live; t = s + s; grown = memory().live - before
        t = none; back = memory().live - before
        a = s + "1"; b = s + "2"
        [grown, back]
        """])
    #expect(run.err == "")
    #expect(run.out == "tensor [2]\n[33554480,        0]\n")
}
