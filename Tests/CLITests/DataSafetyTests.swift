import Foundation
import Testing

/// `tx` run by /bin/sh, for what needs a shell: limits (`ulimit`), redirections and
/// signal dispositions. `$TX` names the executable.
func shell(_ script: String) throws -> Run {
    try run("/bin/sh", ["-c", script], environment: ["TX": txPath])
}

/// A fresh folder for one test's files.
func temporaryFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tx-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

// Results that cannot be written are an error, not a silent success.

@Test func aFullDiskOnStandardOutputIsAnError() throws {
    var run = try shell("\"$TX\" -e 'zeros(3)' > /dev/full")
    #expect(run.status == 1)
    #expect(run.err == "error: cannot write to standard output: No space left on device\n")
    let script = try temporaryScript("x = 1\nx + 1\n")
    run = try shell("\"$TX\" '\(script)' > /dev/full")
    #expect(run.status == 1)
    #expect(run.err == "error: cannot write to standard output: No space left on device\n")
    run = try shell("echo 'x = 2; x * 3' | \"$TX\" > /dev/full")
    #expect(run.status == 1)
    #expect(run.err == "error: cannot write to standard output: No space left on device\n")
}

@Test func aClosedStandardOutputIsAnErrorAndNoFileTakesItsPlace() throws {
    let folder = try temporaryFolder()
    // The saved file opens on the lowest free descriptor: were stdout (1) left closed,
    // the printed result would go into it.
    let run = try shell("cd '\(folder)' && \"$TX\" -e 'save(\"a.npy\", ones(2)); print(\"hello\")' >&-")
    #expect(run.status == 1)
    #expect(run.err == "error: cannot write to standard output: Bad file descriptor\n")
    let saved = try #require(FileManager.default.contents(atPath: folder + "/a.npy"))
    #expect(saved.count == 128 + 8)
}

@Test func aClosedPipeWithSIGPIPEIgnoredIsAnError() throws {
    // Standard output is a pipe whose reader is gone before tx starts; with SIGPIPE
    // ignored (as some parents leave it), the write fails with EPIPE.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "trap '' PIPE; exec \"$TX\" -e 'zeros(3)'"]
    var env = ProcessInfo.processInfo.environment
    env["TX"] = txPath
    process.environment = env
    let out = Pipe(), err = Pipe()
    try out.fileHandleForReading.close()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try out.fileHandleForWriting.close()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 1)
    #expect(String(decoding: errData, as: UTF8.self) == "error: cannot write to standard output: Broken pipe\n")
}

// A save is whole or not at all: the previous file survives any failure.

@Test(arguments: [
    "save(\"out.npy\", ones(1000))",
    "save(\"out.safetensors\", {a: ones(1000)})",
    "savefig(\"out.svg\", ones(40, 40))",
])
func aFailedSaveLeavesThePreviousFileAndNoTemporaryFile(_ statement: String) throws {
    let folder = try temporaryFolder()
    let target = folder + "/" + (statement.split(separator: "\"")[1])
    try "the previous file\n".write(toFile: target, atomically: false, encoding: .utf8)
    // `ulimit -f` counts 512-byte blocks: 2 KB is less than any of these files.
    let run = try shell("cd '\(folder)' && ulimit -f 4 && \"$TX\" -e '\(statement)'")
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: io error: \(target.split(separator: "/").last ?? ""): File too large"))
    #expect(try String(contentsOfFile: target, encoding: .utf8) == "the previous file\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [String(target.split(separator: "/").last ?? "")])
}

@Test func aSaveReplacesTheFileWithItsModeAndThroughALink() throws {
    let folder = try temporaryFolder()
    try "old".write(toFile: folder + "/x.npy", atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: folder + "/x.npy")
    try FileManager.default.createSymbolicLink(atPath: folder + "/link.npy", withDestinationPath: "x.npy")
    let run = try shell("cd '\(folder)' && \"$TX\" -e 'save(\"link.npy\", ones(2)); load(\"x.npy\")'")
    #expect(run.out == "tensor [2]\n[1, 1]\n")
    let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/x.npy")
    #expect((attributes[.posixPermissions] as? Int) == 0o640)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/link.npy") == "x.npy")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["link.npy", "x.npy"])
}

@Test func aPathWithANulByteDoesNotWriteTheFileBeforeIt() throws {
    let folder = try temporaryFolder()
    try "my notes\n".write(toFile: folder + "/notes.txt", atomically: false, encoding: .utf8)
    // The script holds a raw NUL byte inside the string literal: the source is refused
    // at that byte (as Python does), before anything runs.
    let script = try temporaryScript("save(\"\(folder)/notes.txt\0.npy\", ones(2))\n")
    let run = try tx([script])
    #expect(run.status == 1)
    let column = "save(\"\(folder)/notes.txt".count + 1
    #expect(run.err.hasPrefix("error: syntax error: a NUL character (byte 0) in the source\n  --> \(script):1:\(column)\n"))
    #expect(try String(contentsOfFile: folder + "/notes.txt", encoding: .utf8) == "my notes\n")
}

@Test func aDeepChainIsFreedWithoutLosingTheOutputBeforeIt() throws {
    let folder = try temporaryFolder()
    // Standard output is a file: a crash while freeing would lose the buffered "before".
    let run = try shell("""
        "$TX" -e 'fn chain(n) { node = none; for i in range(n) { node = {val: i, next: node} }; node }; print("before"); chain(50000);' > '\(folder)/out.txt'
        """)
    #expect(run.status == 0)
    #expect(try String(contentsOfFile: folder + "/out.txt", encoding: .utf8) == "before\n")
}

@Test func devicesAreWrittenInPlaceNotReplaced() throws {
    // Renaming a temporary file over /dev/null would replace the device (as root).
    var run = try tx(["-e", "savefig(\"/dev/null\", ones(2, 2)); 1"])
    #expect(run.status == 0 && run.out == "1\n")
    run = try tx(["-e", "savefig(\"/dev/full\", ones(2, 2))"])
    #expect(run.status == 1)
    #expect(run.err.hasPrefix("error: io error: /dev/full: No space left on device\n"))
    for device in ["/dev/null", "/dev/full"] {
        let type = try FileManager.default.attributesOfItem(atPath: device)[.type] as? FileAttributeType
        #expect(type == .typeCharacterSpecial, "\(device)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.contains(".tx-") } == [])
}
