import Foundation
import WSChatProtocol

/// How a message's time is shown (`time_format` in config.toml), in strftime's notation:
/// `%H` `%M` `%S` (24-hour clock), `%I` `%p` (12-hour clock and AM/PM), `%Y` `%m` `%d`, `%%`;
/// anything else is shown as written. Every field is zero-padded, so every time takes the same
/// cells and continuation rows line up. Worked out with arithmetic from the zone's offset at
/// that instant: a redraw formats a screenful of times, and Calendar costs microseconds each.
public struct TimeFormat: Equatable, Sendable {
    enum Field: Equatable, Sendable {
        case text(String)
        case hour24, minute, second, hour12, amPM, year, month, day
    }

    public let pattern: String
    let fields: [Field]

    /// `HH:MM`.
    public static let standard = TimeFormat(pattern: "%H:%M", fields: [.hour24, .text(":"), .minute])

    /// `YYYY-MM-DD`, for lines from other days (search matches).
    public static let isoDate = TimeFormat(
        pattern: "%Y-%m-%d", fields: [.year, .text("-"), .month, .text("-"), .day])

    private init(pattern: String, fields: [Field]) {
        self.pattern = pattern
        self.fields = fields
    }

    /// Reads a pattern; throws naming a `%` it does not know, or an empty or overlong pattern.
    public init(_ pattern: String) throws(TimeFormatError) {
        guard !pattern.isEmpty, pattern.count <= Self.maxLength else {
            throw TimeFormatError("a time format is 1 to \(Self.maxLength) characters, such as \"%H:%M\"")
        }
        var fields: [Field] = []
        var text = ""
        var characters = pattern.makeIterator()
        while let character = characters.next() {
            guard character == "%" else {
                text.append(TerminalText.singleLine(String(character)))
                continue
            }
            let field: Field
            switch characters.next() {
            case "H": field = .hour24
            case "M": field = .minute
            case "S": field = .second
            case "I": field = .hour12
            case "p": field = .amPM
            case "Y": field = .year
            case "m": field = .month
            case "d": field = .day
            case "%":
                text.append("%")
                continue
            case let other:
                let shown = other.map { "%\($0)" } ?? "a % at the end"
                throw TimeFormatError(
                    "\(shown) is not a time field: use %H %M %S (24-hour), %I %p (12-hour), %Y %m %d, or %% for a %")
            }
            if !text.isEmpty { fields.append(.text(text)) }
            text = ""
            fields.append(field)
        }
        if !text.isEmpty { fields.append(.text(text)) }
        self.init(pattern: pattern, fields: fields)
    }

    public static let maxLength = 40

    /// The time `milliseconds` after the epoch, in `timeZone`.
    public func format(_ milliseconds: Int64, timeZone: TimeZone) -> String {
        let seconds = milliseconds.floorDivided(by: 1000)
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
        let local = seconds + offset
        let days = local.floorDivided(by: 86_400)
        let secondOfDay = local - days * 86_400
        let hour = Int(secondOfDay / 3600)
        var result = ""
        for field in fields {
            switch field {
            case .text(let text): result += text
            case .hour24: result += Self.padded(hour, 2)
            case .minute: result += Self.padded(Int(secondOfDay / 60 % 60), 2)
            case .second: result += Self.padded(Int(secondOfDay % 60), 2)
            case .hour12: result += Self.padded(hour % 12 == 0 ? 12 : hour % 12, 2)
            case .amPM: result += hour < 12 ? "AM" : "PM"
            case .year: result += Self.padded(Self.civil(days).year, 4)
            case .month: result += Self.padded(Self.civil(days).month, 2)
            case .day: result += Self.padded(Self.civil(days).day, 2)
            }
        }
        return result
    }

    private static func padded(_ number: Int, _ digits: Int) -> String {
        let text = String(number)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

/// A `time_format` that cannot be used, and why.
public struct TimeFormatError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Int64 {
    /// Division rounding toward negative infinity, so that times before 1970 fall on the right day.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
