import Foundation
import WSChatProtocol

/// A `wschat-server` child process on 127.0.0.1, for tests that restart or kill -9 a server.
public struct ServerProcess: Sendable {
    public let process: ProductProcess
    public let port: Int

    /// Starts a server with `arguments` (storage flags, limits) and waits until it listens.
    public static func start(_ arguments: [String], port: Int = 0) async throws -> ServerProcess {
        let process = try ProductProcess.launch(
            arguments: ["--host", "127.0.0.1", "--port", String(port), "--log-level", "notice"] + arguments)
        return ServerProcess(process: process, port: try await process.port())
    }

    public var url: String { "ws://127.0.0.1:\(port)/ws" }

    /// A client connected to `/ws` (not yet said hello).
    public func connect(reading: Bool = true) async throws -> TestClient {
        try await TestClient.connect(url: url, subprotocol: "wschat.v1", compression: false, reading: reading)
    }

    public func user(_ nick: String, password: String? = nil, secret: String? = nil) async throws -> TestClient {
        let client = try await connect()
        try await client.hello(nick, password: password, secret: secret)
        return client
    }

    /// SIGKILL: no goodbye, no flush, no cleanup.
    public func kill() async throws {
        process.signal(SIGKILL)
        _ = try await process.waitForExit(timeout: .seconds(10))
    }

    /// SIGTERM: the graceful stop.
    public func stop() async throws {
        process.signal(SIGTERM)
        let status = try await process.waitForExit(timeout: .seconds(20))
        guard status == 0 else { throw TestFailure("the server exited with \(status): \(process.standardError)") }
    }
}
