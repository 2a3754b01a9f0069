import Foundation
import NIOCore
import NIOPosix

/// Opens benchmark connections to one server and collects what they measured.
struct LoadGenerator {
    let host: String
    let port: Int
    /// Resolved once: `connect(host:port:)` would resolve the name again for every connection,
    /// on a thread of its own, and cost the generator more than the handshake it measures.
    let address: SocketAddress
    let protocolKind: BenchProtocol
    let group: MultiThreadedEventLoopGroup
    let counters = RunCounters()

    init(url: String, protocol: BenchProtocol, threads: Int) throws {
        guard let components = URLComponents(string: url), components.scheme == "ws",
            let host = components.host, let port = components.port
        else { throw BenchError("\(url) is not a ws://HOST:PORT/… URL (the benchmark speaks plain ws:// only)") }
        guard ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") else {
            throw BenchError("\(host) is not a loopback address: the benchmark only loads this machine")
        }
        self.host = host
        self.port = port
        self.address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        self.protocolKind = `protocol`
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// Opens one connection; the handler is reachable for as long as the channel lives.
    func open(index: Int, role: BenchConnection.Role, purpose: BenchConnection.Purpose) async throws -> OpenConnection {
        let handler = makeHandler(index: index, role: role, purpose: purpose)
        return OpenConnection(channel: try await connect(handler).get(), handler: handler)
    }

    func makeHandler(index: Int, role: BenchConnection.Role, purpose: BenchConnection.Purpose) -> BenchConnection {
        BenchConnection(
            index: index, protocol: protocolKind, role: role, purpose: purpose, counters: counters,
            host: "\(host):\(port)")
    }

    /// Connects `handler`'s channel, on the generator's event loops, with no task.
    func connect(_ handler: BenchConnection) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .connect(to: address)
    }

    /// Opens connections `first..<first + count`, `parallel` at a time (a connection's index
    /// names its user).
    func open(
        count: Int, from first: Int = 0, parallel: Int = 64, role: (Int) -> BenchConnection.Role,
        purpose: BenchConnection.Purpose
    ) async throws -> [OpenConnection] {
        var connections: [OpenConnection] = []
        connections.reserveCapacity(count)
        var next = first
        while next < first + count {
            let batch = next..<min(first + count, next + parallel)
            let roles = batch.map(role)
            let opened = try await withThrowingTaskGroup(of: OpenConnection.self) { group in
                for (index, role) in zip(batch, roles) {
                    group.addTask { try await open(index: index, role: role, purpose: purpose) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            connections += opened
            next = batch.upperBound
        }
        return connections.sorted { $0.handler.index < $1.handler.index }
    }

    /// Waits until `count` connections are ready (welcomed and joined), at most `limit`.
    func waitUntilReady(_ count: Int, limit: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + limit
        while counters.ready.load(ordering: .relaxed) < count {
            let dropped = counters.dropped.load(ordering: .relaxed)
            guard ContinuousClock.now < deadline, dropped == 0 else {
                throw BenchError(
                    "only \(counters.ready.load(ordering: .relaxed)) of \(count) connections got ready"
                        + " (\(dropped) closed by the server): raise its limits (--max-connections-per-address,"
                        + " --max-users, --rate 0)?")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func shutdown() async throws {
        try await group.shutdownGracefully()
    }
}

/// A connection and its handler.
struct OpenConnection: Sendable {
    let channel: any Channel
    let handler: BenchConnection

    /// Runs `body` on the connection's event loop, where the handler lives.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (BenchConnection) -> T) async throws -> T {
        try await channel.eventLoop.submit { body(handler) }.get()
    }
}
