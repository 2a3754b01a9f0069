/// A screen as an array of cells, drawn by the renderer and painted by the terminal layer.
/// Tests read it back as text, so layout is tested without a terminal.
public struct CellGrid: Equatable, Sendable {
    public struct Cell: Equatable, Sendable {
        /// One grapheme cluster; empty for the cells to the right of a wide character.
        public var text: String
        public var style: Style
        public var isContinuation: Bool { text.isEmpty }

        public static let blank = Cell(text: " ", style: .plain)
    }

    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        cells[y * width + x]
    }

    /// Draws `text` from column `x` on row `y`, never past `limit` (exclusive): a wide
    /// character that would straddle the limit is left out. Returns the next free column.
    @discardableResult
    public mutating func put(_ text: some StringProtocol, x: Int, y: Int, limit: Int? = nil, style: Style) -> Int {
        let end = min(limit ?? width, width)
        guard y >= 0, y < height else { return x }
        var column = x
        for character in text {
            let cells = TextWidth.of(character)
            guard cells > 0 else { continue }
            guard column + cells <= end else { break }
            if column >= 0 {
                self.cells[y * width + column] = Cell(text: String(character), style: style)
                for extra in 1..<cells { self.cells[y * width + column + extra] = Cell(text: "", style: style) }
            }
            column += cells
        }
        return column
    }

    /// Fills columns `x..<limit` of row `y` with blanks in `style`.
    public mutating func fill(y: Int, from x: Int, to limit: Int, style: Style) {
        guard y >= 0, y < height else { return }
        for column in max(x, 0)..<min(limit, width) {
            cells[y * width + column] = Cell(text: " ", style: style)
        }
    }

    /// Row `y` as text (wide characters once), for tests and debugging.
    public func row(_ y: Int) -> String {
        (0..<width).map { self[$0, y].text }.joined()
    }

    /// The whole grid as lines of text.
    public var text: String { (0..<height).map(row).joined(separator: "\n") }
}
