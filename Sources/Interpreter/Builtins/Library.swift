import Lang
import Tensor

/// The builtin table (docs/LANGUAGE.md §6). Each group lives in its own file; `:help`,
/// completion, argument checking and suggestions all read this one list.
enum Library {
    static func all() -> [Builtin] {
        let table = creation() + shapes() + elementwise() + reductions() + neural() + transformer()
            + gradients() + training() + data() + sampling() + files() + text() + models() + checking() + showing() + printing() + plotting() + system()
        for builtin in table { builtin.passesNoGradient = withoutGradient[builtin.name] }
        return table
    }
}

/// Shorthand for the table entries.
func builtin(_ name: String, _ parameters: [BuiltinParameter], _ category: String,
             _ summary: String, example: String, details: String = "",
             _ body: @escaping (inout Arguments) throws -> Value) -> Builtin {
    Builtin(name, parameters, category: category, summary: summary, example: example,
            details: details, body: body)
}

extension BuiltinParameter {
    static var x: BuiltinParameter { .required("x") }
    static var axisAll: BuiltinParameter { .optional("axis", .none, "none") }
    static var keepdims: BuiltinParameter { .optional("keepdims", .bool(false), "false") }
}
