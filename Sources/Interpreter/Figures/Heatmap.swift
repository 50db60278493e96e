import Lang
import Tensor

/// Maps with labels, ready to draw: one matrix, a row of heads, or a grid of layers x
/// heads, on one colour scale.
struct HeatmapData: Figure {
    /// grid[layer][head]: matrices of the same shape, as rows of values.
    private(set) var grid: [[[[Float]]]]
    private(set) var rows: [String]
    private(set) var cols: [String]
    let title: String?
    /// The colour scale's ends: `range=` or the finite min and max of every panel.
    private(set) var low: Float
    private(set) var high: Float
    let rangeGiven: Bool
    private(set) var showValues: Bool
    /// Whether exact zeros are masked weights: every row of every panel is a distribution.
    let weights: Bool
    /// The smallest and largest finite values (0 when there are none).
    private(set) var finiteLow: Float
    private(set) var finiteHigh: Float
    private(set) var finiteCount: Int
    private(set) var nanCount: Int
    private(set) var infinityCount: Int
    private(set) var maskedCount: Int
    /// What a pooled or summarised copy shows of the maps (a line under the scale), and,
    /// for a summarised one, the shown column and row before which `…` stands for those
    /// left out.
    private(set) var note: String?
    private(set) var columnGap: Int?
    private(set) var rowGap: Int?
    /// The columns of the maps each shown column of a pooled copy stands for.
    private(set) var columnBlock = 1

    /// The most cells a side the SVG draws: a bigger map is pooled (as in the terminal).
    static let svgSide = 128

    /// The maps of `layers` (each layer's heads' values one after another, and its shape
    /// [h, n_q, n_k]; at least one layer, all of one n_q and n_k), labelled by `rows` and
    /// `cols` (one label per row and column), on the scale `range` (low < high, both
    /// finite) or else from the smallest finite value to the largest.
    init(layers: [(values: [Float], shape: [Int])], rows: [String], cols: [String], title: String?,
         showValues: Bool, range: (low: Float, high: Float)?) throws {
        let (r, c) = (layers[0].shape[1], layers[0].shape[2])
        // Ctrl-C: a check every chunk of cells, in each pass below (a map of 3000 x 3000
        // takes seconds to draw).
        var poll = Interrupt.Poll()
        var grid: [[[[Float]]]] = []
        for layer in layers {
            var heads: [[[Float]]] = []
            for h in 0..<layer.shape[0] {
                var panel: [[Float]] = []
                for i in 0..<r {
                    panel.append(Array(layer.values[(h * r * c + i * c)..<(h * r * c + i * c + c)]))
                    try poll.advance(by: c)
                }
                heads.append(panel)
            }
            grid.append(heads)
        }
        self.grid = grid
        self.rows = rows
        self.cols = cols
        self.title = title
        self.showValues = showValues
        // One pass over the values, polling Ctrl-C.
        let tally = try Self.tally(grid)
        let isWeights = tally.distributions && tally.finite > 0
        weights = isWeights
        (finiteLow, finiteHigh, finiteCount) = (tally.low, tally.high, tally.finite)
        (nanCount, infinityCount) = (tally.nan, tally.infinity)
        maskedCount = tally.negativeInfinity + (isWeights ? tally.zeros : 0)
        if let range {
            (low, high, rangeGiven) = (range.low, range.high, true)
        } else {
            (low, high, rangeGiven) = (finiteLow, finiteHigh, false)
        }
    }

    /// What the cells of `grid` hold: the finite range, the counts of each kind of
    /// value, and whether every row is a distribution (values in 0...1 summing to 1).
    private struct Tally {
        var low: Float = 0, high: Float = 0
        var finite = 0, nan = 0, infinity = 0, negativeInfinity = 0, zeros = 0
        var distributions = true
    }

