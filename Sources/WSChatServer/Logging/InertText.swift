/// Makes text that a client chose (a nick, an `Origin` header, a reason) safe to put in a log
/// line or to say back in a refusal: control, bidi and invisible characters are written as
/// `\u{…}` escapes, so nobody can forge log lines, reorder them on screen or hide text in
/// them; long text is cut.
enum InertText {
    static let maxCharacters = 200

    static func escaped(_ text: some StringProtocol) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == maxCharacters {
                result += "…"
                break
            }
            count += 1
            if isUnsafe(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return properties.isBidiControl || properties.isDefaultIgnorableCodePoint
        }
    }
}
