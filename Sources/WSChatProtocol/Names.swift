import Foundation

/// A user's nick, validated and NFC-normalised; equal to another nick when their case folds match.
public struct Nick: Hashable, Sendable, CustomStringConvertible {
    /// The nick as its owner spells it.
    public let name: String
    /// The nick's identity on the server: NFC, Unicode case-folded.
    public let key: String

    public static let maxLength = 32
    static let punctuation: Set<Unicode.Scalar> = ["_", "-", "[", "]", "{", "}", "|"]

    /// Validates `raw` against the protocol's nick rules; throws `bad_nick` with the reason.
    public init(validating raw: String) throws(ProtocolError) {
        let name = raw.precomposedStringWithCanonicalMapping
        guard !name.isEmpty, name.count <= Self.maxLength else {
            throw ProtocolError(.badNick, "a nick is 1 to \(Self.maxLength) characters long")
        }
        if let bad = name.unicodeScalars.first(where: { !NameCharacters.isAllowed($0, extra: Self.punctuation) }) {
            throw ProtocolError(
                .badNick,
                "a nick may not contain \(NameCharacters.describe(bad)); use letters, digits and _ - [ ] { } |")
        }
        self.name = name
        self.key = NameCharacters.fold(name)
    }

    public static func == (lhs: Nick, rhs: Nick) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public var description: String { name }
}

/// A room's name, validated and NFC-normalised; compared by its case fold.
public struct RoomName: Hashable, Sendable, CustomStringConvertible {
    /// The name as typed (without a leading `#`).
    public let name: String
    /// The room's identity: NFC, Unicode case-folded.
    public let key: String

    public static let maxLength = 64
    static let punctuation: Set<Unicode.Scalar> = ["_", "-"]

    /// Validates `raw` against the protocol's room rules (a leading `#` is dropped); throws `bad_room`.
    public init(validating raw: String) throws(ProtocolError) {
        var name = raw.precomposedStringWithCanonicalMapping
        if name.hasPrefix("#") { name.removeFirst() }
        guard !name.isEmpty, name.count <= Self.maxLength else {
            throw ProtocolError(.badRoom, "a room name is 1 to \(Self.maxLength) characters long")
        }
        if let bad = name.unicodeScalars.first(where: { !NameCharacters.isAllowed($0, extra: Self.punctuation) }) {
            throw ProtocolError(
                .badRoom, "a room name may not contain \(NameCharacters.describe(bad)); use letters, digits, _ and -")
        }
        self.name = name
        self.key = NameCharacters.fold(name)
    }

    public static func == (lhs: RoomName, rhs: RoomName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public var description: String { name }
}

/// The character classes shared by nicks and room names.
enum NameCharacters {
    static func isAllowed(_ scalar: Unicode.Scalar, extra: Set<Unicode.Scalar>) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            true
        default:
            extra.contains(scalar)
        }
    }

    /// Unicode full case folding, approximated the standard way (upper- then lower-case maps
    /// `ß` to `ss` and every sigma to `σ`), then NFC so that folded forms compare equal.
    static func fold(_ name: String) -> String {
        name.uppercased().lowercased().precomposedStringWithCanonicalMapping
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = "U+" + String(scalar.value, radix: 16, uppercase: true)
        if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace {
            return hex
        }
        return "“\(scalar)” (\(hex))"
    }
}
