import Lang
import Tensor

/// Maps with labels, ready to draw: one matrix, a row of heads, or a grid of layers x
/// heads, on one colour scale.
struct HeatmapData: Figure {
    /// grid[layer][head]: matrices of the same shape, as rows of values.
    let grid: [[[[Float]]]]
    let rows: [String]
    let cols: [String]
    let title: String?
    /// The colour scale's ends: `range=` or the finite min and max of every panel.
    let low: Float
    let high: Float
    let rangeGiven: Bool
    let showValues: Bool
    /// Whether exact zeros are masked weights: every row of every panel is a distribution.
    let weights: Bool
    /// The smallest and largest finite values (0 when there are none).
    let finiteLow: Float
    let finiteHigh: Float
    let finiteCount: Int
    let nanCount: Int
    let infinityCount: Int
    let maskedCount: Int

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
        // One pass over the values (in plain loops: a million cells), polling Ctrl-C.
        var smallest = Float.infinity, largest = -Float.infinity
        var finite = 0, nan = 0, infinity = 0, negativeInfinity = 0, zeros = 0
        var distributions = c > 0
        for layer in layers {
            try layer.values.withUnsafeBufferPointer { values in
                for row in stride(from: 0, to: values.count, by: Swift.max(c, 1)) {
                    try poll.advance(by: c)
                    var sum = 0.0
                    for v in values[row..<Swift.min(row + c, values.count)] {
                        if v.isFinite {
                            finite += 1
                            smallest = Swift.min(smallest, v)
                            largest = Swift.max(largest, v)
                            if v < 0 || v > 1 { distributions = false }
                            if v == 0 { zeros += 1 }
                            sum += Double(v)
                        } else if v.isNaN {
                            nan += 1
                            distributions = false
                        } else if v > 0 {
                            infinity += 1
                            distributions = false
                        } else {
                            // A masked score: the row is not a distribution of weights.
                            negativeInfinity += 1
                            distributions = false
                        }
                    }
                    if abs(sum - 1) >= 1e-3 { distributions = false }
                }
            }
        }
        finiteLow = finite > 0 ? smallest : 0
        finiteHigh = finite > 0 ? largest : 0
        finiteCount = finite
        nanCount = nan
        infinityCount = infinity
        let isWeights = distributions && finite > 0
        weights = isWeights
        maskedCount = negativeInfinity + (isWeights ? zeros : 0)
        if let range {
            (low, high, rangeGiven) = (range.low, range.high, true)
        } else {
            (low, high, rangeGiven) = (finiteLow, finiteHigh, false)
        }
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
        let columns = cols.count
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
        // Column labels wider than a narrowed cell are written downwards, a character a line.
        let downwards = layout != preferred && longestColumn > cell
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
                    let lines = downwards
                        ? (0..<Swift.min(longestColumn, 8)).map { k in
                            cols.map { label in fit(k < label.count ? String(Array(label)[k]) : "", cell) }.joined(separator: separator)
                        }
                        : [cols.map { fit($0, cell) }.joined(separator: separator)]
                    for labels in lines {
                        out += trimmed(margin + heads.map { _ in fit(labels, panelWidth) }.joined(separator: gap)) + "\n"
                    }
                }
                for i in 0..<rows.count {
                    try poll.advance(by: columns * heads.count)
                    let line = fit(rows[i], labelWidth) + " " + heads.map { h in
                        layer[h][i].map(draw).joined(separator: separator) + padding
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
        if layout != preferred {
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
        let gap = 16
        let titleHeight = title == nil ? 0 : 24
        let headTitle = grid.contains { $0.count > 1 } ? 16 : 0
        let layerHeight = grid.count > 1 ? 16 : 0
        let headsPerRow = grid.map(\.count).max() ?? 1
        let bandHeight = layerHeight + headTitle + panelHeight + gap
        let top = titleHeight + columnLabelHeight
        // Wide enough for the title too (14 px monospace: under 9 px a character).
        let legendWidth = Swift.max(labelWidth, 7 * scaleText(low).count + 12) + 172 + 7 * scaleText(high).count
        let w = Swift.max(labelWidth + headsPerRow * (panelWidth + gap) + 10, 260, 9 * (title?.count ?? 0) + 20, legendWidth)
        let h = top + grid.count * bandHeight + 40
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
                    for (j, label) in columnLabels.enumerated() {
                        let x = x0 + j * cell + cell / 2 + 4
                        out += "<text transform=\"translate(\(x),\(top - 4)) rotate(-60)\">\(label)</text>\n"
                    }
                }
                for (i, row) in panel.enumerated() {
                    if hIndex == 0 {
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
        return out + "</g>\n</svg>\n"
    }
}
