import Tensor

extension Interpreter {
    /// `:vars`: one row per user variable, in definition order, with its kind, shape (or
    /// length), the bytes it holds and its value when short; columns aligned, values cut
    /// between items with `…` to fit `width` (a vector too long shows its first elements,
    /// `…` and its last; a larger tensor of rank 2 or more, nothing); then the total
    /// memory held, each tensor's storage counted once however many variables share it.
    public func variablesTable(width: Int) -> String {
        let variables = userVariables
        guard !variables.isEmpty else { return "no variables yet\n" }
        var rows = [["name", "kind", "shape", "bytes", "value"]]
        var tensors: [Tensor?] = [nil]
        var storages = Set<ObjectIdentifier>(), containers = Set<ObjectIdentifier>()
        var total = 0
        for (name, value) in variables {
            var bytes = 0, ownContainers = Set<ObjectIdentifier>()
            Self.walk(value, seen: &ownContainers, depth: 0) { bytes += Self.payload($0) }
            Self.walk(value, seen: &containers, depth: 0) { item in
                if case .tensor(let t) = item {
                    if storages.insert(ObjectIdentifier(t.storage)).inserted { total += t.storage.count * MemoryLayout<Float>.size }
                } else {
                    total += Self.payload(item)
                }
            }
            let holdsBytes: Bool
            switch value {
            case .tensor, .string, .list, .record: holdsBytes = true
            default: holdsBytes = false
            }
            rows.append([name, Self.kind(value), Self.extent(value), holdsBytes ? Memory.format(bytes: bytes) : "",
                         Self.preview(value)])
            if case .tensor(let t) = value { tensors.append(t) } else { tensors.append(nil) }
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for (row, tensor) in zip(rows, tensors) {
            var line = ""
            for column in 0..<4 {
                let cell = row[column], pad = String(repeating: " ", count: widths[column] - cell.count)
                line += column == 3 ? pad + cell : cell + pad
                line += "  "
            }
            let room = width - line.count
            line += tensor.map { TensorFormatter.oneLine($0, fitting: room) } ?? Self.cut(row[4], toFit: room)
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out + "total: \(Memory.format(bytes: total)) in \(variables.count) variable\(variables.count == 1 ? "" : "s")\n"
    }

    private static func kind(_ value: Value) -> String {
        if case .tensor(let t) = value, t.isMask { return "mask" }
        return value.typeName
    }

    /// A tensor's shape; how many items, fields or characters otherwise.
    private static func extent(_ value: Value) -> String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        switch value {
        case .tensor(let t): return describe(shape: t.shape)
        case .list(let l): return count(l.items.count, "item")
        case .record(let r): return count(r.keys.count, "field")
        case .string(let s): return count(s.text.count, "char")
        default: return ""
        }
    }

    /// Calls `visit` with each tensor and string in a value, entering each list and
    /// record once (they may hold themselves) and no deeper than printing goes.
    private static func walk(_ value: Value, seen: inout Set<ObjectIdentifier>, depth: Int, _ visit: (Value) -> Void) {
        switch value {
        case .tensor, .string: visit(value)
        case .list(let l):
            guard depth < Display.maxDepth, seen.insert(ObjectIdentifier(l)).inserted else { return }
            for item in l.items { walk(item, seen: &seen, depth: depth + 1, visit) }
        case .record(let r):
            guard depth < Display.maxDepth, seen.insert(ObjectIdentifier(r)).inserted else { return }
            for entry in r.entries { walk(entry.value, seen: &seen, depth: depth + 1, visit) }
        default: break
        }
    }

    /// The bytes of a tensor's elements or a string's text.
    private static func payload(_ value: Value) -> Int {
        switch value {
        case .tensor(let t): return t.count * MemoryLayout<Float>.size
        case .string(let s): return s.text.utf8.count
        default: return 0
        }
    }

    /// The value column of anything but a tensor (whose column depends on the room
    /// left; see `TensorFormatter.oneLine`): the one-line form.
    private static func preview(_ value: Value) -> String {
        if case .tensor = value { return "" }
        return Display.short(value, limit: 1000)
    }

    /// `text` if it fits in `room` characters; else cut after the last `, ` or space that
    /// leaves room for `…`, so that no number, name or string is cut in its middle.
    static func cut(_ text: String, toFit room: Int) -> String {
        guard text.count > room else { return text }
        guard room > 1 else { return room == 1 ? "…" : "" }
        let head = text.prefix(room - 1)
        guard let space = head.lastIndex(of: " ") else { return "…" }
        return String(head[...space]) + "…"
    }
}
