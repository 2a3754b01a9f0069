import Foundation
import WSChatClient
import WSChatProtocol

/// Turns engine events into the lines `wschat --plain` prints: readable text, or with
/// `--json` one JSON object per line (server frames exactly as received).
struct PlainFormatter {
    let json: Bool

    func lines(for event: EngineEvent, now: ContinuousClock.Instant) -> [String] {
        json ? jsonLines(for: event, now: now) : textLines(for: event, now: now)
    }

    // MARK: JSON

    private struct StateLine: Encodable {
        let type = "state"
        let state: String
        let attempt: Int?
        let retryIn: Int?
        let latencyMs: Int?
        let error: String?
    }

    private struct NoticeLine: Encodable {
        let type = "notice"
        let text: String
        var room: String?
    }

    private struct PendingLine: Encodable {
        let type: String
        let cid: String
        let room: String?
        let to: String?
        let text: String
        let code: String?
        let message: String?
    }

    private func jsonLines(for event: EngineEvent, now: ContinuousClock.Instant) -> [String] {
        switch event {
        case .server(_, let raw):
            return [Self.inertJSON(raw)]
        case .state(let state):
            let line: StateLine
            switch state {
            case .connecting(let attempt):
                line = StateLine(state: state.name, attempt: attempt, retryIn: nil, latencyMs: nil, error: nil)
            case .connected(let latency):
                line = StateLine(
                    state: state.name, attempt: nil, retryIn: nil, latencyMs: latency.map(Self.milliseconds), error: nil
                )
            case .reconnecting(let retryAt, let attempt, let error):
                let retryIn = max(0, Int((Double(Self.milliseconds(now.duration(to: retryAt))) / 1000).rounded(.up)))
                line = StateLine(state: state.name, attempt: attempt, retryIn: retryIn, latencyMs: nil, error: error)
            case .offline(let reason):
                line = StateLine(state: state.name, attempt: nil, retryIn: nil, latencyMs: nil, error: reason)
            }
            return [Self.encode(line)]
        case .notice(let text):
            return [Self.encode(NoticeLine(text: text))]
        case .olderHistoryNotShown(let room):
            return [Self.encode(NoticeLine(text: EngineEvent.olderHistoryNotice(room: room), room: room))]
        case .pending(let message):
            return [Self.encode(Self.line("pending", message, error: nil))]
        case .failed(let message, let error):
            return [Self.encode(Self.line("failed", message, error: error))]
        case .undelivered(let message):
            return [Self.encode(Self.line("undelivered", message, error: nil))]
        }
    }

