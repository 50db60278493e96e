@testable import Console
import Testing

// How an input taller than the screen is laid out in rows for tx to draw (TallInput):
// the pty tests in Tests/CLITests/EditingTests.swift check the screen; these the rows.

@Test func anInputIsLaidOutInRowsOfTheTerminalsWidth() {
    // The prompt's escapes stay in its row and take no columns; lines wrap at 10 columns.
    let prompt = "\u{1}\u{1B}[32m\u{2}tx>\u{1}\u{1B}[0m\u{2} "
    let layout = TallInput.layout(prompt: prompt, text: "fn f(a) {\n  a + 123456789\n}", point: 16, columns: 10)
    #expect(layout.rows == ["\u{1B}[32mtx>\u{1B}[0m fn f(a", ") {", "  a + 1234", "56789", "}"])
    // Byte 16 is the `1` after `a + `, in the second line's seventh column.
    #expect(layout.cursorRow == 2 && layout.cursorColumn == 6)
}

@Test func tabsAndControlCharactersTakeTheirColumnsAndACursorAfterAFullRowIsOnTheNext() {
    let layout = TallInput.layout(prompt: "> ", text: "a\tb\u{1}\n12345678", point: 14, columns: 8)
    // A tab to the next multiple of 8 (the prompt counts), Ctrl-A as ^A.
    #expect(layout.rows == ["> a     ", "b^A", "12345678", ""])
    #expect(layout.cursorRow == 3 && layout.cursorColumn == 0)
}

@Test func theRowsShownFollowTheCursor() {
    // 30 rows of 40, 10 shown: they stay put while the cursor is among them, move as
    // little as brings it back, and never leave rows below the input empty.
    #expect(TallInput.windowTop(12, cursorRow: 15, count: 40, height: 10) == 12)
    #expect(TallInput.windowTop(12, cursorRow: 3, count: 40, height: 10) == 3)
    #expect(TallInput.windowTop(12, cursorRow: 25, count: 40, height: 10) == 16)
    #expect(TallInput.windowTop(38, cursorRow: 35, count: 40, height: 10) == 30)
    // With a Ctrl-R prompt pinned on the first row, the others start at row 1.
    #expect(TallInput.windowTop(5, cursorRow: 0, count: 40, height: 9, first: 1) == 1)
}
