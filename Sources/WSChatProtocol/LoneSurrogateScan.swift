/// Finds a `\uD800`–`\uDFFF` escape that is not half of a surrogate pair in JSON text.
///
/// JSON can spell a lone surrogate, a Swift `String` cannot hold one, so the decoder rejects
/// the whole frame. The protocol answers that case with `bad_text`, not `bad_request`; this
/// scan tells the two apart after decoding failed. It reads escapes only, not JSON structure.
enum LoneSurrogateScan {
    static func containsLoneSurrogate(_ json: String) -> Bool {
        let bytes = Array(json.utf8)
        var index = 0
        var pendingHigh = false
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                if pendingHigh { return true }
                index += 1
                continue
            }
            guard bytes[index + 1] == UInt8(ascii: "u"), let unit = hexValue(bytes, from: index + 2) else {
                if pendingHigh { return true }
                index += 2
                continue
            }
            switch unit {
            case 0xD800...0xDBFF:
                if pendingHigh { return true }
                pendingHigh = true
            case 0xDC00...0xDFFF:
                if !pendingHigh { return true }
                pendingHigh = false
            default:
                if pendingHigh { return true }
            }
            index += 6
        }
        return pendingHigh
    }

    private static func hexValue(_ bytes: [UInt8], from start: Int) -> UInt16? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for byte in bytes[start..<start + 4] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}
