import Glibc

/// Reverse-mode automatic differentiation, micrograd-small, at the level of tensors.
///
/// While a tape is active on a thread, every differentiable tensor operation whose inputs
/// the tape tracks appends a node: its output, its inputs, and a closure that turns the
/// gradient of the output into gradients of the inputs (the rules are in
/// Derivatives.swift, one per primitive). `backward(from:)` walks the nodes in reverse
/// recording order, which is a topological order, and sums the gradients that reach
/// each tensor. Control flow, loops, recursion and closures need nothing special: the
/// tape holds what ran.
///
/// Tensors are immutable objects and every operation returns a fresh one, so a tensor is
/// known by its identity (`ObjectIdentifier`); the tape keeps its nodes' outputs and
/// inputs alive, so those identities stay valid while it lives.
///
/// The one mutation, `x[...] = v`, is checked against the tape (`Tensor.assign`): writing
/// into memory the backward pass reads is an error; writing into a fresh tensor is a
/// write node (`recordWrite`) whose output is the written tensor itself, so that later
/// readers of it are differentiated through the write.
///
/// Tapes nest: a tape activated while another records has that one as its `outer`.
/// Operations record on every tape of the chain that tracks one of their inputs, and a
/// tape's backward pass runs with its outer tape recording, so that the gradient it
/// computes is itself differentiated (the gradient of a gradient). The rules are made of
/// recorded operations for this; the fused layer norm and affine rules, whose saved
/// statistics are not, give way to their formulas written with primitives on a nested
/// tape (`isNested`).
///
/// Without an active tape an operation pays one thread-local read. A tape is active on
/// one thread only (tests run many sessions on parallel threads).
public final class Tape {
    /// The gradients of a node's inputs, in order, from the gradient of its output; nil
    /// for an input that gets none (an index, a mask).
    public typealias Backward = (_ gradient: Tensor) throws -> [Tensor?]

    struct Node {
        let name: String
        let output: Tensor
        let inputs: [Tensor]
        let backward: Backward
        /// An in-place write `output[items] = inputs[0]`: its backward gives the value's
        /// gradient and, second, the gradient of `output` before the write (the written
        /// region zeroed), which earlier writes into the same tensor receive.
        var isWrite = false
    }

    private(set) var nodes: [Node] = []
    /// Leaves and node outputs: the tensors a gradient can reach.
    private var tracked: Set<ObjectIdentifier> = []
    /// The storages of tracked tensors and of every input a node saved: writing into one
    /// in place would change what the backward pass reads.
    private var needed: Set<ObjectIdentifier> = []
    private var leaves: [Tensor] = []
    /// The storages of tensors written in place with recorded writes (`recordWrite`).
    private var written: Set<ObjectIdentifier> = []

    /// The tape that was recording when this one was activated, if any.
    public private(set) var outer: Tape?

    /// Whether this tape records inside another: its backward pass is differentiated too.
    public var isNested: Bool { outer != nil }

    public init() {}

