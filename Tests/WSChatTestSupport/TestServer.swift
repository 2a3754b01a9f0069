import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WSChatServer

/// A real `ChatServer` on an ephemeral loopback port, run in this process.
public final class TestServer: Sendable {
    public let port: Int
    public let configuration: ChatServerConfiguration
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var url: String { "\(configuration.webSocketScheme)://127.0.0.1:\(port)/ws" }

    /// Starts a server with the given settings (host 127.0.0.1, port 0, generous rate limits).
    public static func start(
        store: any HistoryStore = MemoryHistoryStore(), _ adjust: (inout ChatServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        var configuration = ChatServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.rate = 0
        configuration.closeTimeout = .seconds(1)
        adjust(&configuration)
        var logger = Logger(label: "test-server")
        // WSCHAT_TEST_LOG=debug shows the server's log while investigating a failure.
        logger.logLevel =
            ProcessInfo.processInfo.environment["WSCHAT_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        let server = ChatServer(configuration: configuration, store: store, logger: logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let group = try server.makeServiceGroup(signals: []) { port in portContinuation.yield(port) }
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
        return TestServer(port: port, configuration: configuration, group: group, task: task)
    }

    private init(port: Int, configuration: ChatServerConfiguration, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.configuration = configuration
        self.group = group
        self.task = task
    }

    /// Graceful shutdown, as on SIGTERM; returns when the server has stopped.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// A client connected to `/ws` (not yet said hello).
    public func connect(
        subprotocol: String? = "wschat.v1", compression: Bool = false, reading: Bool = true
    ) async throws -> TestClient {
        try await TestClient.connect(url: url, subprotocol: subprotocol, compression: compression, reading: reading)
    }

    /// A client past `hello` as `nick`.
    public func user(_ nick: String) async throws -> TestClient {
        let client = try await connect()
        try await client.hello(nick)
        return client
    }

    public func get(_ path: String) async throws -> RawHTTPResponse {
        try await RawConnection.request(
            port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
