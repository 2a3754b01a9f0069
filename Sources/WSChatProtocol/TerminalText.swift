/// Makes text from the network safe to show on a terminal, for every front end (the full
/// screen UI and line mode): each control character (C0, DEL, C1, and so every escape
/// sequence's ESC) and each bidi control that reorders the rest of a line (U+202A–U+202E,
/// U+2066–U+2069) becomes a visible, inert picture, so that nothing a remote user sends can
/// move the cursor, recolour, retitle, ring the bell or make text read backwards.
public enum TerminalText {
    /// A piece of text to show: ordinary, or the inert picture of a control character.
    public struct Run: Equatable, Sendable {
        public var text: String
        public var isControl: Bool

        public init(text: String, isControl: Bool) {
            self.text = text
            self.isControl = isControl
        }
    }

    /// Splits `text` into runs; `\n` is kept as a line break and `\t` becomes spaces.
    public static func runs(_ text: String) -> [Run] {
        // Most text has nothing to show as a picture: it is one plain run as it is.
        guard containsInert(text) else { return text.isEmpty ? [] : [Run(text: text, isControl: false)] }
        var runs: [Run] = []
        var plain = ""
        func flush() {
            if !plain.isEmpty { runs.append(Run(text: plain, isControl: false)) }
            plain = ""
        }
        for character in text {
            guard character.unicodeScalars.contains(where: isInert) else {
                plain.append(character)
                continue
            }
            for scalar in character.unicodeScalars {
                if scalar == "\n" {
                    plain.append("\n")
                } else if scalar == "\t" {
                    plain += "    "
                } else if isInert(scalar) {
                    flush()
                    runs.append(Run(text: picture(of: scalar), isControl: true))
                } else {
                    plain.unicodeScalars.append(scalar)
                }
            }
        }
        flush()
        return runs
    }

    /// One line of text, inert: a line break is shown as ` ↵ `, so one event stays one line.
    public static func singleLine(_ text: String) -> String {
        guard containsInert(text) else { return text }
        return runs(text).map { $0.isControl ? $0.text : $0.text.replacingOccurrences(of: "\n", with: " ↵ ") }.joined()
    }

    /// Whether any scalar of `text` is inert (a line break included).
    static func containsInert(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isInert)
    }

    /// Whether a scalar is shown as a picture rather than passed to the terminal.
    public static func isInert(_ scalar: Unicode.Scalar) -> Bool {
        TextRules.isControl(scalar) || reordersWhatFollows(scalar)
    }

    /// Bidi embeddings, overrides and isolates: each can reverse what follows it.
    static func reordersWhatFollows(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    /// `^[` for ESC, `^?` for DEL, `<U+009B>` for a C1 control or a bidi control.
    public static func picture(of scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x00...0x1F: "^" + String(Character(Unicode.Scalar(UInt8(scalar.value + 0x40))))
        case 0x7F: "^?"
        default:
            "<U+" + String(repeating: "0", count: max(0, 4 - String(scalar.value, radix: 16).count))
                + String(scalar.value, radix: 16, uppercase: true) + ">"
        }
    }
}
