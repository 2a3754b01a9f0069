import Foundation
import Synchronization
import WSChatProtocol

/// Two users chatting in a room of their own while something else happens to the server:
/// the speaker says a line every `interval` and waits for its echo; at the end both must have
/// every line, in id order with no gap, and neither may have seen an `error`.
public final class Witnesses: Sendable {
    public let speaker: TestClient
    public let listener: TestClient
    public let room: String
    private let state = Mutex(State())

    private struct State {
        var sent: [String] = []
        var slowestEcho: Duration = .zero
        var problems: [String] = []
    }

    /// What one stretch of chatter showed.
    public struct Report: Sendable {
        public let lines: Int
        public let slowestEcho: Duration
        public let problems: [String]
    }

    public init(speaker: TestClient, listener: TestClient, room: String) {
        self.speaker = speaker
        self.listener = listener
        self.room = room
    }

    /// Two users who joined `room` together.
    public static func join(url: String, room: String = "witnesses", nicks: (String, String)) async throws -> Witnesses
    {
        func user(_ nick: String) async throws -> TestClient {
            let client = try await TestClient.connect(
                url: url, subprotocol: "wschat.v1", compression: false, reading: true)
            try await client.hello(nick)
            try await client.join(room)
            return client
        }
        let speaker = try await user(nicks.0)
        let listener = try await user(nicks.1)
        _ = try await speaker.next { if case .presence(let p) = $0, p.nick == nicks.1 { p } else { nil } }
        return Witnesses(speaker: speaker, listener: listener, room: room)
    }

    /// Runs `action` while the witnesses chat, then checks what they saw.
    public func chat(
        every interval: Duration = .milliseconds(150), during action: @Sendable () async throws -> Void
    ) async throws -> Report {
        state.withLock { $0 = State() }
        let stop = Mutex(false)
        let chatter = Task { [self] in
            var line = 0
            while !stop.withLock({ $0 }) {
                line += 1
                try await say("line \(line)")
                try await Task.sleep(for: interval)
            }
            // At least one line after the action, so that it is checked in its aftermath too.
            try await say("after")
        }
        do {
            try await action()
        } catch {
            stop.withLock { $0 = true }
            _ = try? await chatter.value
            throw error
        }
        stop.withLock { $0 = true }
        try await chatter.value
        try await listenerReadsEverything()
        return state.withLock { Report(lines: $0.sent.count, slowestEcho: $0.slowestEcho, problems: $0.problems) }
    }

    private func say(_ text: String) async throws {
        let cid = UUID().uuidString
        let start = ContinuousClock.now
        state.withLock { $0.sent.append(cid) }
        try await speaker.send(.say(.init(room: room, text: text, cid: cid)))
        while true {
            switch try await speaker.next(timeout: .seconds(30)) {
            case .message(let message) where message.cid == cid:
                let echo = ContinuousClock.now - start
                state.withLock { $0.slowestEcho = max($0.slowestEcho, echo) }
                return
            case .error(let error):
                state.withLock {
                    $0.problems.append("the speaker got an error: \(error.code.rawValue) \(error.message)")
                }
            default:
                continue
            }
        }
    }

    private func listenerReadsEverything() async throws {
        var expected = state.withLock { $0.sent }
        var lastID: Int64?
        while !expected.isEmpty {
            switch try await listener.next(timeout: .seconds(30)) {
            case .message(let message) where message.room == room:
                if let lastID, message.id != lastID + 1 {
                    state.withLock { $0.problems.append("the listener saw id \(message.id) after \(lastID)") }
                }
                lastID = message.id
                expected.removeAll { $0 == message.cid }
            case .error(let error):
                state.withLock {
                    $0.problems.append("the listener got an error: \(error.code.rawValue) \(error.message)")
                }
            default:
                continue
            }
        }
    }
}
