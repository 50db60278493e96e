import Foundation
import Lang
import Tensor

/// Line plots: loss curves and the like, in the terminal (and in --html transcripts) and
/// as SVG files (docs/LANGUAGE.md §6.12): one or more series of (x, y) points on shared axes.
struct LinePlot: Figure {
    let x: [Double]
    let series: [[Double]]
    let labels: [String]
    let title: String?

    static let marks: [Character] = ["*", "+", "o", "x", "#"]
    /// ANSI colours of the series, in turn.
    static let colors = [33, 36, 35, 32, 31]
    static let svgColors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]

    init(x: [Double], series: [[Double]], labels: [String], title: String?) {
        self.x = x
        self.series = series
        self.labels = labels
        self.title = title
    }

    /// `values` as doubles, with a check for Ctrl-C every chunk (a series may have 10^8 points).
    static func doubles(_ values: [Float]) throws -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        var poll = Interrupt.Poll()
        try poll.run(values.count) { start, count in
            for i in start..<(start + count) { out[i] = Double(values[i]) }
        }
        return out
    }

    /// The finite extent of the points: (x low, x high, y low, y high), each range made
    /// non-empty.
    var extent: (Double, Double, Double, Double) {
        var xl = Double.infinity, xh = -Double.infinity, yl = Double.infinity, yh = -Double.infinity
        for y in series {
            for (i, v) in y.enumerated() where v.isFinite && x[i].isFinite {
                if i & 0xFFFF == 0 && Interrupt.isRequested { break }
                xl = Swift.min(xl, x[i]); xh = Swift.max(xh, x[i]); yl = Swift.min(yl, v); yh = Swift.max(yh, v)
            }
        }
        if !xl.isFinite { (xl, xh, yl, yh) = (0, 1, 0, 1) }
        if xh == xl { xh = xl + 1 }
        if yh == yl { (yl, yh) = (yl - 0.5, yh + 0.5) }
        return (xl, xh, yl, yh)
    }

    private static func number(_ v: Double) -> String {
        Summary.significant(Float(v))
    }

    func terminal(color: Bool, width: Int) throws -> String {
        let (xl, xh, yl, yh) = extent
        let yLabels = [Self.number(yh), Self.number((yl + yh) / 2), Self.number(yl)]
        let margin = (yLabels.map(\.count).max() ?? 1) + 1
        let columns = Swift.max(10, Swift.min(width, 100) - margin - 2), rows = 12
        var grid = Array(repeating: Array(repeating: (Character(" "), -1), count: columns), count: rows)
        for (s, y) in series.enumerated() {
            var previous: (Int, Int)? = nil
            for (i, v) in y.enumerated() {
                if i & 0xFFFF == 0 { try Interrupt.check() }
                guard v.isFinite, x[i].isFinite else { previous = nil; continue }
                let c = Int(((x[i] - xl) / (xh - xl) * Double(columns - 1)).rounded())
                let r = rows - 1 - Int(((v - yl) / (yh - yl) * Double(rows - 1)).rounded())
                // Join to the previous point with the series' dots, so a line reads as one.
                if let (pc, pr) = previous, abs(c - pc) + abs(r - pr) > 1 {
                    let steps = Swift.max(abs(c - pc), abs(r - pr))
                    for k in 1..<steps {
                        let cc = pc + (c - pc) * k / steps, rr = pr + (r - pr) * k / steps
                        if grid[rr][cc].1 < 0 { grid[rr][cc] = (".", s) }
                    }
                }
                grid[r][c] = (Self.marks[s % Self.marks.count], s)
                previous = (c, r)
            }
        }
        var out = ""
        if let title { out += String(repeating: " ", count: Swift.max(0, margin + (columns - title.count) / 2)) + title + "\n" }
        for (r, line) in grid.enumerated() {
            let label = r == 0 ? yLabels[0] : r == rows / 2 ? yLabels[1] : r == rows - 1 ? yLabels[2] : ""
            out += String(repeating: " ", count: margin - 1 - label.count) + label + " |"
            for (mark, s) in line {
                if color && s >= 0 {
                    out += "\u{1B}[\(Self.colors[s % Self.colors.count])m\(mark)\u{1B}[0m"
                } else {
                    out.append(mark)
                }
            }
            out = String(out.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        let left = Self.number(xl), right = Self.number(xh)
        out += String(repeating: " ", count: margin) + "+" + String(repeating: "-", count: columns) + "\n"
        out += String(repeating: " ", count: margin) + left + String(repeating: " ", count: Swift.max(1, columns + 1 - left.count - right.count)) + right + "\n"
        if !labels.isEmpty {
            out += String(repeating: " ", count: margin) + labels.enumerated().map { "\(Self.marks[$0.offset % Self.marks.count]) \($0.element)" }.joined(separator: "   ") + "\n"
        }
        return out
    }

    func svg(standalone: Bool) throws -> String {
        let (xl, xh, yl, yh) = extent
        let (left, right) = (70, 20)
        let legend = legendPlaces(from: left, to: 640 - right)
        let legendRows = (legend.map(\.row).max() ?? -1) + 1
        let (w, h) = (640, 360 + 16 * Swift.max(legendRows - 1, 0))
        let (top, bottom) = (title == nil ? 20 : 40, labels.isEmpty ? 40 : 44 + 16 * legendRows)
        let pw = Double(w - left - right), ph = Double(h - top - bottom)
        func px(_ v: Double) -> String { formatC(Double(left) + (v - xl) / (xh - xl) * pw, "%.1f") }
        func py(_ v: Double) -> String { formatC(Double(top) + (yh - v) / (yh - yl) * ph, "%.1f") }
        var out = "<svg" + (standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : "")
        out += " width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"monospace\" font-size=\"11\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        if let title { out += "<text x=\"\(w / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(escapeXML(title))</text>\n" }
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(Int(pw))\" height=\"\(Int(ph))\" fill=\"none\" stroke=\"#999\"/>\n"
        for v in [yl, (yl + yh) / 2, yh] {
            out += "<text x=\"\(left - 6)\" y=\"\(py(v))\" text-anchor=\"end\" dominant-baseline=\"middle\">\(escapeXML(Self.number(v)))</text>\n"
        }
        for v in [xl, (xl + xh) / 2, xh] {
            out += "<text x=\"\(px(v))\" y=\"\(h - bottom + 16)\" text-anchor=\"middle\">\(escapeXML(Self.number(v)))</text>\n"
        }
        for (s, y) in series.enumerated() {
            let colour = Self.svgColors[s % Self.svgColors.count]
            // A run of finite points is one polyline; nan and inf points break the line.
            var run: [String] = []
            func flush() {
                if run.count == 1 { out += "<circle cx=\"\(run[0].split(separator: ",")[0])\" cy=\"\(run[0].split(separator: ",")[1])\" r=\"2\" fill=\"\(colour)\"/>\n" }
                if run.count > 1 { out += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(run.joined(separator: " "))\"/>\n" }
                run = []
            }
            for (i, v) in y.enumerated() {
                if i & 0xFFFF == 0 { try Interrupt.check() }
                if v.isFinite && x[i].isFinite { run.append("\(px(x[i])),\(py(v))") } else { flush() }
            }
            flush()
        }
        for (s, label) in labels.enumerated() {
            let lx = legend[s].x, ly = h - bottom + 42 + 16 * legend[s].row
            out += "<line x1=\"\(lx)\" y1=\"\(ly)\" x2=\"\(lx + 20)\" y2=\"\(ly)\" stroke=\"\(Self.svgColors[s % Self.svgColors.count])\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(lx + 26)\" y=\"\(ly + 4)\">\(escapeXML(label))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// Where each legend entry starts: its line (20 px), a gap and its label (11 px
    /// monospace, under 7 px a character), side by side from `left`, a new row when
    /// the next entry would pass `right`.
    private func legendPlaces(from left: Int, to right: Int) -> [(x: Int, row: Int)] {
        var places: [(x: Int, row: Int)] = []
        var x = left, row = 0
        for label in labels {
            let width = 26 + 7 * label.count + 20
            if x > left && x + width > right { (x, row) = (left, row + 1) }
            places.append((x, row))
            x += width
        }
        return places
    }
}
