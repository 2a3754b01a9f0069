/// The protocol's rules for `text` and `topic`: which bytes a server accepts.
public enum TextRules {
    /// Validates a `say`/`dm` text: 1 to `maxBytes` bytes, no control characters but `\n` and `\t`.
    public static func validateMessage(_ text: String, maxBytes: Int) throws(ProtocolError) {
        guard !text.isEmpty else {
            throw ProtocolError(.badText, "the text is empty")
        }
        let size = text.utf8.count
        guard size <= maxBytes else {
            throw ProtocolError(.tooLarge, "the text is \(size) bytes; the limit is \(maxBytes)")
        }
        try rejectControlCharacters(text)
    }

    /// Validates a topic: at most 512 bytes, the same characters as a message; `""` clears it.
    public static func validateTopic(_ topic: String) throws(ProtocolError) {
        let size = topic.utf8.count
        guard size <= Limits.maxTopicBytes else {
            throw ProtocolError(.tooLarge, "the topic is \(size) bytes; the limit is \(Limits.maxTopicBytes)")
        }
        try rejectControlCharacters(topic)
    }

    /// Whether a received scalar must be shown inert rather than passed to a terminal.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F, 0x80...0x9F: true
        default: false
        }
    }

    static func rejectControlCharacters(_ text: String) throws(ProtocolError) {
        for scalar in text.unicodeScalars where isControl(scalar) && scalar != "\n" && scalar != "\t" {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            throw ProtocolError(
                .badText,
                "the text contains the control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)"
            )
        }
    }
}