    private static func tally(_ grid: [[[[Float]]]]) throws -> Tally {
        // Plain loops over the rows (a million cells), polling Ctrl-C.
        var poll = Interrupt.Poll()
        var t = Tally()
        var smallest = Float.infinity, largest = -Float.infinity
        for row in grid.joined().joined() {
            try poll.advance(by: row.count)
            if row.isEmpty { t.distributions = false }
            var sum = 0.0
            row.withUnsafeBufferPointer { values in
                for v in values {
                    if v.isFinite {
                        t.finite += 1
                        smallest = Swift.min(smallest, v)
                        largest = Swift.max(largest, v)
                        if v < 0 || v > 1 { t.distributions = false }
                        if v == 0 { t.zeros += 1 }
                        sum += Double(v)
                    } else if v.isNaN {
                        t.nan += 1
                        t.distributions = false
                    } else if v > 0 {
                        t.infinity += 1
                        t.distributions = false
                    } else {
                        // A masked score: the row is not a distribution of weights.
                        t.negativeInfinity += 1
                        t.distributions = false
                    }
                }
            }
            if abs(sum - 1) >= 1e-3 { t.distributions = false }
        }
        if t.finite > 0 { (t.low, t.high) = (smallest, largest) }
        return t
    }

    /// The maps with each cell the mean of a block of `rowBlock` x `columnBlock` cells
    /// (smaller at the bottom and right edges), in double, as arithmetic gives it: a
    /// block with a nan is nan, one with -inf (and no nan or inf) is masked. Labels are
    /// those of each block's first row and column; the scale and counts are the drawn
    /// cells', and exact zeros stay masked if the maps were weights.
    func pooled(rowBlock: Int, columnBlock: Int) throws -> HeatmapData {
        var poll = Interrupt.Poll()
        let (r, c) = (rows.count, cols.count)
        let (pr, pc) = ((r + rowBlock - 1) / rowBlock, (c + columnBlock - 1) / columnBlock)
        var copy = self
        copy.grid = try grid.map { layer in
            try layer.map { panel in
                var out: [[Float]] = []
                out.reserveCapacity(pr)
                var sums = [Double](repeating: 0, count: pc)
                for bi in 0..<pr {
                    let first = bi * rowBlock, end = Swift.min(r, first + rowBlock)
                    for i in 0..<pc { sums[i] = 0 }
                    for i in first..<end {
                        try poll.advance(by: c)
                        panel[i].withUnsafeBufferPointer { row in
                            sums.withUnsafeMutableBufferPointer { sums in
                                for bj in 0..<pc {
                                    var s = 0.0
                                    for j in (bj * columnBlock)..<Swift.min(c, bj * columnBlock + columnBlock) { s += Double(row[j]) }
                                    sums[bj] += s
                                }
                            }
                        }
                    }
                    out.append((0..<pc).map { bj in
                        let width = Swift.min(c, bj * columnBlock + columnBlock) - bj * columnBlock
                        return Float(sums[bj] / Double((end - first) * width))
                    })
                }
                return out
            }
        }
        copy.rows = stride(from: 0, to: r, by: rowBlock).map { rows[$0] }
        copy.cols = stride(from: 0, to: c, by: columnBlock).map { cols[$0] }
        copy.columnBlock = columnBlock
        let tally = try Self.tally(copy.grid)
        (copy.finiteLow, copy.finiteHigh, copy.finiteCount) = (tally.low, tally.high, tally.finite)
        (copy.nanCount, copy.infinityCount) = (tally.nan, tally.infinity)
        copy.maskedCount = tally.negativeInfinity + (weights ? tally.zeros : 0)
        if !rangeGiven { (copy.low, copy.high) = (tally.low, tally.high) }
        let exact = r % rowBlock == 0 && c % columnBlock == 0
        copy.note = "\(r) x \(c) shown as \(pr) x \(pc): each cell is the mean of a \(rowBlock) x \(columnBlock) block"
            + (exact ? "" : " (smaller at the edges)") + ", labelled by its first row and column"
        return copy
    }

    /// The maps with only the rows and columns `keepRows` and `keepColumns` (each the
    /// first and last few, in order), `…` standing for those left out after the first
    /// `rowGap` rows and `columnGap` columns. The scale stays the whole maps'.
    private func summarised(keepRows: [Int], rowGap: Int?, keepColumns: [Int], columnGap: Int?) throws -> HeatmapData {
        var poll = Interrupt.Poll()
        var copy = self
        copy.grid = try grid.map { layer in
            try layer.map { panel in
                try keepRows.map { i in
                    try poll.advance(by: keepColumns.count)
                    return keepColumns.map { panel[i][$0] }
                }
            }
        }
        copy.rows = keepRows.map { rows[$0] }
        copy.cols = keepColumns.map { cols[$0] }
        copy.rowGap = rowGap
        copy.columnGap = columnGap
        func shown(_ kept: [Int], _ gap: Int?, _ count: Int, _ name: String) -> String? {
            guard let gap else { return nil }
            return "\(name) 0 to \(gap - 1) and \(kept[gap]) to \(count - 1)"
        }
        let parts = [shown(keepColumns, columnGap, cols.count, "columns"), shown(keepRows, rowGap, rows.count, "rows")].compactMap { $0 }
        copy.note = "\(rows.count) x \(cols.count): showing " + parts.joined(separator: ", ") + "; … marks the others"
        return copy
    }

