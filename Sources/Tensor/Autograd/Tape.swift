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
    }

    private(set) var nodes: [Node] = []
    /// Leaves and node outputs: the tensors a gradient can reach.
    private var tracked: Set<ObjectIdentifier> = []
    /// The storages of tracked tensors and of every input a node saved: writing into one
    /// in place would change what the backward pass reads.
    private var needed: Set<ObjectIdentifier> = []
    private var leaves: [Tensor] = []

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

    /// Runs `body` with `self` recording on this thread (and the previous state after).
    public func activate<T>(_ body: () throws -> T) rethrows -> T {
        let previous = Tape.setActive(self)
        defer { _ = Tape.setActive(previous) }
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

    /// Whether a gradient can reach `tensor` (a leaf, or the output of a node).
    @inline(__always)
    public func tracks(_ tensor: Tensor) -> Bool {
        tracked.contains(ObjectIdentifier(tensor))
    }

    /// The active tape when it tracks `tensor`; nil otherwise (the common case: no tape).
    @inline(__always)
    public static func tracking(_ tensor: Tensor) -> Tape? {
        guard let tape = active, tape.tracks(tensor) else { return nil }
        return tape
    }

    /// The active tape when it tracks `a` or `b`.
    @inline(__always)
    public static func tracking(_ a: Tensor, _ b: Tensor) -> Tape? {
        guard let tape = active, tape.tracks(a) || tape.tracks(b) else { return nil }
        return tape
    }

    /// The active tape when it tracks one of `tensors`.
    public static func tracking(_ tensors: [Tensor]) -> Tape? {
        guard let tape = active, tensors.contains(where: tape.tracks) else { return nil }
        return tape
    }

    /// Marks `tensor` as a leaf: gradients with respect to it are wanted.
    public func watch(_ tensor: Tensor) {
        leaves.append(tensor)
        tracked.insert(ObjectIdentifier(tensor))
        needed.insert(ObjectIdentifier(tensor.storage))
    }

    /// Appends a node: `output` was computed from `inputs`, and `backward` gives the
    /// inputs' gradients from the output's. Nothing is recorded when no input is
    /// tracked, or when the output is one of the inputs (an operation that returned its
    /// argument, e.g. `contiguous()` of a contiguous tensor).
    public func record(_ name: String = "", output: Tensor, inputs: [Tensor], backward: @escaping Backward) {
        guard inputs.contains(where: tracks), !inputs.contains(where: { $0 === output }) else { return }
        nodes.append(Node(name: name, output: output, inputs: inputs, backward: backward))
        tracked.insert(ObjectIdentifier(output))
        needed.insert(ObjectIdentifier(output.storage))
        for input in inputs { needed.insert(ObjectIdentifier(input.storage)) }
    }

    /// Runs `forward` with recording paused (so that the operations it is made of record
    /// nothing of their own) and records its result as one node named `name`;
    /// `backward(gradient, output)` gives the inputs' gradients.
    public func recording(_ name: String, inputs: [Tensor], forward: () throws -> Tensor,
                          backward: @escaping (_ gradient: Tensor, _ output: Tensor) throws -> [Tensor?]) throws -> Tensor {
        let output = try Tape.paused(forward)
        record(name, output: output, inputs: inputs) { gradient in try backward(gradient, output) }
        return output
    }

    /// Whether writing in place into `tensor` would change a value the backward pass
    /// reads (its storage belongs to a tracked tensor or to an input a node saved).
    public func needs(_ tensor: Tensor) -> Bool {
        needed.contains(ObjectIdentifier(tensor.storage))
    }

    /// The number of nodes recorded so far.
    public var count: Int { nodes.count }

    // MARK: The backward pass

    /// The gradients of `output` (whose gradient is `seed`, ones by default) with
    /// respect to every tracked tensor it depends on, keyed by identity. Nodes recorded
    /// after `output` cannot have led to it and are skipped by their missing gradient.
    /// Recording is paused; Ctrl-C is checked between nodes (and by the operations).
    public func backward(from output: Tensor, seed: Tensor? = nil) throws -> [ObjectIdentifier: Tensor] {
        try Tape.paused {
            var gradients: [ObjectIdentifier: Tensor] = [:]
            guard tracks(output) else { return gradients }
            gradients[ObjectIdentifier(output)] = try seed ?? Tensor.full(1, output.shape)
            let leafIDs = Set(leaves.map(ObjectIdentifier.init))
            for node in nodes.reversed() {
                let id = ObjectIdentifier(node.output)
                guard let gradient = gradients[id] else { continue }
                try Interrupt.check()
                // An intermediate gradient is not needed once its node has passed it on.
                if !leafIDs.contains(id) { gradients[id] = nil }
                let inputGradients = try node.backward(gradient)
                for (input, g) in zip(node.inputs, inputGradients) {
                    guard let g, tracks(input) else { continue }
                    guard g.shape == input.shape else {
                        throw TensorError.value("internal error: the derivative of \(node.name) gave a gradient of shape \(describe(shape: g.shape)) for an input of shape \(describe(shape: input.shape)); please report this")
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