    // MARK: The active tape

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The tape recording on this thread, if any (nil while an operation's own forward
    /// or a backward pass runs: recording is paused there).
    @inline(__always)
    public static var active: Tape? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<Tape>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Sets the thread's active tape; returns the one it replaces.
    private static func setActive(_ tape: Tape?) -> Tape? {
        let previous = active
        pthread_setspecific(key, tape.map { Unmanaged.passUnretained($0).toOpaque() })
        return previous
    }

    /// Runs `body` with `self` recording on this thread (and the previous state after);
    /// a tape recording already becomes this one's `outer`.
    public func activate<T>(_ body: () throws -> T) rethrows -> T {
        let previous = Tape.setActive(self)
        defer { _ = Tape.setActive(previous) }
        if previous !== self { outer = previous }
        return try body()
    }

    /// Runs `body` with no tape recording on this thread.
    @inline(__always)
    public static func paused<T>(_ body: () throws -> T) rethrows -> T {
        guard pthread_getspecific(key) != nil else { return try body() }
        let previous = setActive(nil)
        defer { _ = setActive(previous) }
        return try body()
    }

    // MARK: Recording

    /// Whether a gradient of this tape or of one it is nested in can reach `tensor` (a
    /// leaf, or the output of a node).
    @inline(__always)
    public func tracks(_ tensor: Tensor) -> Bool {
        owns(tensor) || (outer?.tracks(tensor) ?? false)
    }

    /// Whether a gradient of this tape can reach `tensor`.
    @inline(__always)
    func owns(_ tensor: Tensor) -> Bool {
        tracked.contains(ObjectIdentifier(tensor))
    }

    /// This tape and the ones it is nested in, innermost first.
    var chain: [Tape] {
        var tapes = [self]
        while let next = tapes[tapes.count - 1].outer { tapes.append(next) }
        return tapes
    }

    /// The active tape when it tracks `tensor`; nil otherwise (the common case: no tape).
    /// Throws when `tensor` is another view of a tensor written in place with a recorded
    /// write: its values changed behind the tape's back.
    @inline(__always)
    public static func tracking(_ tensor: Tensor) throws -> Tape? {
        guard let tape = active else { return nil }
        if tape.tracks(tensor) { return tape }
        try tape.checkNotAlias(tensor)
        return nil
    }

    /// The active tape when it tracks `a` or `b`.
    @inline(__always)
    public static func tracking(_ a: Tensor, _ b: Tensor) throws -> Tape? {
        guard let tape = active else { return nil }
        try tape.checkNotAlias(a)
        try tape.checkNotAlias(b)
        return tape.tracks(a) || tape.tracks(b) ? tape : nil
    }

    /// The active tape when it tracks one of `tensors`.
    public static func tracking(_ tensors: [Tensor]) throws -> Tape? {
        guard let tape = active else { return nil }
        for t in tensors { try tape.checkNotAlias(t) }
        return tensors.contains(where: tape.tracks) ? tape : nil
    }

    /// Throws when `tensor` is not tracked but shares the storage of a tensor written
    /// in place with a recorded write (a view made before the write, or `x[0][1] = v`).
    @inline(__always)
    func checkNotAlias(_ tensor: Tensor) throws {
        if let outer { try outer.checkNotAlias(tensor) }
        guard !written.isEmpty, !owns(tensor), written.contains(ObjectIdentifier(tensor.storage)) else { return }
        throw TensorError(.value, label: "gradient error", "this tensor shares memory with a tensor written in place with values that carry a gradient, but is another view of it; write through the tensor itself (x[i, j] = v, not x[i][j] = v) and read it after the writes")
    }

    /// Marks `tensor` as a leaf: gradients with respect to it are wanted.
    public func watch(_ tensor: Tensor) {
        leaves.append(tensor)
        tracked.insert(ObjectIdentifier(tensor))
        needed.insert(ObjectIdentifier(tensor.storage))
    }

    /// Appends a node to this tape and to each it is nested in that tracks one of the
    /// inputs: `output` was computed from `inputs`, and `backward` gives the inputs'
    /// gradients from the output's (for every input any of those tapes tracks). Nothing
    /// is recorded when the output is one of the inputs (an operation that returned its
    /// argument, e.g. `contiguous()` of a contiguous tensor).
    ///
    /// What `backward` reads is saved: writing into it in place is an error while the
    /// tape lives. `saving` lists the inputs it reads (nil: every input), `savesOutput`
    /// whether it reads the output. A rule that reads neither (a copy, a view, a sum, a
    /// product by a number) leaves its result free to be written (`y = copy(x);
    /// y[0] = w`), and such a write is itself recorded.
    public func record(_ name: String = "", output: Tensor, inputs: [Tensor], saving: [Tensor]? = nil,
                       savesOutput: Bool = true, backward: @escaping Backward) {
        guard !inputs.contains(where: { $0 === output }) else { return }
        var tape: Tape? = self
        while let t = tape {
            if inputs.contains(where: t.owns) {
                t.nodes.append(Node(name: name, output: output, inputs: inputs, backward: backward))
                t.tracked.insert(ObjectIdentifier(output))
                if savesOutput { t.needed.insert(ObjectIdentifier(output.storage)) }
                for input in saving ?? inputs { t.needed.insert(ObjectIdentifier(input.storage)) }
            }
            tape = t.outer
        }
    }

    /// Runs `forward` with recording paused (so that the operations it is made of record
    /// nothing of their own) and records its result as one node named `name`;
    /// `backward(gradient, output)` gives the inputs' gradients. `saving` and
    /// `savesOutput` say what `backward` reads, as for `record`.
    public func recording(_ name: String, inputs: [Tensor], saving: [Tensor]? = nil, savesOutput: Bool = true,
                          forward: () throws -> Tensor,
                          backward: @escaping (_ gradient: Tensor, _ output: Tensor) throws -> [Tensor?]) throws -> Tensor {
        let output = try Tape.paused(forward)
        record(name, output: output, inputs: inputs, saving: saving, savesOutput: savesOutput) { gradient in
            try backward(gradient, output)
        }
        return output
    }

    /// Whether writing in place into `tensor` would change a value the backward pass
    /// reads (its storage belongs to a tracked tensor or to an input a node saved).
    public func needs(_ tensor: Tensor) -> Bool {
        chain.contains { $0.needed.contains(ObjectIdentifier(tensor.storage)) }
    }

    /// Records `target[items] = value`, which the caller has just done in place: the
    /// target tracks the write, so that the written region's gradient reaches `value`
    /// and no longer what the target held before. Throws, before anything is written,
    /// when the write would change a value the backward pass reads (see `checkWrite`).
    public func recordWrite(_ target: Tensor, items: [TensorIndex], value: Tensor, write: () throws -> Void) throws {
        try checkWrite(into: target)
        try Tape.paused(write)
        // What the target held before keeps the gradient outside the written region.
        let kept = try Tape.paused {
            let kept = try Tensor.full(1, target.shape)
            try kept.assign(items, scalar: 0)
            return kept
        }
        let node = Node(name: "x[...] =", output: target, inputs: [value, target], backward: { g in
            let region = try Derivative.unbroadcast(g.subscripted(items).contiguous(), to: value.shape)
            return [region, try Tensor.binary(.multiply, g, kept)]
        }, isWrite: true)
        for t in chain where t.owns(value) || t.owns(target) || t.written.contains(ObjectIdentifier(target.storage)) {
            t.nodes.append(node)
            t.tracked.insert(ObjectIdentifier(target))
            t.written.insert(ObjectIdentifier(target.storage))
            t.needed.insert(ObjectIdentifier(value.storage))
        }
    }

    /// Whether `target[...] = value` concerns the tape: the value carries a gradient,
    /// or the target's memory is something the tape knows.
    public func concerns(write target: Tensor, value: Tensor) -> Bool {
        chain.contains { t in
            t.owns(value) || t.owns(target) || t.needed.contains(ObjectIdentifier(target.storage))
                || t.written.contains(ObjectIdentifier(target.storage))
        }
    }

    /// Throws when writing into `target` would change what the backward pass reads.
    func checkWrite(into target: Tensor) throws {
        if needs(target) {
            throw TensorError.value("x[...] = ... writes into a tensor that the gradient still needs; write into a copy")
        }
        try checkNotAlias(target)
    }

    /// The number of nodes recorded so far.
    public var count: Int { nodes.count }

    // MARK: The backward pass

    /// The gradients of `output` (whose gradient is `seed`, ones by default) with
    /// respect to every tracked tensor it depends on, keyed by identity. Nodes recorded
    /// after `output` cannot have led to it and are skipped by their missing gradient.
    /// This tape does not record its own backward pass; the tape it is nested in, if
    /// any, does. Ctrl-C is checked between nodes (and by the operations).
    public func backward(from output: Tensor, seed: Tensor? = nil) throws -> [ObjectIdentifier: Tensor] {
        let previous = Tape.setActive(outer)
        defer { _ = Tape.setActive(previous) }
        do {
            var gradients: [ObjectIdentifier: Tensor] = [:]
            guard owns(output) else { return gradients }
            gradients[ObjectIdentifier(output)] = try seed ?? Tensor.full(1, output.shape)
            let leafIDs = Set(leaves.map(ObjectIdentifier.init))
            for node in nodes.reversed() {
                let id = ObjectIdentifier(node.output)
                guard let gradient = gradients[id] else { continue }
                try Interrupt.check()
                // An intermediate gradient is not needed once its node has passed it on.
                if !leafIDs.contains(id) { gradients[id] = nil }
                var inputGradients = try node.backward(gradient)
                if node.isWrite {
                    // What the target held before the write gets the rest of its gradient.
                    gradients[id] = inputGradients[1]
                    inputGradients[1] = nil
                }
                for (input, g) in zip(node.inputs, inputGradients) {
                    guard let g, owns(input) else { continue }
                    guard g.shape == input.shape else {
                        throw TensorError(.value, label: "internal error", "the derivative of \(node.name) gave a gradient of shape \(describe(shape: g.shape)) for an input of shape \(describe(shape: input.shape)); please report this")
                    }
                    let key = ObjectIdentifier(input)
                    gradients[key] = try gradients[key].map { try Tensor.binary(.add, $0, g) } ?? g
                }
            }
            return gradients
        }
    }

    /// The gradient of `output` with respect to `leaf`: zeros of its shape when none
    /// reaches it.
    public static func gradient(_ leaf: Tensor, in gradients: [ObjectIdentifier: Tensor]) throws -> Tensor {
        try gradients[ObjectIdentifier(leaf)] ?? Tensor.zeros(leaf.shape)
    }
}
