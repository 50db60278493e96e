import Lang

/// The variables of one function call. Slots are resolved when the code is compiled:
/// a name is a (depth, slot) pair, depth counting the enclosing function frames.
final class Frame {
    var slots: [Value?]
    let parent: Frame?

    init(size: Int, parent: Frame?) {
        slots = [Value?](repeating: nil, count: size)
        self.parent = parent
    }

    deinit {
        guard slots.contains(where: { $0?.holdsValues == true }) else { return }
        var values = slots.compactMap { $0 }
        slots = []
        Release.later(&values)
    }

    @inline(__always)
    func ancestor(_ depth: Int) -> Frame {
        var frame = self
        for _ in 0..<depth {
            guard let parent = frame.parent else { break }
            frame = parent
        }
        return frame
    }
}

/// Top-level names. The REPL keeps adding entries, so globals live in a growing table
/// whose slots compiled code refers to by index. Builtins start out as globals; a user
/// may shadow them (and `:reset` brings them back).
final class Globals {
    private(set) var values: [Value?] = []
    private var slotOfName: [String: Int] = [:]
    private(set) var names: [String] = []

    func slot(for name: String) -> Int {
        if let slot = slotOfName[name] { return slot }
        let slot = values.count
        values.append(nil)
        names.append(name)
        slotOfName[name] = slot
        return slot
    }

    @inline(__always) func get(_ slot: Int) -> Value? { values[slot] }
    @inline(__always) func set(_ slot: Int, _ value: Value) {
        if journaling { note(slot) }
        values[slot] = value
    }
    /// Sets a slot or, with nil, unsets it.
    func put(_ slot: Int, _ value: Value?) {
        if journaling { note(slot) }
        values[slot] = value
    }

    func slotIfDefined(_ name: String) -> Int? { slotOfName[name] }

    func value(named name: String) -> Value? {
        slotOfName[name].flatMap { values[$0] }
    }

    func define(_ name: String, _ value: Value) { set(slot(for: name), value) }

    func removeAll() {
        for i in values.indices { put(i, nil) }
    }

    /// Puts back the values a snapshot of `values` held; names defined since are unset.
    func restore(_ saved: [Value?]) {
        for i in values.indices { put(i, i < saved.count ? saved[i] : nil) }
    }

    // MARK: What a statement changed

    /// The stepper's record of what one statement wrote (`beginJournal`, `endJournal`):
    /// each slot written, with the value it held before its first write. Keeping it costs
    /// one check per global write, and a step costs what it changed, not a copy of every
    /// global (40,000 globals made each step copy 40,000 values).
    private var journaling = false
    private var journal: [(slot: Int, old: Value?)] = []
    /// Whether a slot is in `journal` (grown on the first write of a slot past its end).
    private var journaled: [Bool] = []

    /// What was being recorded when a nested record began (a step run from a prompt
    /// that a step's `breakpoint()` opened).
    struct Journal {
        fileprivate let entries: [(slot: Int, old: Value?)]
        fileprivate let active: Bool
    }

    private func note(_ slot: Int) {
        if journaled.count <= slot { journaled += repeatElement(false, count: values.count - journaled.count) }
        guard !journaled[slot] else { return }
        journaled[slot] = true
        journal.append((slot, values[slot]))
    }

    /// Starts recording the slots written; give what it returns to `endJournal`.
    func beginJournal() -> Journal {
        let outer = Journal(entries: journal, active: journaling)
        for entry in journal { journaled[entry.slot] = false }
        journal = []
        journaling = true
        return outer
    }

    /// The slots written since `beginJournal` (in the order first written), with their
    /// values before; the record that was under way before goes on, and counts them too.
    func endJournal(_ outer: Journal) -> [(slot: Int, old: Value?)] {
        let written = journal
        for entry in written { journaled[entry.slot] = false }
        journal = outer.entries
        for entry in journal { journaled[entry.slot] = true }
        for entry in written where !journaled[entry.slot] {
            journaled[entry.slot] = true
            journal.append(entry)
        }
        journaling = outer.active
        if !journaling {
            for entry in journal { journaled[entry.slot] = false }
            journal = []
        }
        return written
    }