    private static func line(_ type: String, _ message: PendingMessage, error: ProtocolError?) -> PendingLine {
        var room: String?
        var to: String?
        switch message.target {
        case .room(let name): room = name
        case .nick(let nick): to = nick
        }
        return PendingLine(
            type: type, cid: message.cid, room: room, to: to, text: message.text, code: error?.code.rawValue,
            message: error?.message)
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Text

    private func textLines(for event: EngineEvent, now: ContinuousClock.Instant) -> [String] {
        switch event {
        case .state(let state):
            return ["-- \(state.summary(now: now))"]
        case .notice(let text):
            return ["-- \(TerminalText.singleLine(text))"]
        case .olderHistoryNotShown(let room):
            return ["-- \(TerminalText.singleLine(EngineEvent.olderHistoryNotice(room: room)))"]
        case .pending:
            return []
        case .undelivered(let message):
            return ["!! not delivered: \(TerminalText.singleLine(message.text))"]
        case .failed(let message, let error):
            return [
                "!! not sent (\(error.code.rawValue): \(TerminalText.singleLine(error.message))): \(TerminalText.singleLine(message.text))"
            ]
        case .server(let message, _):
            return serverLines(message)
        }
    }

    private func serverLines(_ message: ServerMessage) -> [String] {
        switch message {
        case .welcome(let welcome):
            var lines = [
                "-- welcome to \(TerminalText.singleLine(welcome.server)), \(TerminalText.singleLine(welcome.nick))"
            ]
            if let motd = welcome.motd { lines.append("-- \(TerminalText.singleLine(motd))") }
            return lines
        case .joined(let joined):
            let topic = joined.topic.isEmpty ? "" : " — \(TerminalText.singleLine(joined.topic))"
            return ["-- joined #\(TerminalText.singleLine(joined.room)) (\(joined.members.count) here)\(topic)"]
                + joined.history.map(Self.chatLine)
        case .parted(let room):
            return ["-- left #\(TerminalText.singleLine(room))"]
        case .message(let chat):
            return [Self.chatLine(chat)]
        case .dm(let dm):
            return [Self.directLine(dm)]
        case .presence(let presence):
            let reason = presence.reason.map { " (\(TerminalText.singleLine($0)))" } ?? ""
            let verb =
                switch presence.event {
                case .join: "joined"
                case .part: "left"
                case .quit: "quit"
                }
            return [
                "-- #\(TerminalText.singleLine(presence.room)): \(TerminalText.singleLine(presence.nick)) \(verb)\(reason)"
            ]
        case .nick(let old, let new):
            return ["-- \(TerminalText.singleLine(old)) is now \(TerminalText.singleLine(new))"]
        case .topic(let change):
            return [
                "-- #\(TerminalText.singleLine(change.room)): \(TerminalText.singleLine(change.by)) set the topic: \(TerminalText.singleLine(change.topic))"
            ]
        case .rooms(let rooms):
            return rooms.isEmpty
                ? ["-- no rooms"]
                : rooms.map {
                    "-- #\(TerminalText.singleLine($0.room)) (\($0.members)) \(TerminalText.singleLine($0.topic))"
                }
        case .members(let room, let members, let away):
            return ["-- #\(TerminalText.singleLine(room)): \(PresenceText.members(members, away: away))"]
        case .away(let away):
            return ["-- " + PresenceText.away(away, isOwn: false)]
        case .whois(let whois):
            return PresenceText.whois(whois, timeZone: .current).map { "-- " + $0 }
        case .pong(let t):
            return ["-- pong \(t)"]
        case .error(let error):
            return ["!! \(error.code.rawValue): \(TerminalText.singleLine(error.message))"]
        case .found(let found):
            let scope = found.room.map { "#\(TerminalText.singleLine($0))" } ?? "every room"
            return ["-- search \"\(TerminalText.singleLine(found.text))\" in \(scope): \(found.matches.count) found"]
                + found.matches.map(Self.chatLine) + (found.more ? ["-- more messages match"] : [])
        case .history(let page):
            let room = "#\(TerminalText.singleLine(page.room))"
            return ["-- older messages of \(room):"] + page.messages.map(Self.chatLine)
                + (page.more ? [] : ["-- beginning of \(room)"])
        case .directHistory(let page):
            let peer = TerminalText.singleLine(page.with)
            return ["-- earlier direct messages with \(peer):"] + page.messages.map(Self.directLine)
                + (page.more ? [] : ["-- beginning of your direct messages with \(peer)"])
        }
    }

    static func directLine(_ dm: DirectMessage) -> String {
        "\(time(dm.ts)) <\(TerminalText.singleLine(dm.from)) → \(TerminalText.singleLine(dm.to))> \(TerminalText.singleLine(dm.text))"
    }

    static func chatLine(_ message: ChatMessage) -> String {
        let room = "#\(TerminalText.singleLine(message.room))"
        if message.action == true {
            return
                "\(time(message.ts)) \(room) * \(TerminalText.singleLine(message.from)) \(TerminalText.singleLine(message.text))"
        }
        return
            "\(time(message.ts)) \(room) <\(TerminalText.singleLine(message.from))> \(TerminalText.singleLine(message.text))"
    }

    static func time(_ milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let components = Calendar.current.dateComponents([.hour, .minute], from: date)
        return String(format: "[%02d:%02d]", components.hour ?? 0, components.minute ?? 0)
    }

    /// A frame as received, made one line of valid, inert JSON: inside strings, control and
    /// bidi characters a lax server left raw become `\u` escapes (JSON does not allow them raw,
    /// and `jq` refuses them); between values, line breaks become spaces.
    static func inertJSON(_ raw: String) -> String {
        guard raw.unicodeScalars.contains(where: { TerminalText.isInert($0) }) else { return raw }
        var result = String.UnicodeScalarView()
        var inString = false
        var escaped = false
        for scalar in raw.unicodeScalars {
            if inString {
                if escaped {
                    escaped = false
                } else if scalar == "\\" {
                    escaped = true
                } else if scalar == "\"" {
                    inString = false
                } else if TerminalText.isInert(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    result.append(
                        contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
                    continue
                }
            } else if scalar == "\"" {
                inString = true
            } else if TerminalText.isInert(scalar) {
                result.append(" ")
                continue
            }
            result.append(scalar)
        }
        return String(result)
    }
}
