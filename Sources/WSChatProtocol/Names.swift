import Foundation

/// A user's nick, validated and NFC-normalised; equal to another nick when their folded keys match.
public struct Nick: Hashable, Sendable, CustomStringConvertible {
    /// The nick as its owner spells it.
    public let name: String
    /// The nick's identity on the server: NFKC, Unicode case-folded (`ａｌｉｃｅ` is `alice`).
    public let key: String

    public static let maxLength = 32
    /// A bound in bytes as well, so that a character stacked with marks cannot make a nick huge.
    public static let maxBytes = 4 * maxLength
    static let punctuation: Set<Unicode.Scalar> = ["_", "-", "[", "]", "{", "}", "|"]

    /// Validates `raw` against the protocol's nick rules; throws `bad_nick` with the reason.
    public init(validating raw: String) throws(ProtocolError) {
        let rules = NameRules(
            kind: "a nick", code: .badNick, maxLength: Self.maxLength, maxBytes: Self.maxBytes,
            punctuation: Self.punctuation, allowedSummary: "letters, digits and _ - [ ] { } |")
        self.name = try rules.validate(NameRules.nfc(raw))
        self.key = NameRules.fold(name)
    }

    /// A valid nick made from a name that may not be one (a login name such as `john.doe`):
    /// every character the rules refuse becomes `_`, and it is cut to `maxLength`. Nil when
    /// nothing usable is left.
    public static func derived(from raw: String) -> Nick? {
        var name = String(
            String.UnicodeScalarView(
                raw.precomposedStringWithCanonicalMapping.unicodeScalars.map {
                    (try? Nick(validating: String($0))) != nil ? $0 : "_"
                }))
        name = String(name.prefix(maxLength))
        guard name.contains(where: { $0 != "_" }) else { return nil }
        return try? Nick(validating: name)
    }

    /// The Unicode TS #39 skeletons of the nick: nicks that look alike (`alice`, `аlice` with a
    /// Cyrillic а; `alice`, `AIice` with a capital I) share one, so a server refuses a nick
    /// that shares a skeleton with a nick in use.
    public var skeletons: Set<String> { ConfusableSkeleton.of(shown: name, folded: key) }

    public static func == (lhs: Nick, rhs: Nick) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public var description: String { name }

    /// Whether two nicks as a server sends them name one user (`Alice` and `alice` do); text
    /// that is no valid nick matches only itself.
    /// What a client files a nick under: its folded key, or, for a name the rules refuse
    /// (a server of another kind may send one), the name lower-cased.
    public static func key(of raw: String) -> String {
        (try? Nick(validating: raw).key) ?? raw.lowercased()
    }

    public static func same(_ a: String, _ b: String) -> Bool {
        guard let a = try? Nick(validating: a), let b = try? Nick(validating: b) else { return a == b }
        return a == b
    }
}

/// A room's name, validated and NFC-normalised; compared by its folded key.
public struct RoomName: Hashable, Sendable, CustomStringConvertible {
    /// The name as typed (without a leading `#`).
    public let name: String
    /// The room's identity: NFKC, Unicode case-folded.
    public let key: String

    public static let maxLength = 64
    /// A bound in bytes as well, so that a character stacked with marks cannot make a name huge.
    public static let maxBytes = 4 * maxLength
    static let punctuation: Set<Unicode.Scalar> = ["_", "-"]

    /// Validates `raw` against the protocol's room rules (a leading `#` is dropped); throws `bad_room`.
    public init(validating raw: String) throws(ProtocolError) {
        var name = NameRules.nfc(raw)
        if name.hasPrefix("#") { name.removeFirst() }
        let rules = NameRules(
            kind: "a room name", code: .badRoom, maxLength: Self.maxLength, maxBytes: Self.maxBytes,
            punctuation: Self.punctuation, allowedSummary: "letters, digits, _ and -")
        self.name = try rules.validate(name)
        self.key = NameRules.fold(name)
    }

    /// What a client files a room under: its folded key, or, for a name the rules refuse, the
    /// name lower-cased.
    public static func key(of raw: String) -> String {
        (try? RoomName(validating: raw).key) ?? raw.lowercased()
    }

    /// The Unicode TS #39 skeletons of the name as shown and as folded: rooms that look alike share one.
    public var skeletons: Set<String> { ConfusableSkeleton.of(shown: name, folded: key) }

    public static func == (lhs: RoomName, rhs: RoomName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public var description: String { name }
}

/// The rules nicks and room names share: which characters, how long, and how they fold.
struct NameRules {
    let kind: String
    let code: ErrorCode
    let maxLength: Int
    let maxBytes: Int
    let punctuation: Set<Unicode.Scalar>
    let allowedSummary: String

    /// Returns `name` when it follows the rules; else throws `code` saying which rule it broke.
    func validate(_ name: String) throws(ProtocolError) -> String {
        guard !name.isEmpty, name.count <= maxLength else {
            throw ProtocolError(code, "\(kind) is 1 to \(maxLength) characters long")
        }
        guard name.utf8.count <= maxBytes else {
            throw ProtocolError(code, "\(kind) is at most \(maxBytes) bytes of UTF-8 (this one is \(name.utf8.count))")
        }
        if let first = name.unicodeScalars.first, Self.isMark(first) {
            throw ProtocolError(code, "\(kind) must start with a letter or digit, not a combining mark")
        }
        if !Self.isASCII(name),
            let invisible = name.unicodeScalars.first(where: \.properties.isDefaultIgnorableCodePoint)
        {
            throw ProtocolError(
                code,
                "\(kind) may not contain the invisible character \(Self.describe(invisible)); use \(allowedSummary)")
        }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            throw ProtocolError(code, "\(kind) may not contain \(Self.describe(bad)); use \(allowedSummary)")
        }
        return name
    }

    private func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || punctuation.contains(scalar)
        }
        return switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            true
        default:
            punctuation.contains(scalar)
        }
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }

    /// `raw` in NFC. ASCII is its own normal form (NFC and NFKC alike), and most names are
    /// ASCII: they skip Foundation's normalisation, which a busy client pays per message.
    static func nfc(_ raw: String) -> String {
        isASCII(raw) ? raw : raw.precomposedStringWithCanonicalMapping
    }

    static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// NFKC case folding, approximated the standard way: compatibility forms first
    /// (fullwidth `ａ`, mathematical `𝐚` become `a`), then upper- then lower-case (which maps
    /// `ß` to `ss` and every sigma to `σ`), then NFKC again so that folded forms compare equal.
    static func fold(_ name: String) -> String {
        if isASCII(name) { return name.lowercased() }
        return name.precomposedStringWithCompatibilityMapping.uppercased().lowercased()
            .precomposedStringWithCompatibilityMapping
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = "U+" + String(scalar.value, radix: 16, uppercase: true)
        let properties = scalar.properties
        if properties.generalCategory == .control || properties.isWhitespace || properties.isDefaultIgnorableCodePoint
            || properties.isBidiControl
        {
            return hex
        }
        return "“\(scalar)” (\(hex))"
    }
}
