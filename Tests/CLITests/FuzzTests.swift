import Foundation
import Testing
import TestSupport

/// Fuzzing through the `tx` binary, as a user's files and programs reach it, under an
/// address-space limit (a container or small machine: memory that tx does not count
/// would end in an abort there). One piped session per target runs every input (an
/// error does not end a piped session) and prints a last line only a surviving
/// process reaches. Each target runs 100 inputs times TX_FUZZ_SCALE (CI: 20).
let fuzzCount = TestEnvironment.fuzzCount(100)

/// Runs `session` in one tx process with at most 4 GiB of address space and a 1 GiB
/// tensor limit. Its errors go to a file (thousands of them would fill a pipe that is
/// read only after standard output).
func fuzzSession(_ session: [String], in folder: String) throws -> Run {
    let input = folder + "/session.txt", errors = folder + "/errors.txt"
    try (session + ["print(\"fuzz: survived\")", ""]).joined(separator: "\n").write(toFile: input, atomically: false, encoding: .utf8)
    let run = try shell("ulimit -v 4194304 && exec \"$TX\" --max-memory 1G < '\(input)' 2> '\(errors)'")
    return Run(status: run.status, out: run.out, err: try String(contentsOfFile: errors, encoding: .utf8))
}

/// Runs `fuzzCount` inputs, 1,000 to a session: `input(n)` writes input n (to a file
/// named by `n % 1000`) and gives the session line that runs it. Every session must live
/// to print its last line, and its errors must include `expectedError`.
func fuzz(_ what: String, in folder: String, expectedError: String, _ input: (Int) throws -> String) throws {
    var session: [String] = []
    for n in 0..<fuzzCount {
        session.append(try input(n))
        if session.count == 1000 || n == fuzzCount - 1 {
            let run = try fuzzSession(session, in: folder)
            let which = "\(what) \(n + 1 - session.count)..<\(n + 1)"
            #expect(run.status == 0 || run.status == 1, "\(which): status \(run.status)")
            #expect(run.out.hasSuffix("fuzz: survived\n"), "\(which): \(run.err.suffix(2000))")
            #expect(run.err.contains(expectedError), "\(which)")
            session = []
        }
    }
}

/// Mutated .npy and .safetensors files, seeded from NumPy-written fixtures and files tx
/// saves (a mask, nested records and lists): each loads or fails with an error.
@Test(arguments: ["npy", "safetensors"])
func mutatedFilesThroughTX(_ suffix: String) throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let fixtures = repositoryRoot + "/Tests/TensorTests/Fixtures/"
    let made = try tx(["-e", """
        save("\(folder)/a.npy", reshape(arange(6), 2, 3)); save("\(folder)/m.npy", arange(4) > 1);
        save("\(folder)/r.safetensors", {W: eye(2), layers: [{b: ones(3)}, {b: zeros(1)}], m: arange(3) > 0})
        """])
    #expect(made.status == 0, "\(made.err)")
    let seeds = try (suffix == "npy"
        ? [fixtures + "version3.npy", fixtures + "arange_i8.npy", folder + "/a.npy", folder + "/m.npy"]
        : [fixtures + "model.safetensors", folder + "/r.safetensors"]).map { Array(try Data(contentsOf: URL(fileURLWithPath: $0))) }
    var random = Seeded(state: suffix == "npy" ? 31 : 32)
    try fuzz("mutated .\(suffix) files", in: folder, expectedError: "io error") { n in
        let path = "\(folder)/f\(n % 1000).\(suffix)"
        try Data(random.mutated(seeds[n % seeds.count])).write(to: URL(fileURLWithPath: path))
        return "x = load(\"\(path)\"); x = none"
    }
}

/// Generated programs, whole and mutated, each as a script `:load`ed into one session,
/// and each ends in a value or an error.
@Test func programsThroughTX() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var generator = ProgramGenerator(random: Seeded(state: 33))
    try fuzz("programs", in: folder, expectedError: "error") { n in
        let path = "\(folder)/p\(n % 1000).tx"
        let program = generator.program()
        try (ProgramGenerator.prelude + (n % 2 == 0 ? program : generator.mutate(program))).write(toFile: path, atomically: false, encoding: .utf8)
        return ":load \(path)"
    }
}
