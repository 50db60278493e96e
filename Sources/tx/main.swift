import ArgumentParser
import Console
@preconcurrency import Glibc
import Interpreter
import Tensor

/// The `tx` command: a REPL, a script runner, `-e`, and `--step`.
@main
struct TX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx",
        abstract: "A REPL and scripting language for tensor experiments: self-attention and Transformers, fast on OpenBLAS.",
        discussion: "With no FILE and no -e, tx starts the REPL (type :help there).")

    @Argument(help: "A .tx script to run.")
    var file: String?

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the script, as the list `args`.")
    var scriptArguments: [String] = []

    @Option(name: .customShort("e"), parsing: .unconditional,
            help: ArgumentHelp("Evaluate EXPR and print its value (it may start with -, as in -e '-1').", valueName: "EXPR"))
    var expression: String?

    @Flag(help: "Run FILE one statement at a time: narration, statement, result; at the step prompt Enter runs the next, ? lists the commands.")
    var step = false

    @Option(help: ArgumentHelp("With --step: also write the whole transcript (narration, code, results, heatmaps as SVG) as one self-contained HTML page.", valueName: "OUT.html"))
    var html: String?

    @Option(help: ArgumentHelp("Most memory tensors, lists and records may use, e.g. 4G, 512M or 50% (default: 75% of what tx may use: RAM, or the container's limit or ulimit -v when lower; also TX_MAX_MEMORY).", valueName: "SIZE"))
    var maxMemory: String?

    @Flag(help: "Print tx's version, the BLAS core and threads it uses, and its kernels' instruction set.")
    var version = false

    mutating func run() throws {
        prepareStandardStreams()
        let available = Memory.available(reservingAddressSpace: Interpreter.reservedAddressSpace)
        if let limit = maxMemory ?? environment("TX_MAX_MEMORY") {
            guard let bytes = Memory.size(limit, of: available) else {
                throw ValidationError("cannot read the memory size '\(limit)'; use e.g. 4G, 512M or 50%")
            }
            Memory.limit = bytes
        } else {
            Memory.limit = available / 4 * 3
        }
        if version {
            print(versionText())
            if !flushStandardOutput() { throw ExitCode(1) }
            return
        }
        // `tx [--step] FILE --html OUT.html`: after FILE, --html still belongs to tx.
        if html == nil, let at = scriptArguments.firstIndex(of: "--html"), at + 1 < scriptArguments.count {
            html = scriptArguments[at + 1]
            scriptArguments.removeSubrange(at...(at + 1))
        }
        if let html {
            guard let file, expression == nil else {
                throw ValidationError("--html writes a script's transcript: tx [--step] FILE --html OUT.html")
            }
            // The transcript must never replace the script (the same file under another
            // name, through a link or a hard link: the same device and inode).
            if Self.sameFile(html, file) {
                fputs("error: --html \(html) is the script \(file) itself; writing the transcript there would replace the script\n", stderr)
                throw ExitCode(1)
            }
        }
        let interpreter = Interpreter()
        interpreter.style = .standardOutput
        var status: Int32 = 0
        if let expression {
            // Ctrl-C stops it cleanly, as it does a script: status 130.
            Terminal.installInterruptHandler()
            status = Runner.runExpression(expression, interpreter: interpreter)
        } else if let file {
            interpreter.scriptArguments = scriptArguments
            // From a terminal, --step prompts after each step and breakpoint() opens a prompt.
            var reader: ((String) -> REPL.LineInput)? = nil
            let history = replHistory()
            // Ctrl-C stops the script cleanly, from a terminal or not (CI, cron, `echo |
            // tx loop.tx > log`): what it printed is flushed, a file being saved is not
            // left half written, and the exit status is 130.
            Terminal.installInterruptHandler()
            if isatty(0) != 0 {
                reader = Terminal.readlineReader(history: history, style: .standardOutput)
                Completion.install(for: interpreter)
                Highlight.install(for: interpreter, style: .standardOutput)
            }
            defer { if reader != nil { history.close() } }
            if step || html != nil {
                // --html without --step runs the script straight through, as --step
                // does without a terminal, and writes its transcript.
                let stepper = Stepper(interpreter: interpreter, readLine: step ? reader : nil, errorStyle: .standardError)
                let transcript = html.map { _ in Transcript(title: file) }
                stepper.transcript = transcript
                status = stepper.run(file)
                // A script that could not be read or parsed leaves the last transcript as it was.
                if let html, let transcript, stepper.loaded {
                    do {
                        try writeFile(path: html, bytes: Array(transcript.html().utf8))
                    } catch {
                        fputs("error: cannot write \(html): \(error)\n", stderr)
                        status = 1
                    }
                }
            } else {
                if let reader { Stepper.installBreakpoints(in: interpreter, readLine: reader) }
                status = Runner.runFile(file, interpreter: interpreter)
            }
        } else {
            status = runREPL(interpreter)
        }
        if !flushStandardOutput() { status = 1 }
        if status != 0 { throw ExitCode(status) }
    }

    /// Whether two paths name one file (its device and inode), through links too.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// The REPL; returns the exit status.
    private func runREPL(_ interpreter: Interpreter) -> Int32 {
        let interactive = isatty(0) != 0
        let history = interactive ? replHistory() : History(path: nil)
        let reader: (String) -> REPL.LineInput
        // Ctrl-C (SIGINT) stops a computation, not the session, piped or not.
        Terminal.installInterruptHandler()
        if interactive {
            print("tx \(txVersion): tensors and Transformers. :help for help, :quit or Ctrl-D to leave.")
            reader = Terminal.readlineReader(history: history, style: .standardOutput)
            Completion.install(for: interpreter)
            Highlight.install(for: interpreter, style: .standardOutput)
        } else {
            reader = Terminal.plainReader()
        }
        let repl = REPL(interpreter: interpreter, readLine: reader, errorStyle: .standardError,
                        sourceName: interactive ? "<repl>" : "<stdin>")
        repl.run()
        history.close()
        if interactive { print("") }
        // Piped input that failed somewhere fails as a whole, as a script would.
        return !interactive && repl.hadErrors ? 1 : 0
    }
}

