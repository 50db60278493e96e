import Glibc

/// `lib/`, the folder of tx code files that come with tx (`bert.tx`, behind load_model
/// and the other model builtins; `gpt.tx`, which scripts include): the folder `TX_LIB`
/// names, else a `lib/` (or `share/tx/lib/`) beside the executable or up to four folders
/// above it (`.build/release/tx` sits three below the source tree), else the source tree
/// this binary was built from.
enum LibFolder {
    static let path: String? = {
        if let value = getenv("TX_LIB"), !String(cString: value).isEmpty { return String(cString: value) }
        var candidates: [String] = []
        if let executable = executablePath() {
            var folder = parent(executable)
            for _ in 0..<5 {
                candidates += [folder + "/lib", folder + "/share/tx/lib"]
                folder = parent(folder)
            }
        }
        // This file is Sources/Interpreter/LibFolder.swift.
        candidates.append(parent(parent(parent(#filePath))) + "/lib")
        return candidates.first { access($0 + "/bert.tx", R_OK) == 0 }
    }()

    /// The folder that holds `path`.
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
