import Tensor

/// The language's help, generated from the builtin table so that it cannot drift from
/// the code: builtins, constants, keywords, operators and syntax. The console's `:help`
/// (`Sources/Console/CommandHelp.swift`) adds its commands and the user's functions.
public enum Help {
    /// The builtins by category, then the constants: the end of `:help`'s overview.
    public static func index(_ interpreter: Interpreter) -> String {
        var out = ""
        for category in Category.allCases {
            let names = interpreter.builtinList.filter { $0.category == category }.map(\.name)
            guard !names.isEmpty else { continue }
            out += "\n\(category.title):\n" + wrap(names.joined(separator: " "), indent: "  ")
        }
        out += "\nConstants:\n  " + Interpreter.constants.map(\.name).joined(separator: " ") + "\n"
        return out
    }

    /// The names of the constants and of the keywords and operators `entry` explains.
    public static var constantNames: [String] { Interpreter.constants.map(\.name) }
    public static var languageNames: [String] { language.flatMap(\.names) }

    /// The help of a keyword or an operator, a constant or a builtin, in that order; nil
    /// for any other name. `:help NAME` shows it (after the user's own functions).
    public static func entry(_ name: String, _ interpreter: Interpreter) -> String? {
        if let text = languageTopic(name) { return text }
        if let constant = Interpreter.constants.first(where: { $0.name == name }) {
            return "\(constant.name)\n  \(constant.help)\n"
        }
        guard let builtin = interpreter.builtins[name] else { return nil }
        // `:help blas` and `:help memory` are the builtins and what they report.
        let suffix = name == "blas" ? "\n" + blas() : name == "memory" ? "\n" + memory() : ""
        var out = "\(builtin.signature)\n  \(builtin.summary)\n"
        if !builtin.details.isEmpty {
            out += "\n" + builtin.details.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        if let reason = builtin.passesNoGradient {
            out += "\n  gradient: none flows through it (\(reason)); see :help grad\n"
        }
        out += "\n  example: \(builtin.example)\n"
        return out + suffix
    }

    public static func blas() -> String {
        """
        BLAS: OpenBLAS\(BLAS.library.isEmpty ? " (not found: using tx's plain C kernel)" : " at \(BLAS.library)")
          core:    \(BLAS.core) (\(BLAS.coreSource))
          threads: \(BLAS.threads) (set OPENBLAS_NUM_THREADS to change)
          Matrix products (@, linear) go to cblas_sgemm, with transpose flags instead of
          copies for views such as K'; attention's products with d and d_v up to 512
          use tx's own AVX2 or AVX-512 micro-kernel (sgemm otherwise, and with the
          generic kernels). tx chooses the core from the CPU's features unless
          OPENBLAS_CORETYPE is set; set it before starting tx to choose another
          core (an empty value counts as unset).
          tx's own kernels (elementwise functions, reductions, softmax, attention) run
          \(BLAS.kernels) instructions, the newest this CPU has; TX_KERNELS=avx2 or
          TX_KERNELS=generic runs an older set's (with OPENBLAS_CORETYPE=Haswell, an
          AVX2 machine's whole path is measured on an AVX-512 one).

        """
    }

    public static func memory() -> String {
        """
        Memory: tensors, strings, lists and records now hold \(Memory.format(bytes: Memory.liveBytes)), at most \(Memory.format(bytes: Memory.peakBytes)) so far;
          the limit is \(Memory.format(bytes: Memory.limit)) (by default three quarters of RAM, or of the container's limit
          or what ulimit -v leaves). Each tensor counts 256 bytes besides its payload.
          \(Memory.format(bytes: Memory.cachedBytes)) of freed tensor buffers are kept for reuse (they count against
          the limit, and are given back when an allocation needs the room and on :reset).
          The peak counts attention's score blocks while it runs; memory() gives the same
          figures to a script, and memory(reset_peak=true) starts a new peak.
          An operation whose result would pass the limit stops with a memory error
          instead of exhausting the machine. Start tx with --max-memory SIZE (e.g. 4G)
          or set TX_MAX_MEMORY to change it, or set it for the rest of the session
          with memory(limit="4G"), which returns the old figures (old.limit).

        """
    }

    public static let syntax = """
        Values: numbers (64-bit), tensors (float32, any rank), strings "...", true/false,
          none, lists [a, "b", x], records {Wq: w, bq: b}, functions.
          [1, 2, 3] and [[1, 2], [3, 4]] are tensors: a bracketed list of numbers, or of
          tensors of one shape, is a tensor; anything else is a list.
        Operators (lowest first): ||  &&  == != < <= > >=  + -  * / // @ %  unary - !  ^
          then postfix f(...), x[...], r.name, x' (swaps the last two axes).
          Tensors broadcast as in NumPy; @ is the (batched) matrix product.
        Indexing: x[i], x[i, j], x[1:3], x[:, -1], x[::2], E[ids] (gather), x[i, :] = v.
          Slices are views: assigning through them changes the tensor (as in NumPy).
          A comparison's result is a mask: x[x > 0] selects, x[x < 0] = 0 assigns.
        Statements: x = e;  r.f = e;  x[0, :] = e;  x += e
          fn f(a, b=2) = a * b        fn g(x) { y = x + 1; y * 2 }
          if c { a } else { b }       for i in range(3) { ... }     while c { ... }
          break, continue, return.  Functions are closures; assignment in a function
          makes a local, unless the name is a local of an enclosing function, which it
          then updates.  Lists and records are shared, not copied, when assigned.
          After if/while, { opens the body; for k in {a: 1} { ... } iterates a record.
          Names may use letters of any script: α = softmax(e), x₁, θ̂.
        Scripts and the REPL print the value of each top-level expression statement;
          a trailing ; silences it.  # starts a comment.
        The full reference: docs/LANGUAGE.md in tx's repository.

        """

    static func wrap(_ text: String, indent: String, width: Int = 78) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width, line != indent {
                lines.append(line)
                line = indent
            }
            line += (line == indent ? "" : " ") + word
        }
        if line != indent { lines.append(line) }
        return lines.joined(separator: "\n") + "\n"
    }
}
