import Lang
import Tensor

/// The builtin table (docs/LANGUAGE.md §6), one section per category, each in its own
/// file; `:help`, completion, argument checking and suggestions all read this one list.
enum Library {
    static func all() -> [Builtin] {
        var table: [Builtin] = []
        for category in Category.allCases {
            for builtin in category.section() {
                builtin.category = category
                builtin.passesNoGradient = withoutGradient[builtin.name]
                table.append(builtin)
            }
        }
        return table
    }
}

/// The sections of the builtin table, in the order `:help` lists them.
public enum Category: String, CaseIterable, Sendable {
    case creation, shape, elementwise, reduction, neural, attention, gradients, training,
         sampling, files, text, models, checking, showing, system

    /// The heading `:help` shows over the section.
    public var title: String {
        switch self {
        case .creation: "Creating tensors"
        case .shape: "Shapes"
        case .elementwise: "Elementwise"
        case .reduction: "Reductions"
        case .neural: "Neural"
        case .attention: "Attention and Transformers"
        case .gradients: "Gradients"
        case .training: "Training"
        case .sampling: "Sampling"
        case .files: "Files"
        case .text: "Text and values"
        case .models: "Pretrained models"
        case .checking: "Checking"
        case .showing: "Showing"
        case .system: "System"
        }
    }

    /// The section's entries (a switch, so that a new category cannot lack one).
    func section() -> [Builtin] {
        switch self {
        case .creation: Library.creation()
        case .shape: Library.shapes()
        case .elementwise: Library.elementwise()
        case .reduction: Library.reductions()
        case .neural: Library.neural()
        case .attention: Library.attention()
        case .gradients: Library.gradients()
        case .training: Library.training()
        case .sampling: Library.sampling()
        case .files: Library.files()
        case .text: Library.text()
        case .models: Library.models()
        case .checking: Library.checking()
        case .showing: Library.showing()
        case .system: Library.system()
        }
    }
}