    /// The first `count` of `n` indices and the last, half each (the extra one first),
    /// and where `…` goes; all of them when they are no more than `count` (at least 2).
    private static func ends(_ n: Int, keeping wanted: Int) -> (indices: [Int], gap: Int?) {
        let count = Swift.max(2, wanted)
        guard n > count else { return (Array(0..<n), nil) }
        let head = (count + 1) / 2, tail = count / 2
        return (Array(0..<head) + Array((n - tail)..<n), head)
    }

    /// The copy the terminal draws at `width` when the maps do not fit (nil when they
    /// do). Without values: a map wider than the room beside the row labels even at one
    /// character a cell, or with more rows than that room has characters, is pooled in
    /// blocks (the smallest that fit; square when both are). With values: the columns that
    /// do not fit and the rows past max(20, width / 2) are left out, the first and last
    /// shown around `…`, as tensors print.
    private func fitted(width: Int) throws -> HeatmapData? {
        let labelWidth = Swift.min(12, rows.map(\.count).max() ?? 0)
        let room = Swift.max(1, Swift.max(width, 20) - labelWidth - 1)
        let (r, c) = (rows.count, cols.count)
        if !showValues {
            guard c > room || r > room else { return nil }
            return try pooled(rowBlock: Swift.max(1, (r + room - 1) / room), columnBlock: Swift.max(1, (c + room - 1) / room))
        }
        let lines = Swift.max(20, width / 2)
        let (keepRows, rowGap) = Self.ends(r, keeping: lines - 1)
        // Columns: as many as fit at the widest cell among the candidates (each end's
        // first room / 3: a cell and its space take at least three characters).
        let (candidates, _) = Self.ends(c, keeping: 2 * (room / 3 + 1))
        var cell = 2
        for i in keepRows {
            try Interrupt.check()
            for layer in grid {
                for panel in layer {
                    for j in candidates { cell = Swift.max(cell, cellText(panel[i][j]).count) }
                }
            }
        }
        for j in candidates { cell = Swift.max(cell, Swift.min(8, cols[j].count)) }
        let fitting = (room + 1) / (cell + 1)
        let (keepColumns, columnGap) = Self.ends(c, keeping: c <= fitting ? c : Swift.max(2, fitting - 1))
        guard rowGap != nil || columnGap != nil else { return nil }
        return try summarised(keepRows: keepRows, rowGap: rowGap, keepColumns: keepColumns, columnGap: columnGap)
    }

    /// The copy the SVG draws: maps of more than `svgSide` cells a side pooled (without
    /// values, which would not be legible), else nil.
    private func fittedForSVG() throws -> HeatmapData? {
        let (r, c) = (rows.count, cols.count)
        guard r > Self.svgSide || c > Self.svgSide else { return nil }
        let side = Self.svgSide
        var copy = try pooled(rowBlock: Swift.max(1, (r + side - 1) / side), columnBlock: Swift.max(1, (c + side - 1) / side))
        if showValues {
            copy.showValues = false
            copy.note = (copy.note ?? "") + "; values not written (more than \(side) cells a side)"
        }
        return copy
    }

    /// `text` in lines of at most `width` characters, broken at spaces.
    private static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Cells drawn as masked: -inf scores, and exact zeros among weights.
    func isMasked(_ v: Float) -> Bool { v == -.infinity || weights && v == 0 }

    /// 0...1 position of a value on the scale; inf takes the top, values outside a given
    /// range its ends. NaN and masked cells are drawn apart.
    func level(_ v: Float) -> Float {
        if v == .infinity { return 1 }
        if !v.isFinite { return 0 }
        guard high > low else { return 0.5 }
        // In double: high - low can overflow a float.
        let t = (Double(v) - Double(low)) / (Double(high) - Double(low))
        return Float(Swift.min(Swift.max(t, 0), 1))
    }