    /// Names that currently hold a value.
    var definedNames: [String] {
        names.indices.compactMap { values[$0] == nil ? nil : names[$0] }
    }
}

/// Compile-time view of one function's locals.
final class FunctionScope {
    private(set) var slotOfName: [String: Int] = [:]
    let parent: FunctionScope?
    /// A comprehension's scope (its loop variables), not a function's.
    let isComprehension: Bool

    init(parent: FunctionScope?, isComprehension: Bool = false) {
        self.parent = parent
        self.isComprehension = isComprehension
    }

    @discardableResult
    func declare(_ name: String) -> Int {
        if let slot = slotOfName[name] { return slot }
        let slot = slotOfName.count
        slotOfName[name] = slot
        return slot
    }

    var size: Int { slotOfName.count }
    var names: [String] { Array(slotOfName.keys) }
}

/// Where a name lives, as the compiler resolved it.
enum Location {
    case local(depth: Int, slot: Int)
    case global(slot: Int)
}

/// The names a function body binds: assignment targets, loop variables and named inner
/// functions. They are its locals (docs/LANGUAGE.md §5: assignment inside a function binds a
/// local name). Bodies of inner functions are their own scopes and are not entered.
enum AssignedNames {
    static func collect(in block: Block, into names: inout [String]) {
        for statement in block.statements { collect(in: statement, into: &names) }
    }

    static func collect(in statement: Stmt, into names: inout [String]) {
        switch statement.kind {
        case .expression(let e): collect(in: e, into: &names)
        case .assign(let target, let value), .compoundAssign(_, let target, let value):
            if case .name(let name) = target.kind { names.append(name) } else { collect(in: target, into: &names) }
            collect(in: value, into: &names)
        case .function(let decl):
            if let name = decl.name { names.append(name) }
        case .forLoop(let variables, let iterable, let body):
            names += variables.names
            collect(in: iterable, into: &names)
            collect(in: body, into: &names)
        case .whileLoop(let condition, let body):
            collect(in: condition, into: &names)
            collect(in: body, into: &names)
        case .returnValue(let e):
            if let e { collect(in: e, into: &names) }
        case .breakLoop, .continueLoop:
            break
        }
    }

    static func collect(in expr: Expr, into names: inout [String]) {
        switch expr.kind {
        case .number, .string, .bool, .none, .name, .function:
            break
        case .list(let items):
            for item in items { collect(in: item, into: &names) }
        case .record(let entries):
            for entry in entries { collect(in: entry.value, into: &names) }
        case .unary(_, let e), .transpose(let e), .field(let e, _):
            collect(in: e, into: &names)
        case .binary(_, let l, let r), .logical(_, let l, let r):
            collect(in: l, into: &names)
            collect(in: r, into: &names)
        case .call(let callee, let arguments):
            collect(in: callee, into: &names)
            for a in arguments { collect(in: a.value, into: &names) }
        case .index(let target, let items):
            collect(in: target, into: &names)
            for item in items {
                switch item {
                case .single(let e): collect(in: e, into: &names)
                case .slice(let a, let b, let c, _):
                    for part in [a, b, c] { if let part { collect(in: part, into: &names) } }
                case .ellipsis: break
                }
            }
        case .ifElse(let condition, let then, let otherwise):
            collect(in: condition, into: &names)
            collect(in: then, into: &names)
            if let otherwise { collect(in: otherwise, into: &names) }
        case .comprehension(let element, let clauses):
            // Its loop variables are its own; what its parts assign is the function's.
            var inner: [String] = []
            collect(in: element, into: &inner)
            for clause in clauses {
                collect(in: clause.iterable, into: &inner)
                for condition in clause.conditions { collect(in: condition, into: &inner) }
            }
            let own = Set(clauses.flatMap(\.variables.names))
            names += inner.filter { !own.contains($0) }
        }
    }
}
