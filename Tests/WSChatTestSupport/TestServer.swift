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
        // A fixed port just given up by a stopped server can take a moment to be free again.
        let deadline = ContinuousClock.now + .seconds(configuration.port == 0 ? 0 : 5)
        while true {
            do {
                return try await launch(configuration, store: store, logger: logger)
            } catch let failure as TestFailure where failure.description.contains("Address already in use") {
                guard ContinuousClock.now < deadline else { throw failure }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private static func launch(
        _ configuration: ChatServerConfiguration, store: any HistoryStore, logger: Logger
    ) async throws -> TestServer {
        let server = ChatServer(
            configuration: configuration, storage: ChatStorage(store: store, summary: "test"), logger: logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let group = try server.makeServiceGroup(signals: []) { port in portContinuation.yield(port) }
        let task = Task {
            defer { portContinuation.finish() }  // a server that fails to start must not hang the test
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw TestFailure(
                "the server did not start on port \(configuration.port): \(String(describing: await task.result))")
        }
        return TestServer(port: port, configuration: configuration, group: group, task: task)
    }

    private init(port: Int, configuration: ChatServerConfiguration, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.configuration = configuration
        self.group = group
        self.task = task
    }

    /// A port below the kernel's ephemeral range (so no test's port-0 server takes it while a
    /// restart test has it free) that nothing listens on now.
    public static func unusedFixedPort() throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<30_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return port }
        }
        throw TestFailure("no free port found in 20000-29999")
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

    /// Users past `hello`, each joined to `room` in turn; the join presences they saw of
    /// each other are read, so every client starts the test with nothing unread.
    public func users(_ nicks: String..., in room: String) async throws -> [TestClient] {
        var clients: [TestClient] = []
        for nick in nicks {
            let client = try await user(nick)
            try await client.join(room)
            for earlier in clients { _ = try await earlier.next() }
            clients.append(client)
        }
        return clients
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
