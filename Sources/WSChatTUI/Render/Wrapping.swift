/// Breaks styled text into rows of at most `width` cells: at a space when it can, inside a
/// word when it must, and never across a wide character.
enum Wrapping {
    typealias Segment = (text: String, style: Style)

    static func wrap(_ segments: [Segment], width: Int) -> [[Segment]] {
        guard width > 0 else { return [] }
        var rows: [[Segment]] = [[]]
        var column = 0
        func place(_ text: String, _ style: Style) {
            if let last = rows[rows.count - 1].last, last.style == style {
                rows[rows.count - 1][rows[rows.count - 1].count - 1].text += text
            } else {
                rows[rows.count - 1].append((text, style))
            }
        }
        func newRow() {
            rows.append([])
            column = 0
        }
        for segment in segments {
            for token in tokens(segment.text) {
                if token == "\n" {
                    newRow()
                    continue
                }
                let tokenWidth = TextWidth.of(token)
                if column + tokenWidth <= width {
                    place(token, segment.style)
                    column += tokenWidth
                } else if token.allSatisfy({ $0 == " " }) {
                    newRow()  // a break: the space is not carried to the next row
                } else if tokenWidth <= width && column > 0 {
                    newRow()
                    place(token, segment.style)
                    column = tokenWidth
                } else {
                    for character in token {
                        let cells = TextWidth.of(character)
                        if column + cells > width { newRow() }
                        place(String(character), segment.style)
                        column += cells
                    }
                }
            }
        }
        return rows
    }

    /// Words, runs of spaces, and newlines; CJK characters each stand alone, since they
    /// may break anywhere.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        func flush() {
            if !word.isEmpty { tokens.append(word) }
            word = ""
        }
        for character in text {
            if character == "\n" {
                flush()
                tokens.append("\n")
            } else if character == " " {
                if word.first != " " { flush() }
                word.append(character)
            } else if TextWidth.of(character) >= 2 {
                flush()
                tokens.append(String(character))
            } else {
                if word.first == " " { flush() }
                word.append(character)
            }
        }
        flush()
        return tokens
    }
}
