/// The candidate closest to `name` by edit distance, if it is close enough to be a
/// plausible typo (at most a third of the name's length, and at least one edit allowed).
public func nearestName(to name: String, among candidates: [String]) -> String? {
    let target = Array(name.lowercased().utf8)
    let allowed = max(1, target.count / 3)
    var best: (name: String, distance: Int)? = nil
    for candidate in candidates where candidate != name {
        let d = editDistance(target, Array(candidate.lowercased().utf8), limit: allowed)
        if d <= allowed, d < (best?.distance ?? Int.max) { best = (candidate, d) }
    }
    return best?.name
}

/// Levenshtein distance with adjacent transpositions, stopping early past `limit`.
private func editDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
    if abs(a.count - b.count) > limit { return limit + 1 }
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        var rowMin = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, previous2[j - 2] + 1) }
            current[j] = d
            rowMin = min(rowMin, d)
        }
        if rowMin > limit { return limit + 1 }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[b.count]
}

/// PyTorch's and NumPy's names for what tx spells otherwise, with tx's spelling: the hint
/// an unknown name (`cat(...)`) or a tensor's method (`x.view(...)`) ends with. Hints,
/// not aliases, so that each operation keeps one name.
let otherSpellings: [String: String] = [
    "cat": "concat(xs, axis)", "concatenate": "concat(xs, axis)",
    "clamp": "clip(x, lo, hi)", "clamp_min": "clip(x, lo=v)", "clamp_max": "clip(x, hi=v)",
    "masked_fill": "where(mask, v, x)", "view": "reshape(x, d...)",
    "numel": "size(x)", "ndim": "rank(x)", "dim": "rank(x)",
    "matmul": "a @ b", "mm": "a @ b", "bmm": "a @ b", "dot": "a @ b",
    "expand_dims": "unsqueeze(x, axis)", "swapaxes": "transpose(x, a, b)",
    "manual_seed": "seed(n)", "array": "tensor(x)", "asarray": "tensor(x)",
    "amax": "max(x, axis)", "amin": "min(x, axis)",
    "time": "clock() for seconds", "perf_counter": "clock() for seconds", "int": "floor(x) or round(x)",
]
