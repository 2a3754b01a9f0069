import Synchronization

/// How a terminal draws emoji sequences, which differs between terminals: whether it joins
/// a ZWJ sequence (👨‍👩‍👧‍👦) or a skin-tone modifier (👍🏽) into one glyph, and whether VS16
/// makes a text symbol (❤️) two cells wide. Modern terminals do all three; tmux 3.3 joins ZWJ
/// sequences only. The terminal layer asks the terminal at start (`CursesScreen`).
public struct EmojiRendering: Equatable, Sendable {
    public var joinsZWJSequences: Bool
    public var joinsModifiers: Bool
    public var widensWithVS16: Bool

    public init(joinsZWJSequences: Bool = true, joinsModifiers: Bool = true, widensWithVS16: Bool = true) {
        self.joinsZWJSequences = joinsZWJSequences
        self.joinsModifiers = joinsModifiers
        self.widensWithVS16 = widensWithVS16
    }

    /// What Unicode (UTS #51) says, and what a terminal that never answers is taken to do.
    public static let unicode = EmojiRendering()

    var bits: UInt8 {
        (joinsZWJSequences ? 1 : 0) | (joinsModifiers ? 2 : 0) | (widensWithVS16 ? 4 : 0)
    }

    init(bits: UInt8) {
        self.init(joinsZWJSequences: bits & 1 != 0, joinsModifiers: bits & 2 != 0, widensWithVS16: bits & 4 != 0)
    }
}

/// How many terminal cells text takes: the one width function used everywhere (wrapping,
/// padding, truncation, cursor placement). Width is a property of a grapheme cluster
/// (`Character`): a flag is two cells, and an emoji sequence is as wide as the terminal in
/// use draws it (`emojiRendering`), so that what is painted never pushes a row out of line.
public enum TextWidth {
    private static let rendering = Atomic<UInt8>(EmojiRendering.unicode.bits)

    /// How the terminal in use draws emoji sequences; set once the terminal has been asked.
    public static var emojiRendering: EmojiRendering {
        get { EmojiRendering(bits: rendering.load(ordering: .relaxed)) }
        set { rendering.store(newValue.bits, ordering: .relaxed) }
    }

    /// Cells: 0 for a lone zero-width character, else 1 or more (an emoji sequence a terminal
    /// does not join takes the cells of its parts). Control characters are 0 here: display
    /// them through `TerminalText`.
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if scalars.index(after: scalars.startIndex) == scalars.endIndex {
            return commonWidth(first.value) ?? propertyWidth(first)
        }
        if first.properties.generalCategory == .control { return 0 }
        if isRegionalIndicator(first) { return 2 }
        if first.properties.isEmoji, scalars.contains(where: isEmojiJoiner) {
            return emojiSequenceWidth(scalars, emojiRendering)
        }
        return baseWidth(first)
    }

    /// A lone scalar's cells, from its Unicode properties.
    static func propertyWidth(_ scalar: Unicode.Scalar) -> Int {
        if isZeroWidth(scalar) || scalar.properties.generalCategory == .control { return 0 }
        return baseWidth(scalar)
    }

    /// The width of a lone scalar from the scripts most text is in (Latin, CJK ideographs,
    /// kana, Hangul), known without Unicode property lookups, which a redraw would otherwise
    /// make several times per character. Nil: ask the properties.
    static func commonWidth(_ value: UInt32) -> Int? {
        switch value {
        // Printable ASCII and Latin-1 up to the combining marks (U+00AD, the soft hyphen, is a
        // format character: zero cells).
        case 0x20...0x7E, 0xA0...0xAC, 0xAE...0x2FF: 1
        // Hiragana and katakana without their combining marks, CJK ideographs, Hangul syllables.
        case 0x3041...0x3096, 0x30A1...0x30FA, 0x4E00...0x9FFF, 0xAC00...0xD7A3: 2
        default: nil
        }
    }

    /// An emoji sequence's cells as a terminal with `rendering` draws it: each part it does
    /// not join to the one before takes cells of its own.
    static func emojiSequenceWidth(_ scalars: Character.UnicodeScalarView, _ rendering: EmojiRendering) -> Int {
        var total = 0
        var last = 0
        var afterJoiner = false
        for scalar in scalars {
            switch scalar.value {
            case 0x200D:
                afterJoiner = true
                continue
            case 0xFE0F:
                if rendering.widensWithVS16 && last == 1 {
                    total += 1
                    last = 2
                }
                continue
            case 0x1F3FB...0x1F3FF where total > 0 && rendering.joinsModifiers:
                continue
            default:
                break
            }
            if isZeroWidth(scalar) { continue }
            let joined = afterJoiner && total > 0 && rendering.joinsZWJSequences
            afterJoiner = false
            if joined { continue }
            last = scalar.value >= 0x1F3FB && scalar.value <= 0x1F3FF ? 2 : baseWidth(scalar)
            total += last
        }
        return max(total, 1)
    }

    /// What makes a cluster an emoji sequence: a joiner, an emoji presentation selector or
    /// a skin-tone modifier.
    static func isEmojiJoiner(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0x200D || scalar.value == 0xFE0F || (0x1F3FB...0x1F3FF).contains(scalar.value)
    }

    static func baseWidth(_ scalar: Unicode.Scalar) -> Int {
        scalar.properties.isEmojiPresentation || isEastAsianWide(scalar.value) ? 2 : 1
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
