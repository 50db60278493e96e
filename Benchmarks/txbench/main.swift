// txbench: release-mode benchmarks of tx's kernels, one line per measurement.
//
//     scripts/bench            (builds in release, then runs this and PyTorch's reference)
//     txbench --backward       (only the gradient rows: attention's backward, 4b, and the
//                               encoder block's training step, 5b)
//     txbench --training       (only the encoder block's training step)
//
// Times are the best of several runs after a warm-up (at least half a second of runs). Peak memory is the growth of the
// process's peak resident set during the measurement (Linux: reset through
// /proc/self/clear_refs, read from VmHWM).
@preconcurrency import Glibc
import Interpreter
import Tensor
import Transformer

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func resetPeak() {
    if let f = fopen("/proc/self/clear_refs", "w") {
        fputs("5", f)
        fclose(f)
    }
}

/// Resident memory now and at its peak since the last reset, in MiB.
func residentMiB() -> (now: Double, peak: Double) {
    guard let f = fopen("/proc/self/status", "r") else { return (0, 0) }
    defer { fclose(f) }
    var now = 0.0, peak = 0.0
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), f) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let number = Double(text.split(separator: " ").dropFirst().first { !$0.isEmpty }.map(String.init) ?? "") ?? 0
        if text.hasPrefix("VmRSS:") { now = number / 1024 }
        if text.hasPrefix("VmHWM:") { peak = number / 1024 }
    }
    return (now, peak)
}

/// The fastest of at least `repeats` timed runs after a warm-up, repeating short
/// workloads until about half a second has been measured.
func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var fastest = Double.infinity, total = 0.0, runs = 0
    while runs < repeats || (total < 0.5 && runs < 1000) {
        let start = now()
        try body()
        let seconds = now() - start
        fastest = min(fastest, seconds)
        total += seconds
        runs += 1
    }
    return fastest
}

/// The fastest run of each body over `rounds` rounds after a warm-up round, the bodies
/// taking turns within each round.
func bestInterleaved(rounds: Int, _ bodies: [() throws -> Void]) throws -> [Double] {
    for body in bodies { try body() }
    var fastest = [Double](repeating: .infinity, count: bodies.count)
    for _ in 0..<rounds {
        for (i, body) in bodies.enumerated() {
            let start = now()
            try body()
            fastest[i] = min(fastest[i], now() - start)
        }
    }
    return fastest
}

func report(_ name: String, seconds: Double, flops: Double, peakMiB: Double? = nil, cost: Cost? = nil) {
    var line = "tx \(name) " + format(seconds, 6) + " s " + format(flops / seconds / 1e9, 1) + " GFLOP/s"
    if let peakMiB { line += " peak " + format(peakMiB, 0) + " MiB" }
    if let cost { line += " faults " + format(cost.faults, 0) + " sys " + format(cost.systemSeconds * 1000, 1) + " ms" }
    print(line)
    fflush(stdout)
}

/// Page faults and system (kernel) time of one run, from getrusage.
struct Cost {
    var faults: Double
    var systemSeconds: Double
}

func usage() -> (faults: Double, system: Double) {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return (Double(u.ru_minflt + u.ru_majflt), Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6)
}

/// The page faults and system time of `body`, per run over `runs` runs after a warm-up.
func cost(runs: Int = 3, _ body: () throws -> Void) rethrows -> Cost {
    try body()
    let before = usage()
    for _ in 0..<runs { try body() }
    let after = usage()
    return Cost(faults: (after.faults - before.faults) / Double(runs), systemSeconds: (after.system - before.system) / Double(runs))
}

func format(_ x: Double, _ decimals: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, "%.\(decimals)f", $0) }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The CPU time of all the process's threads per run of `body`, over `runs` runs after a warm-up.
func cpuSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    func cpu() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
    try body()
    let start = cpu()
    for _ in 0..<runs { try body() }
    return (cpu() - start) / Double(runs)
}

/// Runs `body` once more, measuring the peak resident growth.
func peakGrowth(_ body: () throws -> Void) rethrows -> Double {
    resetPeak()
    let before = residentMiB().now
    try body()
    return max(0, residentMiB().peak - before)
}

var random = RandomGenerator(seed: 0)
BLAS.load()
print("BLAS \(BLAS.library.isEmpty ? "fallback" : BLAS.library): core \(BLAS.core) (\(BLAS.coreSource)), \(BLAS.threads) threads; tx kernels \(BLAS.kernels)")

