import Interpreter
import Testing

/// `:vars` gives a tensor's value the room its row leaves: all of it, a vector's first
/// elements with `…` and its last, or nothing (a row of 52 columns leaves 23 for the
/// value, of 44 columns 15).
@Test func varsFitsTensorValuesToTheRoomLeft() throws {
    let interpreter = Interpreter(output: { _ in })
    _ = try interpreter.run("x = [0.125, -1.5, 0.5]; r = arange(40) / 4; m = [[1, 2], [3, 4]]; s = sum(x)",
                            name: "vars", echo: false)
    #expect(interpreter.variablesTable(width: 52) == """
        name  kind    shape   bytes  value
        x     tensor  [3]      12 B  [0.125, -1.500, 0.500]
        r     tensor  [40]    160 B  [0.00, 0.25, …, 9.75]
        m     tensor  [2, 2]   16 B  [[1, 2], [3, 4]]
        s     tensor  []        4 B  -0.875
        total: 192 B in 4 variables

        """)
    #expect(interpreter.variablesTable(width: 44) == """
        name  kind    shape   bytes  value
        x     tensor  [3]      12 B
        r     tensor  [40]    160 B  [0.00, …, 9.75]
        m     tensor  [2, 2]   16 B
        s     tensor  []        4 B  -0.875
        total: 192 B in 4 variables

        """)
}