    /// The text in a cell when values are shown: two decimals for weights, else three
    /// significant digits.
    func cellText(_ v: Float) -> String {
        if v.isNaN { return "?" }
        if isMasked(v) { return "·" }
        if !v.isFinite { return TensorFormatter.formatNumber(v) }
        return finiteLow >= 0 && finiteHigh <= 1 ? formatC(Double(v), "%.2f") : formatC(Double(v), "%.3g")
    }

    /// What the scale's ends, masked cells, nan and inf mean.
    func legend(bar: String) -> String {
        if finiteCount == 0 && !rangeGiven {
            var parts = [nanCount + infinityCount + maskedCount == 0 ? "no values" : "no finite values"]
            if maskedCount > 0 { parts.append("\(maskedCount) masked (·)") }
            if nanCount > 0 { parts.append("\(nanCount) nan (?)") }
            if infinityCount > 0 { parts.append("\(infinityCount) inf") }
            return parts.joined(separator: ", ")
        }
        var parts = ["scale \(scaleText(low)) \(bar) \(scaleText(high))"]
        if rangeGiven && finiteCount > 0 { parts.append("values \(scaleText(finiteLow)) to \(scaleText(finiteHigh))") }
        if maskedCount > 0 { parts.append(weights ? "· masked (weight 0)" : "· masked (-inf)") }
        if nanCount > 0 { parts.append("\(nanCount) nan (?)") }
        if infinityCount > 0 { parts.append("\(infinityCount) inf") }
        return parts.joined(separator: ", ")
    }

    /// A number of the legend, with four significant digits; a value within 1e-4 of the
    /// scale's span from 0 is 0 (softmax's 6.8e-17 is a zero weight on a 0 to 1 scale).
    func scaleText(_ v: Float) -> String {
        let span = Double(Swift.max(high, finiteHigh)) - Double(Swift.min(low, finiteLow))
        if v.isFinite, span > 0, Swift.abs(Double(v)) < span * 1e-4 { return "0" }
        return Summary.significant(v)
    }

    private static let anchors: [(Float, Float, Float)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]

    /// Viridis, by linear interpolation between five of its colours.
    static func color(_ t: Float) -> (Int, Int, Int) {
        let anchors = Self.anchors
        let x = (t.isNaN ? 0 : Swift.min(Swift.max(t, 0), 1)) * Float(anchors.count - 1)
        let i = Swift.min(Int(x), anchors.count - 2)
        let f = x - Float(i)
        let (a, b) = (anchors[i], anchors[i + 1])
        return (Int(a.0 + (b.0 - a.0) * f), Int(a.1 + (b.1 - a.1) * f), Int(a.2 + (b.2 - a.2) * f))
    }

    /// Titles of the panels of grid row `layer`, and of the row itself.
    private func panelTitle(layer: Int, head: Int) -> String? {
        grid[layer].count > 1 ? "head \(head)" : nil
    }

    private func layerTitle(_ layer: Int) -> String? {
        grid.count > 1 ? "layer \(layer)" : nil
    }