// Attention's backward (section 4b, or alone: txbench --backward). Forward and backward on
// [8, 1024, 64], causal and not: the forward keeping
// each row's logsumexp, then the gradients of Q, K and V from a gradient of the output.
// Counted as 4 n^2 d operations for the forward's two products and 10 n^2 d for the
// backward's five, per batch item (half when causal).
@MainActor func attentionBackwardRows() throws {
    for causal in [false, true] {
        let n = 1024
        let q = try Tensor.randn([8, n, 64], using: &random), k = try Tensor.randn([8, n, 64], using: &random)
        let v = try Tensor.randn([8, n, 64], using: &random), dO = try Tensor.randn([8, n, 64], using: &random)
        let name = "b=8 n=\(n) d=64\(causal ? " causal" : "")", perItem = Double(n) * Double(n) * 64 / (causal ? 2 : 1)
        let (o, lse) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, causal: causal)
        // The forward with and without the logsumexp, and the backward alone, timed in turn.
        let parts = try bestInterleaved(rounds: 10, [
            { _ = try Attention.attention(queries: q, keys: k, values: v, causal: causal) },
            { _ = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, causal: causal) },
            {
                _ = try Attention.backward(queries: q, keys: k, values: v, causal: causal, output: o, logsumexp: lse,
                                           outputGradient: dO)
            },
        ])
        // On a machine shared with other work the times above depend on the load; the CPU
        // time of the threads, per run, does much less.
        for (part, seconds) in [("forward", try cpuSeconds(runs: 5) { _ = try Attention.attention(queries: q, keys: k, values: v, causal: causal) }),
                                ("backward", try cpuSeconds(runs: 3) {
                                    _ = try Attention.backward(queries: q, keys: k, values: v, causal: causal, output: o,
                                                               logsumexp: lse, outputGradient: dO)
                                })] {
            print("tx cpu time of attention \(part) \(name): " + format(seconds * 1000, 1) + " ms per run")
        }
        report("attention \(name) (beside the backward)", seconds: parts[0], flops: 4 * 8 * perItem)
        report("attention with logsumexp \(name)", seconds: parts[1], flops: 4 * 8 * perItem)
        report("attention backward \(name)", seconds: parts[2], flops: 10 * 8 * perItem)
        let run = {
            let (o, lse) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, causal: causal)
            _ = try Attention.backward(queries: q, keys: k, values: v, causal: causal, output: o, logsumexp: lse,
                                       outputGradient: dO)
        }
        let seconds = try best(3, run)
        let peak = try peakGrowth(run)
        report("attention forward+backward \(name)", seconds: seconds, flops: 14 * 8 * perItem, peakMiB: peak)
    }
    // The lecture's n = 50,000, one head, d = 64, causal: the backward alone, whose full
    // weight matrix would take 10 GB (5 GB for its lower triangle).
    let n = 50_000
    let q = try Tensor.randn([n, 64], using: &random), k = try Tensor.randn([n, 64], using: &random)
    let v = try Tensor.randn([n, 64], using: &random), dO = try Tensor.randn([n, 64], using: &random)
    let (o, lse) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, causal: true)
    var seconds = 0.0
    let peak = try peakGrowth {
        let start = now()
        _ = try Attention.backward(queries: q, keys: k, values: v, causal: true, output: o, logsumexp: lse,
                                   outputGradient: dO)
        seconds = now() - start
    }
    report("attention backward b=1 n=50000 d=64 causal", seconds: seconds, flops: 5 * Double(n) * Double(n) * 64,
           peakMiB: peak)
}
// A training step of the encoder block of row 5 (section 5b, or with the attention rows:
// txbench --backward): the forward under a tape, the loss sum(out * R) for a fixed
// random R, and the backward pass to every parameter (16 tensors) and to x. Measured
// twice: through the Tensor-level tape (Tape, watch, backward), and through the
// interpreter as a user writes it, value_and_grad(fn(p, x) = sum(encoder_block(x, p,
// heads=8) * R), wrt=["p", "x"]), which also copies the arguments into fresh leaves and
// the gradients out of the tape. Counted as three times the forward's linear products
// (the forward, then dx and dW) plus attention's 4 n^2 d forward and 10 n^2 d backward.
@MainActor func encoderTrainingRows() throws {
    let (n, d, h, dff) = (512, 512, 8, 2048)
    let name = "encoder_block training step n=\(n) d=\(d) heads=\(h) d_ff=\(dff)"
    let linear = 2 * Double(n * d * d) * 4 + 2 * 2 * Double(n * d * dff)
    let flops = 3 * linear + 14 * Double(n * n * d)
    let block = try Initializers.encoderBlock(d: d, dFF: dff, &random)
    let x = try Tensor.randn([1, n, d], using: &random), R = try Tensor.randn([1, n, d], using: &random)
    let options = BlockOptions(heads: h)
    let parameters = [block.attn.Wq, block.attn.bq, block.attn.Wk, block.attn.bk, block.attn.Wv, block.attn.bv,
                      block.attn.Wo, block.attn.bo, block.ln1.gamma, block.ln1.beta, block.ffn.W1, block.ffn.b1,
                      block.ffn.W2, block.ffn.b2, block.ln2.gamma, block.ln2.beta, x]
    // The forward on a fresh tape watching every parameter and x; returns the tape and loss.
    let forward = { () throws -> (Tape, Tensor) in
        let tape = Tape()
        for t in parameters { tape.watch(t) }
        let loss = try tape.activate { try (block(x, options: options) * R).reduce(.sum) }
        return (tape, loss)
    }
    let step = {
        let (tape, loss) = try forward()
        let gradients = try tape.backward(from: loss)
        for t in parameters where gradients[ObjectIdentifier(t)] == nil {
            throw TensorError.value("txbench: no gradient reached a parameter of shape \(t.shape)")
        }
    }
    let interpreter = Interpreter(output: { _ in })
    _ = try interpreter.run("""
        p = init_encoder_block(\(d), \(h), \(dff), seed=0)
        x = randn(1, \(n), \(d))
        R = randn(1, \(n), \(d))
        step = value_and_grad(fn(p, x) = sum(encoder_block(x, p, heads=\(h)) * R), wrt=["p", "x"])
        """, name: "bench", echo: false)
    let viaInterpreter = { _ = try interpreter.run("r = step(p, x)", name: "bench", echo: false) }
    // The parts of the step, timed in turn: the forward without a tape, the forward on a
    // tape, and the backward pass alone (from a forward made before each run, untimed).
    var pending: (Tape, Tensor)? = nil
    var backwardSeconds = Double.infinity
    let times = try bestInterleaved(rounds: 10, [
        { _ = try block(x, options: options) },
        { _ = try forward() },
        step,
        viaInterpreter,
        {
            pending = try forward()
            let start = now()
            _ = try pending!.0.backward(from: pending!.1)
            backwardSeconds = min(backwardSeconds, now() - start)
            pending = nil
        },
    ])
    for (part, body) in [("tape", step), ("interpreter", viaInterpreter)] {
        print("tx cpu time of \(name) (\(part)): " + format(try cpuSeconds(runs: 5, body) * 1000, 1) + " ms per run")
    }
    print("tx parts of \(name): forward without a tape " + format(times[0] * 1000, 1) + " ms, forward on a tape "
          + format(times[1] * 1000, 1) + " ms, backward pass " + format(backwardSeconds * 1000, 1) + " ms")
    report(name, seconds: times[2], flops: flops, peakMiB: try peakGrowth(step), cost: try cost(runs: 5, step))
    report(name + " (value_and_grad)", seconds: times[3], flops: flops, peakMiB: try peakGrowth(viaInterpreter),
           cost: try cost(runs: 5, viaInterpreter))
}

