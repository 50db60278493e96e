import Tensor

/// One-line summaries of values, shown after assignments:
/// `tensor [5, 5]  min 0  max 0.93  rows sum to 1`.
public enum Summary {
    /// The summary of `value` in at most `width` characters.
    public static func line(_ value: Value, width: Int = 77) -> String {
        switch value {
        case .tensor(let t): return tensor(t, width: width)
        case .list(let l):
            // Whole items, as many as fit, then how many more: never half a token.
            let head = "list of \(l.items.count): ["
            var shown: [String] = []
            var used = head.count + 1
            for (i, item) in l.items.enumerated() {
                let text = Display.short(item, depth: 1, limit: width)
                let more = i + 1 < l.items.count ? ", … \(l.items.count - i - 1) more".count : 0
                if used + text.count + (shown.isEmpty ? 0 : 2) + more > width && !shown.isEmpty { break }
                shown.append(text)
                used += text.count + (shown.count > 1 ? 2 : 0)
            }
            let rest = l.items.count - shown.count
            let text = head + shown.joined(separator: ", ") + (rest > 0 ? ", … \(rest) more]" : "]")
            return text.count > width ? String(text.prefix(width - 1)) + "…" : text
        default:
            let text = Display.short(value)
            return text.count > width ? text.prefix(width - 1) + "…" : text
        }
    }

    public static func tensor(_ t: Tensor, width: Int = 77) -> String {
        let head = TensorFormatter.summary(t)
        guard t.rank > 0, t.count > 0, t.count <= 1 << 24 else { return head }
        let values = t.values
        if t.rank == 1 && t.count <= 8 {
            let line = head + "  " + TensorFormatter.format(t).split(separator: "\n").dropFirst().joined()
            if line.count <= width { return line }
        }
        let numbers = values.filter { !$0.isNaN }
        var parts = [head]
        if let low = numbers.min(), let high = numbers.max() {
            parts.append("min \(significant(low))  max \(significant(high))")
        }
        let nans = values.count - numbers.count
        if nans > 0 { parts.append("\(nans) nan") }
        if let last = t.shape.last, last > 1, t.rank >= 2, nans == 0,
           values.allSatisfy({ $0 >= 0 && $0 <= 1 }) {
            let rows = stride(from: 0, to: values.count, by: last).map { start in
                values[start..<(start + last)].reduce(0.0) { $0 + Double($1) }
            }
            if rows.allSatisfy({ abs($0 - 1) < 1e-3 }) { parts.append("rows sum to 1") }
        }
        return parts.joined(separator: "  ")
    }

    /// Four significant digits: `0.9312`, `-1.235e+04`.
    public static func significant(_ x: Float) -> String {
        let v = Double(x)
        if !v.isFinite || v == v.rounded() && abs(v) < 1e6 { return TensorFormatter.formatNumber(v) }
        return formatC(v, "%.4g")
    }
}