    /// The maps in the terminal, panels side by side and wrapped at `width` columns.
    /// Ctrl-C stops it between rows.
    func terminal(color: Bool, width: Int) throws -> String {
        if note == nil, let fitted = try fitted(width: width) { return try fitted.terminal(color: color, width: width) }
        var poll = Interrupt.Poll(every: 4096)   // cells drawn between two checks
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        var valueWidth = showValues ? 1 : 0
        if showValues {
            for row in grid.joined().joined() {
                try Interrupt.check()
                for v in row { valueWidth = Swift.max(valueWidth, cellText(v).count) }
            }
        }
        let longestColumn = cols.map(\.count).max() ?? 2
        let labelWidth = Swift.min(12, rows.map(\.count).max() ?? 0)
        // A summarised map's `…` takes a column of its own.
        let columns = cols.count + (columnGap == nil ? 0 : 1)
        var columnLabels = cols
        if let columnGap { columnLabels.insert("…", at: columnGap) }
        let titleWidth = grid.indices.flatMap { l in grid[l].indices.map { panelTitle(layer: l, head: $0)?.count ?? 0 } }.max() ?? 0
        let gap = "   "
        let margin = String(repeating: " ", count: labelWidth + 1)
        // Layouts from the widest to the most compact, (cell, space between cells): the
        // first that puts every head of a layer side by side within `width`, else the
        // most compact. Shown values keep their width.
        let preferred = (Swift.max(2, valueWidth, Swift.min(8, longestColumn)), 1)
        let layouts = showValues ? [preferred] : [preferred, (2, 1), (2, 0), (1, 0)]
        func panelWidth(_ layout: (Int, Int)) -> Int { Swift.max(Swift.max(columns * (layout.0 + layout.1) - layout.1, 0), titleWidth) }
        func panelsPerBand(_ layout: (Int, Int)) -> Int {
            Swift.max(1, (width - margin.count + gap.count) / Swift.max(1, panelWidth(layout) + gap.count))
        }
        let headCount = grid.map(\.count).max() ?? 1
        let fits = { (layout: (Int, Int)) in
            panelsPerBand(layout) >= headCount && margin.count + panelWidth(layout) <= Swift.max(width, 20)
        }
        let layout = layouts.first(where: fits) ?? layouts[layouts.count - 1]
        let (cell, space) = layout
        let separator = String(repeating: " ", count: space)
        let cellsWidth = Swift.max(columns * (cell + space) - space, 0)
        let panelWidth = panelWidth(layout)
        let padding = String(repeating: " ", count: panelWidth - cellsWidth)
        // Column labels wider than a narrowed cell are written downwards, a character a
        // line; a pooled map's, as an axis: a label every few columns, each over the
        // column it names.
        let ticks = columnBlock > 1 && columnGap == nil && layout != preferred && longestColumn > cell
        let downwards = !ticks && layout != preferred && longestColumn > cell
        func fit(_ s: String, _ w: Int) -> String {
            let cut = String(s.prefix(w))
            return cut + String(repeating: " ", count: w - cut.count)
        }
        func centred(_ s: String, _ w: Int) -> String {
            let cut = String(s.prefix(w))
            return fit(String(repeating: " ", count: (w - cut.count) / 2) + cut, w)
        }
        func draw(_ v: Float) -> String {
            if v.isNaN { return centred("?", cell) }
            if isMasked(v) { return centred("·", cell) }
            let t = level(v)
            if color {
                let (r, g, b) = Self.color(t)
                let text = showValues ? centred(cellText(v), cell) : String(repeating: " ", count: cell)
                let ink = t > 0.6 ? "30" : "97"
                return "\u{1B}[\(ink);48;2;\(r);\(g);\(b)m" + text + "\u{1B}[0m"
            }
            if showValues {
                let text = cellText(v)
                return String(repeating: " ", count: cell - text.count) + text
            }
            return String(repeating: shades[Swift.min(shades.count - 1, Int(t * Float(shades.count - 1) + 0.5))], count: cell)
        }
        // The axis of a pooled map: a label every longest label + 2 columns.
        var axis = ""
        if ticks {
            for j in stride(from: 0, to: columnLabels.count, by: longestColumn + 2)
            where j * (cell + space) + columnLabels[j].count <= panelWidth {
                axis += String(repeating: " ", count: j * (cell + space) - axis.count) + columnLabels[j]
            }
        }
        let perBand = panelsPerBand(layout)
        let wraps = grid.contains { $0.count > perBand }
        var out = ""
        if let title { out += title + "\n" }
        for (l, layer) in grid.enumerated() {
            if let layerTitle = layerTitle(l) { out += layerTitle + "\n" }
            for start in stride(from: 0, to: layer.count, by: perBand) {
                let heads = Array(start..<Swift.min(layer.count, start + perBand))
                if heads.contains(where: { panelTitle(layer: l, head: $0) != nil }) {
                    out += trimmed(margin + heads.map { fit(panelTitle(layer: l, head: $0) ?? "", panelWidth) }.joined(separator: gap)) + "\n"
                }
                if l == 0 || wraps {
                    let lines = ticks ? [axis] : downwards
                        ? (0..<Swift.min(longestColumn, 8)).map { k in
                            columnLabels.map { label in fit(k < label.count ? String(Array(label)[k]) : "", cell) }.joined(separator: separator)
                        }
                        : [columnLabels.map { fit($0, cell) }.joined(separator: separator)]
                    for labels in lines {
                        out += trimmed(margin + heads.map { _ in fit(labels, panelWidth) }.joined(separator: gap)) + "\n"
                    }
                }
                for i in 0..<rows.count {
                    try poll.advance(by: columns * heads.count)
                    if i == rowGap { out += "…\n" }
                    let line = fit(rows[i], labelWidth) + " " + heads.map { h in
                        var cells = layer[h][i].map(draw)
                        if let columnGap { cells.insert(centred("…", cell), at: columnGap) }
                        return cells.joined(separator: separator) + padding
                    }.joined(separator: gap)
                    out += (color ? line : trimmed(line)) + "\n"
                }
            }
        }
        let bar = color
            ? (0..<8).map { i -> String in
                let (r, g, b) = Self.color(Float(i) / 7)
                return "\u{1B}[48;2;\(r);\(g);\(b)m \u{1B}[0m"
            }.joined()
            : "[" + String(shades) + "]"
        var note = ""
        if let shown = self.note {
            let text = "(" + shown + (downwards ? "; column labels read downwards)" : ")")
            note = Self.wrapped(text, width: Swift.max(20, width - margin.count)).map { "\n" + margin + $0 }.joined()
        } else if layout != preferred {
            note = "\n" + margin + "(cells narrowed to fit \(width) columns" + (downwards ? "; column labels read downwards)" : ")")
        }
        return out + margin + legend(bar: bar) + note + "\n"
    }

