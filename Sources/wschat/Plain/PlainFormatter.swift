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
            return [raw]
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
            return ["-- \(Self.inert(text))"]
        case .olderHistoryNotShown(let room):
            return ["-- \(Self.inert(EngineEvent.olderHistoryNotice(room: room)))"]
        case .pending:
            return []
        case .undelivered(let message):
            return ["!! not delivered: \(Self.inert(message.text))"]
        case .failed(let message, let error):
            return ["!! not sent (\(error.code.rawValue): \(Self.inert(error.message))): \(Self.inert(message.text))"]
        case .server(let message, _):
            return serverLines(message)
        }
    }

    private func serverLines(_ message: ServerMessage) -> [String] {
        switch message {
        case .welcome(let welcome):
            var lines = ["-- welcome to \(Self.inert(welcome.server)), \(Self.inert(welcome.nick))"]
            if let motd = welcome.motd { lines.append("-- \(Self.inert(motd))") }
            return lines
        case .joined(let joined):
            let topic = joined.topic.isEmpty ? "" : " — \(Self.inert(joined.topic))"
            return ["-- joined #\(Self.inert(joined.room)) (\(joined.members.count) here)\(topic)"]
                + joined.history.map(Self.chatLine)
        case .parted(let room):
            return ["-- left #\(Self.inert(room))"]
        case .message(let chat):
            return [Self.chatLine(chat)]
        case .dm(let dm):
            return ["\(Self.time(dm.ts)) <\(Self.inert(dm.from)) → \(Self.inert(dm.to))> \(Self.inert(dm.text))"]
        case .presence(let presence):
            let reason = presence.reason.map { " (\(Self.inert($0)))" } ?? ""
            let verb =
                switch presence.event {
                case .join: "joined"
                case .part: "left"
                case .quit: "quit"
                }
            return ["-- #\(Self.inert(presence.room)): \(Self.inert(presence.nick)) \(verb)\(reason)"]
        case .nick(let old, let new):
            return ["-- \(Self.inert(old)) is now \(Self.inert(new))"]
        case .topic(let change):
            return [
                "-- #\(Self.inert(change.room)): \(Self.inert(change.by)) set the topic: \(Self.inert(change.topic))"
            ]
        case .rooms(let rooms):
            return rooms.isEmpty
                ? ["-- no rooms"]
                : rooms.map { "-- #\(Self.inert($0.room)) (\($0.members)) \(Self.inert($0.topic))" }
        case .members(let room, let members):
            return ["-- #\(Self.inert(room)): \(members.map(Self.inert).joined(separator: " "))"]
        case .pong(let t):
            return ["-- pong \(t)"]
        case .error(let error):
            return ["!! \(error.code.rawValue): \(Self.inert(error.message))"]
        }
    }

    static func chatLine(_ message: ChatMessage) -> String {
        let room = "#\(inert(message.room))"
        if message.action == true {
            return "\(time(message.ts)) \(room) * \(inert(message.from)) \(inert(message.text))"
        }
        return "\(time(message.ts)) \(room) <\(inert(message.from))> \(inert(message.text))"
    }

    static func time(_ milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let components = Calendar.current.dateComponents([.hour, .minute], from: date)
        return String(format: "[%02d:%02d]", components.hour ?? 0, components.minute ?? 0)
    }

    /// Text from the network, made safe for a terminal: control characters become caret
    /// notation (`^[`), a newline becomes `↵` so that one event stays one line.
    static func inert(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += " ↵ "
            case "\t": result += " "
            case _ where scalar.value < 0x20: result += "^" + String(UnicodeScalar(UInt8(scalar.value + 0x40)))
            case _ where scalar.value == 0x7F: result += "^?"
            case _ where (0x80...0x9F).contains(scalar.value):
                result += "<U+\(String(scalar.value, radix: 16, uppercase: true))>"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
