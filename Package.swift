// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tx",
    products: [
        .executable(name: "tx", targets: ["tx"]),
    ],
    dependencies: [
        // One exact version (the resolved file is not committed: the package mirrors here
        // give other commit ids than GitHub, so a pin by version is what holds everywhere).
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // OpenBLAS, opened with dlopen after choosing the CPU core (see tx_blas.h).
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // Vectorised elementwise functions, reductions, softmax and attention, compiled once per
        // instruction set: isa_*.c include the kernel sources, which are excluded here (see
        // isa.h). No errno from the math functions: sqrt is then one instruction.
        .target(name: "CKernels", dependencies: ["COpenBLAS"], exclude: ["elementwise.c", "reductions.c", "kernels.c"],
                cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-fno-math-errno"])]),
        // GNU readline, linked as a system library.
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),

        .target(name: "Lang"),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CKernels"]),
        .target(name: "Transformer", dependencies: ["Tensor", "COpenBLAS", "CKernels"]),
        // The evaluator's frames and globals are classes touched on every variable access;
        // runtime exclusivity checks there cost about 40 ns per loop iteration. Each
        // session runs on one thread, so the checks are dropped for this module.
        .target(name: "Interpreter", dependencies: ["Lang", "Tensor", "Transformer"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // The person at a terminal: the REPL and its :commands, the stepper, transcripts,
        // completion, highlighting, history and readline. The language knows none of it.
        .target(name: "Console", dependencies: ["Interpreter", "Lang", "Tensor", "CReadline"]),
        .executableTarget(name: "tx", dependencies: [
            "Console", "Interpreter",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "txbench", dependencies: ["Tensor", "Transformer", "Interpreter"],
                          path: "Benchmarks/txbench"),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LangTests", dependencies: ["Lang", "TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "InterpreterTests", dependencies: ["Interpreter", "Console", "Lang", "Tensor", "Transformer", "TestSupport"],
                    exclude: ["Scripts", "Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["tx", "TestSupport"]),
    ]
)