    private func trimmed(_ line: String) -> String {
        var s = Substring(line)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    /// The maps as SVG: panels in the grid's layout, labels once per row and column of
    /// panels, masked cells light grey, and a colour scale. `standalone` adds the XML
    /// namespace a file needs (inline in HTML it is not). Ctrl-C stops it between cells,
    /// and it must fit in what the memory limit leaves (about 125 bytes a cell, more with
    /// values).
    func svg(standalone: Bool = true) throws -> String {
        if note == nil, let fitted = try fittedForSVG() { return try fitted.svg(standalone: standalone) }
        let rowCount = rows.count, columnCount = cols.count
        let cells = grid.reduce(0) { $0 + $1.count } * rowCount * columnCount
        // Each cell names its row and column; the string may double as it grows.
        let longest = (rows.map(\.utf8.count).max() ?? 0) + (cols.map(\.utf8.count).max() ?? 0)
        try Memory.checkRoom(for: 2 * cells * ((showValues ? 280 : 140) + longest), "the SVG of the heatmap")
        // Ctrl-C is looked for every 4,096 cells (each a microsecond or more of work).
        var poll = Interrupt.Poll(every: 4096)   // cells drawn between two checks
        // Labels escaped once, not once per cell.
        let rowLabels = rows.map(escapeXML), columnLabels = cols.map(escapeXML)
        let cell = Swift.max(showValues ? 30 : 8, Swift.min(40, 480 / Swift.max(1, Swift.max(rowCount, columnCount))))
        let labelWidth = 7 * Swift.min(16, rows.map(\.count).max() ?? 0) + 8
        let columnLabelHeight = 7 * Swift.min(16, cols.map(\.count).max() ?? 0) + 8
        let panelWidth = cell * columnCount, panelHeight = cell * rowCount
        // Labels (11 px) on cells smaller than 12 px: every few rows and columns, not
        // written over each other.
        let labelStep = (12 + cell - 1) / cell
        let gap = 16
        let titleHeight = title == nil ? 0 : 24
        let headTitle = grid.contains { $0.count > 1 } ? 16 : 0
        let layerHeight = grid.count > 1 ? 16 : 0
        let headsPerRow = grid.map(\.count).max() ?? 1
        let bandHeight = layerHeight + headTitle + panelHeight + gap
        let top = titleHeight + columnLabelHeight
        // Wide enough for the title too (14 px monospace: under 9 px a character).
        let legendWidth = Swift.max(labelWidth, 7 * scaleText(low).count + 12) + 172 + 7 * scaleText(high).count
        // A pooled map's note goes under the scale (7 px a character).
        let noteWidth = note.map { 7 * $0.count + 12 } ?? 0
        let w = Swift.max(labelWidth + headsPerRow * (panelWidth + gap) + 10, 260, 9 * (title?.count ?? 0) + 20, legendWidth, noteWidth)
        let h = top + grid.count * bandHeight + 40 + (note == nil ? 0 : 20)
        var out = "<svg" + (standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : "")
        out += " width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"monospace\" font-size=\"11\">\n"
        // Pointing at a query (a row's label or cell) dims every other row of every
        // panel: that query's attention in all heads at once. CSS only (:has), no script.
        out += "<style>.c{transition:opacity .1s}"
        for i in 0..<rowCount { out += "svg:has(.q\(i):hover) .c:not(.q\(i)){opacity:.15}" }
        out += "</style>\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        if let title { out += "<text x=\"\(w / 2)\" y=\"17\" text-anchor=\"middle\" font-size=\"14\">\(escapeXML(title))</text>\n" }
        for (l, layer) in grid.enumerated() {
            let bandTop = top + l * bandHeight
            if let name = layerTitle(l) {
                out += "<text x=\"2\" y=\"\(bandTop + 12)\" font-weight=\"bold\">\(escapeXML(name))</text>\n"
            }
            let y0 = bandTop + layerHeight + headTitle
            for (hIndex, panel) in layer.enumerated() {
                let x0 = labelWidth + hIndex * (panelWidth + gap)
                out += "<g class=\"panel\">\n"
                if let name = panelTitle(layer: l, head: hIndex) {
                    out += "<text x=\"\(x0 + panelWidth / 2)\" y=\"\(y0 - 4)\" text-anchor=\"middle\">\(escapeXML(name))</text>\n"
                }
                if l == 0 {
                    for (j, label) in columnLabels.enumerated() where j % labelStep == 0 {
                        let x = x0 + j * cell + cell / 2 + 4
                        out += "<text transform=\"translate(\(x),\(top - 4)) rotate(-60)\">\(label)</text>\n"
                    }
                }
                for (i, row) in panel.enumerated() {
                    if hIndex == 0 && i % labelStep == 0 {
                        out += "<text class=\"q\(i)\" x=\"\(labelWidth - 4)\" y=\"\(y0 + i * cell + cell / 2 + 4)\" text-anchor=\"end\">\(rowLabels[i])</text>\n"
                    }
                    try poll.advance(by: row.count)
                    for (j, v) in row.enumerated() {
                        let (x, y) = (x0 + j * cell, y0 + i * cell)
                        let fill: String
                        if v.isNaN {
                            fill = "rgb(150,150,150)"
                        } else if isMasked(v) {
                            fill = "rgb(238,238,238)"
                        } else {
                            let (r, g, b) = Self.color(level(v))
                            fill = "rgb(\(r),\(g),\(b))"
                        }
                        out += "<rect class=\"c q\(i)\" x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(fill)\"><title>\(rowLabels[i]), \(columnLabels[j]): \(TensorFormatter.formatNumber(v))</title></rect>\n"
                        if showValues || isMasked(v) || v.isNaN {
                            let ink = !isMasked(v) && !v.isNaN && level(v) < 0.6 ? "white" : "black"
                            out += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\" fill=\"\(ink)\">\(escapeXML(cellText(v)))</text>\n"
                        }
                    }
                }
                out += "</g>\n"
            }
        }
        // The colour scale: low to high, and what masked cells look like.
        let legendY = top + grid.count * bandHeight
        // The bar starts far enough right for the low end's text (7 px a character).
        let lowText = scaleText(low), highText = scaleText(high)
        let legendX = Swift.max(labelWidth, 7 * lowText.count + 12)
        out += "<g class=\"legend\">\n<text x=\"\(legendX - 4)\" y=\"\(legendY + 12)\" text-anchor=\"end\">\(escapeXML(lowText))</text>\n"
        for i in 0..<20 {
            let (r, g, b) = Self.color(Float(i) / 19)
            out += "<rect x=\"\(legendX + i * 8)\" y=\"\(legendY + 2)\" width=\"8\" height=\"12\" fill=\"rgb(\(r),\(g),\(b))\"/>\n"
        }
        out += "<text x=\"\(legendX + 164)\" y=\"\(legendY + 12)\">\(escapeXML(highText))</text>\n"
        if maskedCount > 0 {
            out += "<rect x=\"\(legendX)\" y=\"\(legendY + 20)\" width=\"12\" height=\"12\" fill=\"rgb(238,238,238)\"/>\n"
            out += "<text x=\"\(legendX + 16)\" y=\"\(legendY + 30)\">masked (\(weights ? "weight 0" : "-inf"))</text>\n"
        }
        if let note {
            out += "<text class=\"note\" x=\"4\" y=\"\(legendY + (maskedCount > 0 ? 50 : 32))\">(\(escapeXML(note)))</text>\n"
        }
        return out + "</g>\n</svg>\n"
    }
}
