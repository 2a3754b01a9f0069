/// How many terminal cells text takes: the one width function used everywhere (wrapping,
/// padding, truncation, cursor placement). Width is a property of a grapheme cluster
/// (`Character`), so ZWJ emoji, flags and VS16 sequences are one wide cell pair.
public enum TextWidth {
    /// 0, 1 or 2 cells. Control characters are 0 here: display them through `TerminalText`.
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if isZeroWidth(first) && scalars.count == 1 { return 0 }
        if first.properties.generalCategory == .control { return 0 }
        if scalars.count > 1 {
            // An emoji sequence (ZWJ, skin tone, keycap, or a text symbol made emoji by VS16)
            // and a flag (two regional indicators) are drawn two cells wide.
            if scalars.contains("\u{FE0F}") || scalars.contains("\u{200D}") && first.properties.isEmoji { return 2 }
            if isRegionalIndicator(first) { return 2 }
        }
        if first.properties.isEmojiPresentation || isEastAsianWide(first.value) { return 2 }
        return 1
    }

    public static func of(_ text: some StringProtocol) -> Int {
        text.reduce(0) { $0 + of($1) }
    }

    /// The longest prefix of `text` that fits in `cells`.
    public static func prefix(of text: String, fitting cells: Int) -> Substring {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let width = of(text[index])
            if used + width > cells { break }
            used += width
            end = text.index(after: index)
        }
        return text[..<end]
    }

    static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200B...0x200F, 0x2060...0x2064, 0xFEFF: true
        default:
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .format: true
            default: false
            }
        }
    }

    static func isRegionalIndicator(_ scalar: Unicode.Scalar) -> Bool {
        (0x1F1E6...0x1F1FF).contains(scalar.value)
    }

    /// East Asian Wide and Fullwidth (UAX #11): CJK, kana, Hangul, fullwidth forms.
    static func isEastAsianWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
            0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x16FE0...0x16FE4, 0x17000...0x18AFF, 0x1B000...0x1B2FF, 0x1F200...0x1F2FF,
            0x20000...0x2FFFD, 0x30000...0x3FFFD:
            true
        default:
            false
        }
    }
}
