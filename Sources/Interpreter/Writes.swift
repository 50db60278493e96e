import Lang

extension Interpreter {
    /// The global variables some code wrote, each with the value it held before (nil
    /// when it was new): what the stepper reads to say which variables a loop changed.
    public struct Writes {
        let entries: [(slot: Int, old: Value?)]
    }

    /// Runs `body`, noting every global variable it writes (also when it throws).
    public func noticingWrites<T>(_ body: () throws -> T) -> (outcome: Result<T, Error>, writes: Writes) {
        let journal = globals.beginJournal()
        let outcome = Result { try body() }
        return (outcome, Writes(entries: globals.endJournal(journal)))
    }

    /// The user's variables that `writes` gave another value (a new number or string,
    /// another object), and those named in `changedInPlace` (changed inside, the same
    /// object), in the order they were defined.
    public func changedVariables(_ writes: Writes, changedInPlace: Set<String>) -> [(name: String, value: Value)] {
        var slots = Set(writes.entries.compactMap { entry -> Int? in
            guard let old = entry.old, let new = globals.get(entry.slot) else { return entry.slot }
            return Self.same(old, new) ? nil : entry.slot
        })
        for name in changedInPlace {
            if let slot = globals.slotIfDefined(name) { slots.insert(slot) }
        }
        return slots.sorted().compactMap(userVariable(at:))
    }

    /// Whether a loop left a variable as it was (the same object for containers and tensors).
    static func same(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return ScalarKey.same(x.text, y.text)
        case (.bool(let x), .bool(let y)): return x == y
        case (.none, .none): return true
        case (.tensor(let x), .tensor(let y)): return x.storage === y.storage && x.offset == y.offset && x.shape == y.shape
        case (.list(let x), .list(let y)): return x === y
        case (.record(let x), .record(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        case (.builtin(let x), .builtin(let y)): return x.name == y.name
        default: return false
        }
    }
}
