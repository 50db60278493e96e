import Lang
import Tensor

extension Library {
    static func checking() -> [Builtin] {
        [
            builtin("assert", .argument("cond"), .value("message", default: .string("assertion failed"), shown: "\"assertion failed\""),
                    summary: "Stops with an error carrying message unless cond is true (a bool or a nonzero one-element tensor).",
                    example: "assert(1 + 1 == 2, \"arithmetic works\")") { args, cond, message in
                guard try Convert.truth(cond.value, context: "assert", at: cond.span) else {
                    throw args.failedCheck(assertion(Display.text(message), at: args.span))
                }
                args.interpreter.checkObserver?(Check(passed: true, at: args.span, detail: ""))
                return .none
            },
            builtin("assert_close", .tensor("a"), .tensor("b"), .number("atol", default: 1e-5, shown: "1e-5"), .number("rtol", default: 1e-4, shown: "1e-4"),
                    summary: "Stops with an error unless |a - b| <= atol + rtol * |b| everywhere (NumPy's allclose, with broadcasting).",
                    example: "assert_close(sqrt(2)^2, 2)",
                    details: "Equal infinities are close; NaN never is. The error names the largest difference and where it is.") { args, a, b, atol, rtol in
                do {
                    let largest = try checkClose(a, b, atol: atol, rtol: rtol, at: args.span)
                    let f = { (v: Double) in Summary.significant(Float(v)) }
                    args.interpreter.checkObserver?(Check(passed: true, at: args.span,
                        detail: "largest difference \(f(largest.difference)), tolerance there \(f(largest.tolerance))"))
                } catch let error as TxError where error.kind == .assertion {
                    throw args.failedCheck(error)
                }
                return .none
            },
            builtin("expect_error", .argument("f"), .argument("substring"),
                    summary: "Calls f() and checks that it fails with an error whose message contains substring; returns that message.",
                    example: "expect_error(fn() = [1, 2, 3][5], \"out of range\")",
                    details: "For showing an error on purpose and going on, as a lecture does where something breaks: the script stops with an assertion error if f() succeeds or fails with another message. Ctrl-C is never taken for the expected error. f must be a function (fn() = ...): a value is a type error.") { args, fArgument, substring in
                let f = fArgument.value
                // expect_error(risky(), ...) runs risky() before expect_error does: calling
                // its value would fail with a type error that might pass for the expected one.
                switch f {
                case .function, .builtin: break
                default:
                    throw TxError(.type, "expect_error needs a function to call, such as fn() = risky(); got a \(f.typeName)",
                                  at: fArgument.span)
                }
                let expected = try substring.string()
                var caught: String? = nil
                // Checks failing inside f are the expected error, not crosses of their own.
                let observer = args.interpreter.checkObserver
                args.interpreter.checkObserver = nil
                defer { args.interpreter.checkObserver = observer }
                do {
                    _ = try args.interpreter.call(f, [], at: fArgument.span)
                } catch let error as TxError where error.kind != .interrupted {
                    caught = error.message
                } catch let error as TensorError where error.kind != .interrupted {
                    caught = error.message
                }
                args.interpreter.checkObserver = observer
                guard let message = caught else {
                    throw args.failedCheck("expected an error containing '\(expected)', but f() ran without one")
                }
                guard message.contains(expected) else {
                    throw args.failedCheck("expected an error containing '\(expected)', got: \(message)")
                }
                args.interpreter.checkObserver?(Check(passed: true, at: args.span, detail: "error as expected: \(message)"))
                return .string(message)
            },
            builtin("breakpoint",
                    summary: "Stops the script here and opens the step prompt in its variables, when standard input is a terminal; does nothing otherwise.",
                    example: "breakpoint()",
                    details: "At the prompt, any tx is evaluated in the script's variables, and inside a function in its local variables too (assigning one changes it); Enter or c goes on, q leaves the script, ? lists the keys (when stepping, Enter stops again at the next step and c runs to the end). Works in tx FILE, tx --step FILE and :load alike.") { args in
                if let handler = args.interpreter.breakpointHandler {
                    try args.interpreter.withBreakpointLocals { try handler(args.span) }
                }
                return .none
            },
        ]
    }

    /// Returns the largest difference and the tolerance at its place; throws when some
    /// element is not close.
    static func checkClose(_ a: Tensor, _ b: Tensor, atol: Double, rtol: Double,
                           at span: SourceSpan) throws -> (difference: Double, tolerance: Double) {
        guard let shape = Tensor.broadcastShape(a.shape, b.shape) else {
            throw TxError(.shape, label: "shape mismatch in assert_close", "\(describe(shape: a.shape)) and \(describe(shape: b.shape)) (cannot broadcast)", at: span)
        }
        let x = try a.broadcast(to: shape).values, y = try b.broadcast(to: shape).values
        var failures = 0
        var worst: (index: Int, difference: Double)? = nil
        var largest = (difference: 0.0, tolerance: atol)
        for i in 0..<x.count {
            let p = Double(x[i]), q = Double(y[i])
            // Equal values, equal infinities included, are close; otherwise an infinity
            // or a NaN on either side is not (atol + rtol * |b| is infinite when b is).
            if p == q { continue }
            let difference = abs(p - q)
            if difference > largest.difference { largest = (difference, atol + rtol * abs(q)) }
            if !(p.isFinite && q.isFinite && difference <= atol + rtol * abs(q)) {
                failures += 1
                let rank = difference.isNaN ? Double.infinity : difference
                if worst == nil || rank > (worst?.difference ?? 0) { worst = (i, rank) }
            }
        }
        guard failures > 0, let worst else { return largest }
        var position = [Int](repeating: 0, count: shape.count)
        var rest = worst.index
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            position[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        let n = { (v: Double) in TensorFormatter.formatNumber(v) }
        let f = { (v: Float) in TensorFormatter.formatNumber(v) }
        let difference = abs(x[worst.index] - y[worst.index])
        let place = shape.isEmpty ? "" : " at \(describe(shape: position))"
        throw TxError(.assertion, "not close: largest difference \(f(difference))\(place) (a = \(f(x[worst.index])), b = \(f(y[worst.index]))); \(failures) of \(x.count) element\(x.count == 1 ? "" : "s") differ by more than atol + rtol * |b| (atol = \(n(atol)), rtol = \(n(rtol)))", at: span)
    }
}

/// assert's error for its message: "assertion failed: MESSAGE", or the message as written
/// when it already starts with "assertion failed" (the default is just that).
private func assertion(_ message: String, at span: SourceSpan) -> TxError {
    let label = TxError.Kind.assertion.label
    if message.hasPrefix(label + ": ") { return TxError(.assertion, String(message.dropFirst(label.count + 2)), at: span) }
    if message.hasPrefix(label) { return TxError(.assertion, label: message, "", at: span) }
    return TxError(.assertion, message, at: span)
}
