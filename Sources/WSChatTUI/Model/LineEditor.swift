/// The input line: text as grapheme clusters, a caret between them, and the editing keys
/// of readline (Ctrl-A/E/K/U/W/Y, word motion).
public struct LineEditor: Equatable, Sendable {
    public private(set) var characters: [Character] = []
    /// The caret, as an index into `characters` (0…count).
    public private(set) var caret = 0
    /// What the last kill removed, for Ctrl-Y.
    private var killed: [Character] = []

    public init() {}

    public var text: String { String(characters) }
    public var isEmpty: Bool { characters.isEmpty }

    /// Replaces the whole line (history recall, completion), caret at the end.
    public mutating func set(_ text: String) {
        characters = Array(text)
        caret = characters.count
    }

    /// Takes the line for submission and clears it.
    public mutating func take() -> String {
        defer { set("") }
        return text
    }

    /// Inserts at the caret. Text is re-read as grapheme clusters, so a combining mark or a
    /// ZWJ typed after its base joins it instead of standing alone.
    public mutating func insert(_ text: String) {
        let before = String(characters[..<caret]) + text
        let after = String(characters[caret...])
        characters = Array(before + after)
        caret = min(Array(before).count, characters.count)
    }

    public mutating func deleteBackward() {
        guard caret > 0 else { return }
        caret -= 1
        characters.remove(at: caret)
    }

    public mutating func deleteForward() {
        guard caret < characters.count else { return }
        characters.remove(at: caret)
    }

    public mutating func moveLeft() { caret = max(0, caret - 1) }
    public mutating func moveRight() { caret = min(characters.count, caret + 1) }
    public mutating func moveHome() { caret = 0 }
    public mutating func moveEnd() { caret = characters.count }
    public mutating func moveWordLeft() { caret = wordStart(before: caret) }
    public mutating func moveWordRight() { caret = wordEnd(after: caret) }

    /// Ctrl-K: kill from the caret to the end.
    public mutating func killToEnd() { kill(caret..<characters.count) }
    /// Ctrl-U: kill from the start to the caret.
    public mutating func killToStart() { kill(0..<caret) }
    /// Ctrl-W: kill the word before the caret.
    public mutating func killWordBackward() { kill(wordStart(before: caret)..<caret) }

    /// Ctrl-Y: insert what was last killed.
    public mutating func yank() { insert(String(killed)) }

    /// The caret's column, in cells, from the start of the line.
    public var caretColumn: Int { TextWidth.of(String(characters[..<caret])) }

    /// The word the caret is in or just after, for completion: its range and text.
    public var wordBeforeCaret: (range: Range<Int>, text: String) {
        var start = caret
        while start > 0, !characters[start - 1].isWhitespace { start -= 1 }
        return (start..<caret, String(characters[start..<caret]))
    }

    public mutating func replace(_ range: Range<Int>, with text: String) {
        characters.replaceSubrange(range, with: Array(text))
        caret = range.lowerBound + text.count
    }

    private mutating func kill(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        killed = Array(characters[range])
        characters.removeSubrange(range)
        caret = range.lowerBound
    }

    private func wordStart(before index: Int) -> Int {
        var i = index
        while i > 0, !isWordCharacter(characters[i - 1]) { i -= 1 }
        while i > 0, isWordCharacter(characters[i - 1]) { i -= 1 }
        return i
    }

    private func wordEnd(after index: Int) -> Int {
        var i = index
        while i < characters.count, !isWordCharacter(characters[i]) { i += 1 }
        while i < characters.count, isWordCharacter(characters[i]) { i += 1 }
        return i
    }

    private func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }
}
