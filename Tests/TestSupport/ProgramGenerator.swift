/// Random programs from the grammar of docs/LANGUAGE.md §2–§5 (conditions are
/// parenthesised, since a bare `{` after `if` opens the body, not a record).
public struct ProgramGenerator {
    public init(random: Seeded) { self.random = random }

    public var random: Seeded

    /// The variables and function the programs use, to put before each one.
    public static let prelude = """
        x = [[1, 2], [3, 4]]; Q = randn(2, 2); K = eye(2); s = 0; i = 1; j = 0; r = {f: 1, Wq: eye(2), name: "n", layers: [1]}
        fn f(v, axis=-1) = v

        """

    mutating func expression(_ depth: Int) -> String {
        if depth <= 0 { return atom() }
        switch random.below(12) {
        case 0, 1: return atom()
        case 2:
            let op = random.pick(["+", "-", "*", "/", "@", "%", "^", "==", "<", "&&", "||"])
            // Comparisons do not chain, so their operands are parenthesised.
            if op == "==" || op == "<" { return "(\(expression(depth - 1))) \(op) (\(expression(depth - 1)))" }
            return "\(expression(depth - 1)) \(op) \(expression(depth - 1))"
        case 3: return "\(random.pick(["-", "!"]))\(expression(depth - 1))"
        case 4: return "\(random.pick(["softmax", "f", "sum", "zeros"]))(\(expression(depth - 1))\(random.below(2) == 0 ? ", axis=-1" : ""))"
        case 5: return "\(atom())[\(random.pick(["0", "1:3", ":, -1", "::2", "i, j"]))]"
        case 6: return "[\(expression(depth - 1)), \(expression(depth - 1))]"
        case 7: return "{a: \(expression(depth - 1)), \"b.c\": \(expression(depth - 1))}"
        case 8: return "if (\(expression(depth - 1))) { \(expression(depth - 1)) } else { \(expression(depth - 1)) }"
        case 9: return "fn(x, h=2) = \(expression(depth - 1))"
        case 10: return "(\(expression(depth - 1)))'"
        default: return "\(atom()).\(random.pick(["Wq", "name", "layers"]))"
        }
    }

    mutating func atom() -> String {
        random.pick(["x", "Q", "K'", "3", "2.5", ".5", "1e-4", "\"s\\n\"", "true", "none", "[]", "{}"])
    }

    mutating func statement(_ depth: Int) -> String {
        switch random.below(8) {
        case 0: return "x = \(expression(depth))"
        case 1: return "fn g(a, b=1) = \(expression(depth))"
        case 2: return "fn g(a) {\n  y = \(expression(depth))\n  y\n}"
        case 3: return "for i in range(3) { s += \(expression(depth)) }"
        case 4: return "while (\(expression(depth))) { break }"
        case 5: return "r.f = \(expression(depth)); x[0, :] = 1"
        default: return expression(depth) + (random.below(2) == 0 ? ";" : "")
        }
    }

    public mutating func program() -> String {
        (0..<(1 + random.below(4))).map { _ in (random.below(3) == 0 ? "# note\n" : "") + statement(3) }.joined(separator: "\n")
    }

    /// Deletes, duplicates, swaps or inserts bytes, or cuts the text short.
    public mutating func mutate(_ text: String) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + random.below(4)) {
            guard !bytes.isEmpty else { break }
            let i = random.below(bytes.count)
            switch random.below(6) {
            case 0: bytes.remove(at: i)
            case 1: bytes.insert(bytes[i], at: i)
            case 2: bytes.swapAt(i, random.below(bytes.count))
            case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: i)
            case 4: bytes.insert(random.pick(Array("()[]{}\"'#:;,=.^\n".utf8)), at: i)
            default: bytes = Array(bytes.prefix(i))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

