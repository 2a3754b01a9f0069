/// Makes text from the network safe to draw: every control character (C0, DEL, C1, and so
/// every escape sequence's ESC) becomes visible caret notation, drawn in reverse video, so
/// nothing a remote user sends can move the cursor, recolour, retitle or ring the bell.
public enum Sanitizer {
    /// A piece of text to draw: ordinary, or the inert picture of a control character.
    public struct Run: Equatable, Sendable {
        public var text: String
        public var isControl: Bool
    }

    /// Splits `text` into runs; `\n` is kept as a line break and `\t` becomes spaces.
    public static func runs(_ text: String) -> [Run] {
        var runs: [Run] = []
        var plain = ""
        func flush() {
            if !plain.isEmpty { runs.append(Run(text: plain, isControl: false)) }
            plain = ""
        }
        for character in text {
            guard character.unicodeScalars.contains(where: isControl) else {
                plain.append(character)
                continue
            }
            for scalar in character.unicodeScalars {
                if scalar == "\n" {
                    plain.append("\n")
                } else if scalar == "\t" {
                    plain += "    "
                } else if isControl(scalar) {
                    flush()
                    runs.append(Run(text: caret(scalar), isControl: true))
                } else {
                    plain.unicodeScalars.append(scalar)
                }
            }
        }
        flush()
        return runs
    }

    /// One line of text with every control character (newlines too) made inert.
    public static func singleLine(_ text: String) -> String {
        runs(text).map { $0.isControl ? $0.text : $0.text.replacingOccurrences(of: "\n", with: " ") }.joined()
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        default: false
        }
    }

    /// `^[` for ESC, `^?` for DEL, `<9B>` for a C1 control.
    static func caret(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x00...0x1F: "^" + String(Character(Unicode.Scalar(UInt8(scalar.value + 0x40))))
        case 0x7F: "^?"
        default: "<" + String(scalar.value, radix: 16, uppercase: true) + ">"
        }
    }
}
