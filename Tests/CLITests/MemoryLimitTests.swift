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
    #expect(run.err.hasPrefix("error: memory limit: building a string needs 16 MiB, which would not fit in the 16 MiB left of the 64 MiB limit"),
            "\(run.err.prefix(400))")
    #expect(run.err.contains("\n  --> \(script):3:33\n"))
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

/// memory(limit=) sets the limit for the rest of the session, as --max-memory does, and
/// gives the old one back in its record: a script can show an operation failing under
/// a small limit and put the old limit back.
@Test func memoryLimitSetsTheLimitAndGivesTheOldOneBack() throws {
    let run = try tx(["--max-memory", "64M"], input: """
        old = memory(limit="1M")
        old.limit
        memory().limit
        x = zeros(1000000)
        memory(limit=old.limit).limit
        memory().limit
        sum(zeros(1000000))
        memory(limit=1.5e6); memory().limit
        memory(limit="50%"); memory().limit > 1e6
        memory(limit="32 MiB"); memory().limit

        """, mergingErrors: true)
    #expect(run.out == """
        67108864
        1048576
        error: memory limit: a tensor of shape [1000000] needs 3.8 MiB, and 800 B of the 1 MiB limit are in use (set it with --max-memory, TX_MAX_MEMORY or memory(limit=...))
          --> <stdin>:4:5
          |
        4 | x = zeros(1000000)
          |     ^^^^^^^^^^^^^^
        1048576
        67108864
        tensor(0)
        1500000
        true
        33554432

        """)
}

/// A size that cannot be read, or below what is held, is an error with its place, and
/// the limit stays as it was.
@Test(arguments: [
    ("memory(limit=\"abc\")", "error: value error: memory: cannot read the size 'abc' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\""),
    ("memory(limit=-5)", "error: value error: memory: cannot read the size '-5' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\""),
    ("memory(limit=0)", "error: value error: memory: cannot read the size '0' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\""),
    ("memory(limit=nan)", "error: value error: memory: cannot read the size 'nan' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\""),
    ("memory(limit=inf)", "error: value error: memory: cannot read the size 'inf' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\""),
    ("memory(limit=\"150%\")", "error: value error: memory: cannot read the size '150%' for 'limit'; use bytes (1e9) or e.g. \"512M\", \"4G\", \"50%\""),
    ("memory(limit={})", "error: type error: memory expects a number of bytes or a size such as \"512M\" for 'limit', got a record"),
    ("y = ones(1000000); memory(limit=\"3M\")", "error: value error: memory: a limit of 3 MiB is below the 3.8 MiB held now"),
])
func memoryLimitRefusesBadSizes(_ call: String, _ message: String) throws {
    let run = try tx(["--max-memory", "64M"], input: call + "\nmemory().limit\n")
    #expect(run.err.split(separator: "\n").first.map(String.init) == message, "\(run.err)")
    #expect(run.err.contains(" --> <stdin>:1:"))
    #expect(run.out == "67108864\n")
}

@Test func tensorsSavedForTheBackwardPassCountAgainstTheLimit() throws {
    // 100 tanh of a 4 MB tensor: the tape keeps every one for the backward pass.
    func program(_ n: Int) -> String {
        "x = randn(1000, 1000); fn f(x) { y = x; for i in range(\(n)) { y = tanh(y) }; sum(y) }"
    }
    let run = try tx(["--max-memory", "64M", "-e", program(100) + "; grad(f)(x)"])
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: memory limit: a tensor of shape [1000, 1000] needs 3.8 MiB"), "\(run.err.prefix(300))")
    // Three of them fit.
    let fits = try tx(["--max-memory", "64M", "-e", program(3) + "; shape(grad(f)(x))"])
    #expect(fits.out == "[1000, 1000]\n", "\(fits.err.prefix(300))")
}

@Test func theGradientOfLongAttentionNeedsNoScoreMatrix() throws {
    // n = 8,000: the scores alone would be 244 MiB (a causal half 122 MiB). The tape
    // keeps Q, K, V, the output and the logsumexp, 10 MiB; the backward's blocks and
    // gradients fit in a 48 MiB limit, as they do at n = 50,000 in about 50 MiB.
    let script = """
    seed(2)
    q = randn(8000, 64); k = randn(8000, 64); v = randn(8000, 64)
    g = grad(fn(q, k, v) = sum(attention(q, k, v, causal=true)), wrt=["q", "k", "v"])(q, k, v)
    print(shape(g.q), shape(g.k), shape(g.v))
    """
    let run = try tx(["--max-memory", "48M", "-e", script])
    #expect(run.err == "")
    #expect(run.out == "[8000, 64] [8000, 64] [8000, 64]\n")
    // The formula's gradient needs the n x n weights: a memory error, not a crash.
    let formula = try tx(["--max-memory", "48M", "-e", "q = randn(8000, 64); g = grad(fn(q) = sum(softmax(q @ q') @ q))(q)"])
    #expect(formula.status == 1)
    #expect(formula.err.hasPrefix("error: memory limit"))
}
