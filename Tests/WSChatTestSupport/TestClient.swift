import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOWebSocket
import WSChatProtocol
import WSClient
import WSCompression

/// A WebSocket client built on swift-websocket, driven by a test: send frames, then read
/// what the server sent, in order, with a generous timeout.
public final class TestClient: Sendable {
    public enum Event: Sendable {
        case text(String)
        case closed(code: UInt16?, reason: String?)
    }

    private let inbox: Inbox
    private let outbound: WebSocketOutboundWriter
    private let stopReading: @Sendable () -> Void

    public static let defaultTimeout: Duration = .seconds(10)

    /// Connects; with `reading: false` the client never reads after the upgrade, like a
    /// stalled reader (it does not even answer pings).
    public static func connect(
        url: String, subprotocol: String?, compression: Bool, reading: Bool
    ) async throws -> TestClient {
        var headers = HTTPFields()
        if let subprotocol { headers[.secWebSocketProtocol] = subprotocol }
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: 1 << 24, additionalHeaders: headers,
            extensions: compression ? [.perMessageDeflate(maxDecompressedFrameSize: 1 << 24)] : [],
            validateUTF8: true)
        let inbox = Inbox()
        let (writers, writerContinuation) = AsyncStream.makeStream(of: WebSocketOutboundWriter.self)
        let (stopSignal, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        var logger = Logger(label: "test-client")
        logger.logLevel = .critical
        Task {
            do {
                let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    writerContinuation.yield(outbound)
                    if reading {
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            if case .text(let text) = message { await inbox.push(.text(text)) }
                        }
                    } else {
                        for await _ in stopSignal {}
                    }
                }
                await inbox.push(
                    .closed(code: close.map { UInt16(webSocketErrorCode: $0.closeCode) }, reason: close?.reason))
            } catch {
                await inbox.push(.closed(code: nil, reason: "\(error)"))
            }
            writerContinuation.finish()
        }
        var iterator = writers.makeAsyncIterator()
        guard let outbound = await iterator.next() else {
            let event = await inbox.next(timeout: .seconds(1))
            throw TestFailure("could not connect to \(url): \(String(describing: event))")
        }
        return TestClient(inbox: inbox, outbound: outbound, stopReading: { stopContinuation.finish() })
    }

    private init(inbox: Inbox, outbound: WebSocketOutboundWriter, stopReading: @escaping @Sendable () -> Void) {
        self.inbox = inbox
        self.outbound = outbound
        self.stopReading = stopReading
    }

    deinit { stopReading() }

    // MARK: Sending

    public func send(_ message: ClientMessage) async throws {
        try await outbound.write(.text(message.encoded()))
    }

    public func sendText(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    public func sendBinary(_ bytes: [UInt8]) async throws {
        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
    }

    public func close(_ code: WebSocketErrorCode = .normalClosure) async throws {
        try await outbound.close(code, reason: nil)
    }

    // MARK: Receiving

    /// The next frame from the server; fails the test if none comes or the socket closed.
    public func next(timeout: Duration = defaultTimeout) async throws -> ServerMessage {
        switch await inbox.next(timeout: timeout) {
        case .text(let text): return try ServerMessage.decode(text)
        case .closed(let code, let reason):
            throw TestFailure(
                "expected a frame, the connection closed (\(code.map(String.init) ?? "no code") \(reason ?? ""))")
        case nil: throw TestFailure("no frame from the server within \(timeout)")
        }
    }

    /// Skips frames until one matches; for steps where unrelated frames may interleave.
    public func next<T>(timeout: Duration = defaultTimeout, _ extract: (ServerMessage) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            let message = try await next(timeout: max(.zero, deadline - .now))
            if let value = extract(message) { return value }
        }
    }

    /// The server's close code and reason; frames before it are skipped.
    public func closed(timeout: Duration = defaultTimeout) async throws -> (code: UInt16?, reason: String?) {
        let deadline = ContinuousClock.now + timeout
        while true {
            switch await inbox.next(timeout: max(.zero, deadline - .now)) {
            case .text: continue
            case .closed(let code, let reason): return (code, reason)
            case nil: throw TestFailure("the connection did not close within \(timeout)")
            }
        }
    }

    /// Asserts that nothing arrives for `quiet`.
    public func expectSilence(for quiet: Duration = .milliseconds(300)) async throws {
        if let event = await inbox.next(timeout: quiet) {
            throw TestFailure("expected no frame, got \(event)")
        }
    }

    // MARK: Conversation steps

    @discardableResult
    public func hello(_ nick: String, password: String? = nil, secret: String? = nil) async throws
        -> ServerMessage.Welcome
    {
        try await send(.hello(.init(nick: nick, password: password, client: "tests", secret: secret)))
        let reply = try await next()
        guard case .welcome(let welcome) = reply else {
            throw TestFailure("hello \(nick): expected welcome, got \(reply)")
        }
        return welcome
    }

    @discardableResult
    public func join(_ room: String, since: Int64? = nil, epoch: String? = nil) async throws -> ServerMessage.Joined {
        try await send(.join(.init(room: room, since: since, epoch: epoch)))
        return try await next { if case .joined(let joined) = $0 { joined } else { nil } }
    }

    /// Says `text` and returns the server's echo of it.
    @discardableResult
    public func say(_ text: String, in room: String, cid: String = UUID().uuidString) async throws -> ChatMessage {
        try await send(.say(.init(room: room, text: text, cid: cid)))
        return try await next { if case .message(let m) = $0, m.cid == cid { m } else { nil } }
    }

    /// Sends a frame and returns the error it is answered with.
    public func error(after message: ClientMessage) async throws -> ProtocolError {
        try await send(message)
        let reply = try await next()
        guard case .error(let error) = reply else {
            throw TestFailure("\(message.type): expected an error, got \(reply)")
        }
        return error
    }
}

/// Frames received and not yet read by the test, in order.
public actor Inbox {
    private var events: [TestClient.Event] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<TestClient.Event?, Never>)?
    private var nextWaiterID = 0

    public func push(_ event: TestClient.Event) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: event)
        } else {
            events.append(event)
        }
    }

    public func next(timeout: Duration) async -> TestClient.Event? {
        if !events.isEmpty { return events.removeFirst() }
        nextWaiterID += 1
        let id = nextWaiterID
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}
