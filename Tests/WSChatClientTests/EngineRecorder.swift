import Foundation
import Logging
import WSChatClient
import WSChatProtocol
import WSChatTestSupport

/// Runs a real `ChatEngine` and keeps every event it reports, for a test to wait on.
final class RecordedEngine: Sendable {
    let engine: ChatEngine
    let recorder = EventLog()
    private let tasks: [Task<Void, Never>]

    init(_ configuration: ClientConfiguration) {
        var logger = Logger(label: "test-engine")
        logger.logLevel = .critical
        engine = ChatEngine(configuration: configuration, logger: logger)
        let engine = engine
        let recorder = recorder
        tasks = [
            Task { await engine.run() },
            Task { for await event in engine.events { await recorder.append(event) } },
        ]
    }

    deinit { tasks.forEach { $0.cancel() } }

    /// A configuration that reconnects quickly, for tests.
    static func configuration(url: String, nick: String, rooms: [String] = ["general"]) -> ClientConfiguration {
        var configuration = ClientConfiguration(urls: [url], nick: nick, rooms: rooms)
        configuration.reconnect = ReconnectPolicy(base: .milliseconds(100), cap: .seconds(1))
        configuration.keepalive = KeepalivePolicy(interval: .seconds(1), timeout: .seconds(2))
        configuration.connectTimeout = .seconds(3)
        return configuration
    }

    func say(_ text: String, in room: String = "general") {
        engine.perform(.say(room: room, text: text, action: false))
    }

    /// Waits until the events so far satisfy `condition`.
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable ([EngineEvent]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(await recorder.events) {
            guard ContinuousClock.now < deadline else {
                throw TestFailure(
                    "\(what): not within \(timeout); events:\n\(await recorder.events.map { "\($0)" }.joined(separator: "\n"))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    var events: [EngineEvent] { get async { await recorder.events } }

    /// Every room message this client was shown (live or as history), in order.
    var conversation: [ChatMessage] {
        get async { Self.conversation(in: await recorder.events) }
    }

    static func conversation(in events: [EngineEvent]) -> [ChatMessage] {
        events.flatMap { event -> [ChatMessage] in
            switch event {
            case .server(.message(let message), _): [message]
            case .server(.joined(let joined), _): joined.history
            default: []
            }
        }
    }

    /// Whether every `pending` in `events` was later echoed or refused.
    static func everythingTypedWasAcknowledged(_ events: [EngineEvent]) -> Bool {
        var open = Set<String>()
        for event in events {
            switch event {
            case .pending(let message): open.insert(message.cid)
            case .server(.message(let message), _): open.remove(message.cid)
            case .server(.dm(let dm), _): open.remove(dm.cid)
            case .failed(let message, _): open.remove(message.cid)
            default: break
            }
        }
        return open.isEmpty
    }

    static func isConnected(_ event: EngineEvent) -> Bool {
        if case .state(.connected) = event { true } else { false }
    }

    static func isReconnecting(_ event: EngineEvent) -> Bool {
        if case .state(.reconnecting) = event { true } else { false }
    }
}

actor EventLog {
    private(set) var events: [EngineEvent] = []
    func append(_ event: EngineEvent) { events.append(event) }
}
