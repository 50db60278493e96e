import Foundation
import Testing

// Inputs that once ran for minutes or forever (quadratic or exponential work, or a wait
// Ctrl-C could not reach), at the sizes that did. Each runs with a limit on its CPU
// time, at which the kernel kills the old behaviour (status 137): a failure, not a hung
// test run. The linear code needs well under a CPU second of the limit, even in a debug
// build. A limit on CPU time, not wall time, holds on a loaded machine, where wall time
// stretches; `timeout` at ten times the limit ends a wait that takes no CPU time.

/// Runs a script with a limit of `seconds` on its CPU time.
func bounded(_ script: String, seconds: Int = 30) throws -> Run {
    try shell("ulimit -t \(seconds) && timeout \(10 * seconds) \"$TX\" '\(try temporaryScript(script))'")
}

@Test func comparingContainersThatShareTheirPartsComparesEachPairOnce() throws {
    // 2^40 paths through each side; the old comparison walked all of them.
    let run = try bounded("""
        a = ["x"]; b = ["x"]; c = ["x"]
        for i in range(40) { a = [a, a]; b = [b, b]; c = [c, c] }
        c[1][0][1] = ["y"]
        r = {w: 1}; s = {w: 1}
        for i in range(40) { r = {p: r, q: r}; s = {p: s, q: s} }
        l = ["a", "b"]; l[0] = l; m = ["a", "b"]; m[0] = m
        [a == b, a == c, a != c, r == s, l == m]
        m[1] = "c"
        l == m
        """)
    #expect(run.status == 0)
    #expect(run.out == "[true, false, true, true, true]\nfalse\n")
}

@Test func savingARecordThatReusesSubRecordsIsRefusedAtOnce() throws {
    // 2^30 names; the old save built them all.
    let folder = try temporaryFolder()
    let run = try bounded("""
        r = {w: zeros(1)}
        for i in range(30) { r = {a: r, b: r} }
        save("\(folder)/shared.safetensors", r)
        """)
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: value error: save: the record holds more than 1000000 tensors, counting a shared sub-record once for each path to it; a .safetensors file names every one\n"))
    #expect(run.err.contains("script.tx:3:\(folder.count + 29)\n"))
    // Sharing within the bound saves every path, as before.
    let small = try bounded("""
        b = {w: ones(2)}
        save("\(folder)/small.safetensors", {layers: [b, b]})
        q = load("\(folder)/small.safetensors")
        [len(q.layers), q.layers[1].w]
        """)
    #expect(small.out == "[2, tensor [2]]\n")
}

@Test func printingATensorOfRank60000IsLinear() throws {
    // The old printer built a separator of up to 60,000 lines for each of 60,000 axes.
    let run = try bounded("""
        y = zeros(ones(60000))
        s = str(y)
        [len(s), s[0:14], s[180000:180012], s[-3:]]
        """)
    #expect(run.out == "[300009, \"tensor [1, 1, \", \", 1, 1]\\n[[[[\", \"]]]\"]\n")
}