if CommandLine.arguments.contains("--training") {
    try encoderTrainingRows()
    exit(0)
}
if CommandLine.arguments.contains("--backward") {
    try attentionBackwardRows()
    try encoderTrainingRows()
    exit(0)
}

// 1. sgemm 2048 x 2048 through `a @ b`, against the same OpenBLAS call made directly. The
// three are timed in turn, round after round, so that a change in the machine's load
// or clock during the measurement falls on all of them alike.
do {
    let n = 2048
    let a = try Tensor.randn([n, n], using: &random), b = try Tensor.randn([n, n], using: &random)
    let flops = 2 * Double(n * n * n)
    let c = try Tensor(uninitializedShape: [n, n])
    let times = try bestInterleaved(rounds: 10, [
        { _ = try Tensor.matmul(a, b) },
        { _ = try Tensor.matmul(a, b.swappingLastAxes()) },
        {
            try BLAS.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: a.storage.pointer, lda: n,
                          b: b.storage.pointer, ldb: n, beta: 0, c: c.storage.pointer, ldc: n, for: "a direct sgemm")
        },
    ])
    let (viaTx, transposed, direct) = (times[0], times[1], times[2])
    report("matmul a@b n=2048", seconds: viaTx, flops: flops)
    report("matmul a@b' n=2048 (transpose flag)", seconds: transposed, flops: flops)
    report("sgemm direct n=2048", seconds: direct, flops: flops)
    print("tx matmul reaches " + format(100 * direct / viaTx, 1) + "% of the direct sgemm")
}

