/// The web links in a message, as a reader would click them: `http://` or `https://` (any
/// case) not inside an ASCII word, up to a space, `<`, `>`, `"` or CJK punctuation, without
/// the sentence's trailing punctuation or an unbalanced closing parenthesis. The terminal UI
/// draws and hyperlinks them, and `/url` lists them.
public enum Links {
    /// Where the links are in `text`, in order.
    public static func ranges(in text: String) -> [Range<String.Index>] {
        // Most messages have no colon at all: no link either.
        guard text.utf8.contains(UInt8(ascii: ":")) else { return [] }
        let scalars = text.unicodeScalars
        var found: [Range<String.Index>] = []
        var index = scalars.startIndex
        var previous: Unicode.Scalar?
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if scalar == "h" || scalar == "H", !(previous.map(isASCIIWord) ?? false),
                let schemeEnd = schemeEnd(in: scalars, from: index)
            {
                var end = schemeEnd
                while end < scalars.endIndex, !endsLink(scalars[end]) { end = scalars.index(after: end) }
                end = trimmed(scalars, from: schemeEnd, to: end)
                if end > schemeEnd {
                    found.append(index..<end)
                    previous = scalars[scalars.index(before: end)]
                    index = end
                    continue
                }
            }
            previous = scalar
            index = scalars.index(after: index)
        }
        return found
    }

    public static func urls(in text: String) -> [String] {
        ranges(in: text).map { String(text[$0]) }
    }

    /// The link as a hyperlink target (OSC 8 takes printable ASCII): other bytes are
    /// percent-encoded, so no byte of it can end the escape sequence.
    public static func terminalTarget(_ url: String) -> String {
        var target = ""
        for byte in url.utf8 {
            if (0x21...0x7E).contains(byte) {
                target.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                target += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return target
    }

    /// After `http://` or `https://` starting at `start`, or nil.
    private static func schemeEnd(
        in scalars: String.UnicodeScalarView, from start: String.Index
    ) -> String.Index? {
        for scheme in ["http://", "https://"] {
            var index = start
            var matched = true
            for expected in scheme.unicodeScalars {
                guard index < scalars.endIndex,
                    String(scalars[index]).lowercased() == String(expected)
                else {
                    matched = false
                    break
                }
                index = scalars.index(after: index)
            }
            if matched { return index }
        }
        return nil
    }

    /// A letter, digit or `_` of ASCII: `xhttp://` is no link, but text in a script without
    /// spaces may run straight into one (`詳細はhttps://…`).
    private static func isASCIIWord(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
    }

    private static func endsLink(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x20, 0x7F, 0x22, 0x3C, 0x3E: true  // controls, space, " < >
        case 0x3000...0x303F, 0xFF01...0xFF0F, 0xFF1A...0xFF1F: true  // CJK and fullwidth punctuation
        default: scalar.properties.isWhitespace
        }
    }

    /// `end` moved back over punctuation that ends the sentence rather than the link.
    private static func trimmed(
        _ scalars: String.UnicodeScalarView, from start: String.Index, to end: String.Index
    ) -> String.Index {
        var end = end
        while end > start {
            let last = scalars[scalars.index(before: end)]
            let opens = scalars[start..<end].filter { $0 == "(" }.count
            let closes = scalars[start..<end].filter { $0 == ")" }.count
            if ".,;:!?'*".unicodeScalars.contains(last) || (last == ")" && closes > opens) {
                end = scalars.index(before: end)
            } else {
                break
            }
        }
        return end
    }
}