@Test func indexingALongStringDoesNotWalkItEachTime() throws {
    // 2,000 indexes into 1 MB took 46 s: each walked the whole string.
    let run = try bounded("""
        s = "héllo, wörld! e\u{301}\\n"
        for i in range(16) { s = s + s }
        n = 0
        for i in range(2000) { if s[i * 500] == "h" { n = n + 1 } }
        [len(s), n, len(s[::-1]), "counts"]
        [s[-1], s[16 * 3000 + 1], s[16:32]]
        [s[0:32:3], s[31:0:-3], s[len(s) - 3:]]
        """)
    #expect(run.out == """
        [1048576, 500, 1048576, "counts"]
        ["\\n", "é", "héllo, wörld! e\u{301}\\n"]
        ["hl r!\\nl,öde\u{301}", "\\n!r lh lwoé", " e\u{301}\\n"]

        """)
}

@Test func loadingAFIFOIsRefusedInsteadOfWaitingForAWriter() throws {
    let folder = try temporaryFolder()
    // The old load blocked in open() until a writer came.
    let run = try shell("mkfifo '\(folder)/pipe.npy' && timeout 30 \"$TX\" -e 'load(\"\(folder)/pipe.npy\")'")
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: io error: \(folder)/pipe.npy is not a regular file (a pipe, socket or device); load reads files\n"))
}

@Test func aSafetensorsFileWhoseEntriesShareBytesIsRefusedBeforeAnyIsRead() throws {
    // Fifty entries naming the same 8 MiB: the old loader read every one (400 MiB)
    // before it checked for overlaps, so under a 100 MiB limit it failed for memory.
    let size = 8 << 20
    let entries = (0..<50).map { "\"t\($0)\": {\"dtype\": \"F32\", \"shape\": [\(size / 4)], \"data_offsets\": [0, \(size)]}" }
    var header = Array(("{" + entries.joined(separator: ", ") + "}").utf8)
    header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
    let length = (0..<8).map { UInt8((header.count >> (8 * $0)) & 0xFF) }
    let path = try temporaryFolder() + "/aliased.safetensors"
    try Data(length + header + [UInt8](repeating: 0, count: size)).write(to: URL(fileURLWithPath: path))
    let run = try tx(["--max-memory", "100M", "-e", "load(\"\(path)\")"])
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: io error: \(path): tensors 't0' and 't1' overlap\n"))
}

@Test func wordpieceOfLongWordsIsNotCubic() throws {
    // 1,000 words of 99 x took 13.7 s with all-MiniLM-L6-v2's vocabulary (each piece
    // tried every longer one first, each a new string), and a word of 8,192 letters hung.
    let run = try bounded("""
        v = index_map(["[UNK]", "x", "##x"])
        s = "x"
        for i in range(13) { s = s + s }
        w = []
        for i in range(1000) { push(w, s[0:99]) }
        [len(wordpiece(w, v)), wordpiece(s, v), len(wordpiece(s, v, max_chars=10000))]
        """)
    #expect(run.out == "[99000, [0], 8192]\n")
}

@Test func basicTokenizeWithALimitReadsOnlyTheStartOfTheText() throws {
    // 25 MB of text: without limit, 8 million words are made before tokenize cuts them
    // to 254.
    let run = try bounded("""
        s = "word, "
        for i in range(22) { s = s + s }
        basic_tokenize(s, limit=3)
        len(basic_tokenize("[SEP] " + s, keep=["[SEP]"], limit=5))
        x = "x"
        for i in range(12) { x = x + x }
        w = basic_tokenize(x[0:4093] + " [S EP] c d", keep=["[S EP]"], limit=3)
        [len(w[0]), w[1], w[2]]
        """)
    // The text is read in parts cut at white space; the last cut is not made inside "[S EP]".
    #expect(run.out == "[\"word\", \",\", \"word\"]\n5\n[4093, \"[S EP]\", \"c\"]\n")
}

@Test func ctrlCStopsWordpieceBetweenWords() throws {
    // 200,000 words of 8,193 letters, each milliseconds of work: wordpiece looked for
    // Ctrl-C every 65,536 words, minutes apart. A piped session, interrupted once the
    // call has started, must report it within seconds and go on.
    var session = try PipedSession()
    session.write("""
        v = index_map(["[UNK]", "x", "##x"])
        s = "x"
        for i in range(13) { s = s + s }
        s = s + "y"
        w = []
        for i in range(200000) { push(w, s) }
        nope
        ids = wordpiece(w, v, max_chars=10000)
        "a second Ctrl-C sent while the first was reported stops this"
        len(w)

        """)
    // The error of `nope` on stderr shows that wordpiece comes next.
    let stopped = session.interruptAfterMarker(delay: 0.5)
    let result = try session.finish()
    #expect(result.out.hasSuffix("200000\n"), "\(result.errors.suffix(600))")
    #expect(result.errors.contains("error: interrupted"))
    // (Under 0.8 CPU seconds measured, beside other builds; the rest of the work is
    // more than 10.)
    #expect(stopped < 2.5, "\(stopped) CPU seconds after Ctrl-C")
}