// 1b. Products large enough to be cut into tiles that check for Ctrl-C (BLAS.Tiling.plan:
// over 2^35 operations), through `a @ b`, against one direct sgemm of the whole product,
// timed in turn as above.
do {
    for (n, rounds) in [(4096, 5), (8192, 3)] {
        let a = try Tensor.randn([n, n], using: &random), b = try Tensor.randn([n, n], using: &random)
        let c = try Tensor(uninitializedShape: [n, n])
        let flops = 2 * Double(n) * Double(n) * Double(n)
        let tiles = BLAS.Tiling.plan(m: n, n: n, k: n)
        let times = try bestInterleaved(rounds: rounds, [
            { _ = try Tensor.matmul(a, b) },
            {
                try BLAS.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: a.storage.pointer,
                              lda: n, b: b.storage.pointer, ldb: n, beta: 0, c: c.storage.pointer, ldc: n,
                              for: "a direct sgemm")
            },
        ])
        report("matmul a@b n=\(n) (tiles \(tiles.rows) x \(tiles.cols) x \(tiles.depth))", seconds: times[0], flops: flops)
        report("sgemm direct n=\(n)", seconds: times[1], flops: flops)
        print("tiled tx matmul n=\(n) reaches " + format(100 * times[1] / times[0], 1) + "% of one direct sgemm")
    }
}

