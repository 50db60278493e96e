import Glibc
import Lang
import Tensor

extension Library {
    static func files() -> [Builtin] {
        [
            builtin("load", .argument("path"),
                    summary: "Reads a .npy file as a tensor, or a .safetensors file as a record.",
                    example: "save(\"/tmp/tx-example.safetensors\", {W: eye(2)}); p = load(\"/tmp/tx-example.safetensors\")",
                    details: """
                        .npy: float32, float64, int32 and int64 arrays in C order, converted to float32;
                        bool arrays load as masks (x[m] selects), and save writes masks as bool.
                        .safetensors: a record; dotted names nest, and numeric parts become lists, so
                        "layers.0.attn.Wq" is p.layers[0].attn.Wq. p["layers.0.attn.Wq"] reads the same
                        tensor, and p["layers.0.attn.Wq"] = W replaces it (creating records on the way).
                        Masks are saved as BOOL and BOOL tensors load as masks, as in .npy.
                        Only regular files load: a pipe or a device is an error rather than a wait.
                        """) { args, argument in
                let path = try argument.path()
                if path.hasSuffix(".npy") { return .tensor(try NPY.load(path: path)) }
                if path.hasSuffix(".safetensors") {
                    let (tensors, texts) = try SafeTensors.loadWithTexts(path: path)
                    return try TensorRecords.nest(tensors.map { ($0.name, Value.tensor($0.tensor)) } + texts.compactMap(TensorRecords.savedValue),
                                    from: path, at: args.span)
                }
                throw TxError(.io, "\(path): load reads .npy and .safetensors files", at: argument.span)
            },
            builtin("save", .argument("path"), .argument("value"),
                    summary: "Writes a tensor to .npy, or a record of tensors to .safetensors (nested names joined with dots).",
                    example: "save(\"/tmp/tx-example.npy\", eye(3))",
                    details: """
                        The file is written whole or not at all: into a temporary file in the same folder,
                        flushed to disk, then renamed over path; after any failure (a full disk, a file-size
                        limit, Ctrl-C) the previous file is as it was. Through a symbolic link, the file it
                        names is replaced, keeping its permissions. .npy: format 1.0, or 2.0 when the header
                        is longer than 65,535 bytes, as NumPy writes it. .safetensors: a sub-record reached by
                        several paths is saved once per path, up to 1,000,000 tensors in all; the record's
                        strings and numbers go into the header's __metadata__ and load back exactly (a
                        checkpoint of parameters and an optimiser resumes bit for bit).
                        """) { _, pathArgument, argument in
                let path = try pathArgument.path()
                let value = argument.value
                if path.hasSuffix(".npy") {
                    try NPY.save(try argument.tensor(), path: path)
                } else if path.hasSuffix(".safetensors") {
                    guard case .record(let record) = value else {
                        throw argument.typeError(expected: "a record of tensors (for .safetensors)")
                    }
                    var counted: [ObjectIdentifier: Int] = [:]
                    guard TensorRecords.tensorCount(.record(record), counted: &counted) <= TensorRecords.maxSavedTensors else {
                        throw TxError(.value, "save: the record holds more than \(TensorRecords.maxSavedTensors) tensors, counting a shared sub-record once for each path to it; a .safetensors file names every one", at: argument.span)
                    }
                    var entries: [(name: String, tensor: Tensor)] = [], texts: [(name: String, text: String)] = []
                    try TensorRecords.flatten(.record(record), prefix: "", into: &entries, texts: &texts, at: argument.span)
                    try TensorRecords.checkNames(entries.map(\.name) + texts.map(\.name), at: argument.span)
                    try SafeTensors.save(entries, texts: texts, path: path)
                } else {
                    throw TxError(.io, "\(path): save writes .npy (a tensor) or .safetensors (a record)", at: pathArgument.span)
                }
                return .none
            },
            builtin("read_text", .path("path"), summary: "The contents of a text file, as a string (UTF-8).",
                    example: "write_text(\"/tmp/tx-example.txt\", \"[PAD]\\nthe\\n\"); lines(read_text(\"/tmp/tx-example.txt\"))") { _, path in
                return .string(try readFile(path: path) { bytes in try FileContents.text(of: bytes, from: path) })
            },
            builtin("write_text", .path("path"), .string("text"), summary: "Writes a string to a file (UTF-8), replacing it.",
                    example: "write_text(\"/tmp/tx-example.txt\", format(\"{} heads\\n\", 12))") { _, path, text in
                try writeFile(path: path, text: text)
                return .none
            },
            builtin("exists", .path("path"), summary: "Whether a file or folder exists at path.",
                    example: "exists(\"/tmp\")") { _, path in
                var info = stat()
                return .bool(stat(path, &info) == 0)
            },
            builtin("mkdir", .argument("path"),
                    summary: "Makes the folder path and the missing folders above it (as mkdir -p); a folder already there is kept.",
                    example: "mkdir(\"/tmp/tx-example/model/1_Pooling\"); exists(\"/tmp/tx-example/model\")") { _, argument in
                let path = try argument.path()
                do {
                    try makeFolder(path: path)
                } catch let error as TensorError {
                    throw TxError(error, at: argument.span)
                }
                return .none
            },
            builtin("read_json", .path("path"),
                    summary: "A JSON file as tx values: objects become records, arrays lists, null none.",
                    example: "write_text(\"/tmp/tx-example.json\", \"{\\\"heads\\\": 12, \\\"act\\\": \\\"gelu\\\"}\"); read_json(\"/tmp/tx-example.json\")",
                    details: """
                        Numbers become numbers and true/false bools. Keys are kept as written: r["a.b"] reads a
                        key with a dot. tensor(list) turns a list of numbers (or of equal lists) into a tensor.
                        """) { _, path in
                // The file's bytes count while the tree is built, the tree while the values are.
                return try readFile(path: path) { bytes in
                    FileContents.value(of: try JSON.parse(bytes, what: "JSON in \(path)", cost: FileContents.valueBytes))
                }
            },
            builtin("include", .argument("path"),
                    summary: "Runs another .tx file here, so that its functions and variables are defined in this session.",
                    example: "write_text(\"/tmp/tx-example-lib.tx\", \"fn twice(x) = 2 * x\"); include(\"/tmp/tx-example-lib.tx\"); twice(21)",
                    details: """
                        A relative path is looked for beside the script that includes it, then in the current
                        folder, then in tx's library folder (lib/ of the source tree, or TX_LIB); ".tx" may be
                        left out. The file runs every time it is included.
                        """) { args, argument in
                let name = try argument.string()
                try checkPath(name)
                guard let path = includePath(name, from: args.span.source.name) else {
                    if name.hasPrefix("/") { throw TxError(.io, "include: no such file: \(name)", at: argument.span) }
                    var places: [String] = []
                    for folder in [scriptFolder(args.span.source.name), ".", LibFolder.path] {
                        if let folder, !places.contains(folder) { places.append(folder) }
                    }
                    throw TxError(.io, "include: no file \(name) in \(places.joined(separator: ", ")) (beside the script, the current folder, tx's library)", at: argument.span)
                }
                try args.interpreter.include(path: path)
                return .none
            },
        ]
    }

    /// The folder of the script a call is in, when it is a file.
    private static func scriptFolder(_ sourceName: String) -> String? {
        if sourceName.hasPrefix("<") { return nil }
        return sourceName.contains("/") ? LibFolder.parent(sourceName) : "."
    }

    /// Where `include(name)` finds its file: beside the including script, in the current
    /// folder, in lib/ (`LibFolder`); each with and without ".tx" added.
    private static func includePath(_ name: String, from sourceName: String) -> String? {
        let names = name.hasSuffix(".tx") ? [name] : [name, name + ".tx"]
        var folders: [String?] = [nil]
        if !name.hasPrefix("/") {
            folders = [scriptFolder(sourceName), ".", LibFolder.path]
        }
        for folder in folders {
            for candidate in names {
                let path = folder.map { $0 + "/" + candidate } ?? candidate
                if isFile(path) { return path }
            }
        }
        return nil
    }

    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