let txVersion = "0.1.0"

func versionText() -> String {
    let library = BLAS.library.isEmpty ? "none (plain C fallback kernel)" : BLAS.library
    return """
        tx \(txVersion)
        BLAS: \(library)
          core \(BLAS.core) (\(BLAS.coreSource)), \(BLAS.threads) thread\(BLAS.threads == 1 ? "" : "s")
        kernels: \(BLAS.kernels)
        """
}

/// The history in `TX_HISTORY`, or `~/.tx_history`.
func replHistory() -> History {
    History(path: environment("TX_HISTORY") ?? environment("HOME").map { $0 + "/.tx_history" })
}

/// Makes writes that cannot reach their place fail instead of killing tx or going
/// astray: past a file-size limit (`ulimit -f`) a write fails with EFBIG rather than
/// raising SIGXFSZ, and a standard stream the caller closed (`>&-`) is opened on
/// /dev/null for reading, so that writes to it fail (and are reported) rather than
/// landing in the first file tx opens, which would take its descriptor.
func prepareStandardStreams() {
    signal(SIGXFSZ, SIG_IGN)
    for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
        _ = open("/dev/null", descriptor == 2 ? O_WRONLY : O_RDONLY)
    }
}

/// Flushes standard output; when any write to it failed (a full disk, a closed
/// descriptor, a closed pipe with SIGPIPE ignored) says so on standard error and
/// returns false, so that the exit status is 1: results were lost.
func flushStandardOutput() -> Bool {
    let flushed = fflush(stdout) == 0
    let code = errno
    guard !flushed || ferror(stdout) != 0 else { return true }
    let reason = !flushed ? String(cString: strerror(code))
        : StandardOutput.failure != 0 ? String(cString: strerror(StandardOutput.failure)) : "an earlier write failed"
    fputs("error: cannot write to standard output: \(reason)\n", stderr)
    return false
}

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
