import Foundation
import WSChatProtocol

/// How both front ends say who is away and what `whois` found, in one wording; every name and
/// reason made inert for a terminal.
public enum PresenceText {
    /// "bob is away: lunch", "bob is back"; for the user: "you are away: lunch (/back …)".
    public static func away(_ away: ServerMessage.Away, isOwn: Bool) -> String {
        let who = isOwn ? "you are" : "\(TerminalText.singleLine(away.nick)) is"
        guard let reason = away.reason else { return "\(who) back" }
        return "\(who) away: \(TerminalText.singleLine(reason))" + (isOwn ? " (/back when you are back)" : "")
    }

    /// Members separated by spaces, the away ones marked.
    public static func members(_ members: [String], away: [String]?) -> String {
        let awayKeys = Set((away ?? []).map(Nick.key(of:)))
        guard !members.isEmpty else { return "nobody" }
        return members.map { TerminalText.singleLine($0) + (awayKeys.contains(Nick.key(of: $0)) ? " (away)" : "") }
            .joined(separator: " ")
    }

    /// `whois` as lines: the nick and rooms, since when connected and how long quiet, and why away.
    public static func whois(_ whois: ServerMessage.Whois, timeZone: TimeZone) -> [String] {
        let nick = TerminalText.singleLine(whois.nick)
        let rooms = whois.rooms.map { "#" + TerminalText.singleLine($0) }.joined(separator: " ")
        let since =
            TimeFormat.isoDate.format(whois.since, timeZone: timeZone) + " "
            + TimeFormat.standard.format(whois.since, timeZone: timeZone)
        var lines = [
            "\(nick): \(whois.rooms.isEmpty ? "in no room" : "in \(rooms)")",
            "\(nick): connected since \(since), idle \(duration(whois.idle))",
        ]
        if let reason = whois.away { lines.append("\(nick): away: \(TerminalText.singleLine(reason))") }
        return lines
    }

    /// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
    static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(max(0, seconds)) s"
        case ..<3600: "\(seconds / 60) min"
        case ..<86_400: "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
        }
    }
}