// 2. Start-up: `tx -e '1 + 1'`, the tx binary next to this one.
do {
    var path = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &path, path.count - 1)
    let exe = String(decoding: path.prefix(max(0, length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let tx = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/tx"
    if access(tx, X_OK) == 0 {
        var fastest = Double.infinity
        for _ in 0..<20 {
            let start = now()
            var pid = pid_t()
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup(tx), strdup("-e"), strdup("1 + 1"), nil]
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            if posix_spawn(&pid, tx, &actions, nil, argv, environ) == 0 {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                fastest = min(fastest, now() - start)
            }
            posix_spawn_file_actions_destroy(&actions)
            for p in argv { free(p) }
        }
        print("tx startup tx -e '1 + 1' " + format(fastest * 1000, 1) + " ms")
    }
}

// 3. The interpreter: a loop of `s = s + i`.
do {
    let interpreter = Interpreter(output: { _ in })
    let n = 1_000_000
    let seconds = try best(3) { try interpreter.run("s = 0; for i in range(\(n)) { s = s + i }", name: "bench", echo: false) }
    print("tx loop s = s + i " + format(seconds / Double(n) * 1e9, 1) + " ns/iteration")
}

// 4. Attention on [8, n, 64], causal and not.
for n in [512, 1024, 2048, 4096] {
    for causal in [false, true] {
        let q = try Tensor.randn([8, n, 64], using: &random), k = try Tensor.randn([8, n, 64], using: &random)
        let v = try Tensor.randn([8, n, 64], using: &random)
        let run = { _ = try Attention.attention(queries: q, keys: k, values: v, causal: causal) }
        let seconds = try best(3, run)
        let peak = try peakGrowth(run)
        let flops = 4 * 8 * Double(n) * Double(n) * 64 / (causal ? 2 : 1)
        report("attention b=8 n=\(n) d=64\(causal ? " causal" : "")", seconds: seconds, flops: flops, peakMiB: peak,
               cost: n == 4096 ? try cost(run) : nil)
    }
}

// 4b. See attentionBackwardRows.
try attentionBackwardRows()

// 5. An encoder block as in the lecture's base model: d 512, 8 heads, d_ff 2048, n 512.
do {
    let (n, d, h, dff) = (512, 512, 8, 2048)
    let block = try Initializers.encoderBlock(d: d, dFF: dff, &random)
    let x = try Tensor.randn([1, n, d], using: &random)
    let options = BlockOptions(heads: h)
    let run = { _ = try block(x, options: options) }
    let seconds = try best(10, run)
    let peak = try peakGrowth(run)
    let flops = 2 * Double(n * d * d) * 4 + 4 * Double(n * n * d) + 2 * 2 * Double(n * d * dff)
    report("encoder_block n=\(n) d=\(d) heads=\(h) d_ff=\(dff)", seconds: seconds, flops: flops, peakMiB: peak,
           cost: try cost(runs: 10, run))
}

// 5b. See encoderTrainingRows.
try encoderTrainingRows()

// 6. A BERT-sized encoder (all-MiniLM-L6-v2's shape: 6 layers, d 384, 12 heads, d_ff 1536,
// GELU) over a padded batch of 32 sequences of 5 to 256 tokens, with their padding mask.
do {
    let (b, n, d, h, dff, layers) = (32, 256, 384, 12, 1536, 6)
    let encoder = Encoder(layers: try (0..<layers).map { _ in try Initializers.encoderBlock(d: d, dFF: dff, &random) }, norm: nil)
    let x = try Tensor.randn([b, n, d], using: &random)
    let lengths = (0..<b).map { 5 + $0 * (n - 5) / (b - 1) }
    let mask = try Masks.padding(lengths: lengths, n: n)
    let options = BlockOptions(heads: h, activation: .gelu)
    let run = { _ = try encoder(x, options: options, mask: mask) }
    let seconds = try best(3, run)
    let peak = try peakGrowth(run)
    let perLayer = 2 * Double(b * n * d * d) * 4 + 4 * Double(b * n * n * d) + 2 * 2 * Double(b * n * d * dff)
    report("encoder padded b=\(b) n=\(n) d=\(d) heads=\(h) d_ff=\(dff) layers=\(layers) gelu", seconds: seconds,
           flops: perLayer * Double(layers), peakMiB: peak, cost: try cost(runs: 3, run))
}

// 6b. The products the encoder rows are made of, each on its own, through the encoder's
// own path: a linear layer is `affine` (x @ W' + b, W stored [d_out, d_in] as PyTorch's
// nn.Linear and a loaded model's weights, passed with the transpose flag), one head's
// attention products are `@`. Each is named the same in pytorch_reference.py, which
// times F.linear and torch.matmul on the same shapes with the same repetitions.
do {
    let linears: [(who: String, operand: String, rows: Int, dIn: Int, dOut: Int, role: String)] = [
        ("encoder_block", "x", 512, 512, 512, "Wq Wk Wv Wo"), ("encoder_block", "x", 512, 512, 2048, "FFN up"),
        ("encoder_block", "h", 512, 2048, 512, "FFN down"), ("encoder padded", "x", 8192, 384, 384, "Wq Wk Wv Wo"),
        ("encoder padded", "x", 8192, 384, 1536, "FFN up"), ("encoder padded", "h", 8192, 1536, 384, "FFN down"),
    ]
    for (who, operand, rows, dIn, dOut, role) in linears {
        let x = try Tensor.randn([rows, dIn], using: &random), W = try Tensor.randn([dOut, dIn], using: &random)
        let b = try Tensor.randn([dOut], using: &random)
        let seconds = try best(rows > 512 ? 3 : 10) { _ = try affine(x, W.swappingLastAxes(), b) }
        report("\(who) product \(operand)[\(rows),\(dIn)] @ W[\(dOut),\(dIn)]' + b (\(role))", seconds: seconds,
               flops: 2 * Double(rows * dIn * dOut))
    }
    let (n, dk) = (512, 64)
    let q = try Tensor.randn([n, dk], using: &random), k = try Tensor.randn([n, dk], using: &random)
    let p = try Tensor.randn([n, n], using: &random), v = try Tensor.randn([n, dk], using: &random)
    let flops = 2 * Double(n * n * dk)
    report("encoder_block product q[\(n),\(dk)] @ k[\(n),\(dk)]' (one head's scores)",
           seconds: try best(10) { _ = try Tensor.matmul(q, k.swappingLastAxes()) }, flops: flops)
    report("encoder_block product p[\(n),\(n)] @ v[\(n),\(dk)] (one head's weights times V)",
           seconds: try best(10) { _ = try Tensor.matmul(p, v) }, flops: flops)
}

// 7. The lecture's n = 50,000: one head, d = 64, whose full score matrix would take 10 GB.
do {
    let n = 50_000
    let q = try Tensor.randn([n, 64], using: &random), k = try Tensor.randn([n, 64], using: &random)
    let v = try Tensor.randn([n, 64], using: &random)
    var seconds = 0.0
    let peak = try peakGrowth {
        let start = now()
        _ = try Attention.attention(queries: q, keys: k, values: v)
        seconds = now() - start
    }
    report("attention b=1 n=50000 d=64", seconds: seconds, flops: 4 * Double(n) * Double(n) * 64, peakMiB: peak)
}
