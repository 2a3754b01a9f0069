import NIOCore
import NIOPosix

/// An HTTP response as read off the socket: enough to check a status and a body.
public struct RawHTTPResponse: Sendable {
    public let status: Int
    public let head: String
    public let body: String

    /// The value of an unlabelled metric when the body is `/metrics` (Prometheus text format).
    public func metric(_ name: String) -> Double? {
        body.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
    }
}

/// A plain TCP connection to the server, for what a WebSocket library will not do: send a
/// hand-made upgrade request, read the refusal status, or connect and say nothing at all.
public enum RawConnection {
    /// Sends `request` and reads the response: until the server closes the connection, or
    /// just the head when it switches protocols (101).
    public static func request(port: Int, _ request: String, timeout: Duration = .seconds(10)) async throws
        -> RawHTTPResponse
    {
        let channel = try await open(port: port)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            let received = try await withTimeout(timeout) {
                var received = ByteBuffer()
                for try await var chunk in inbound {
                    received.writeBuffer(&chunk)
                    let text = String(buffer: received)
                    if text.hasPrefix("HTTP/1.1 101"), text.contains("\r\n\r\n") { break }
                }
                return received
            }
            let text = String(buffer: received)
            let parts = text.components(separatedBy: "\r\n\r\n")
            let statusLine = parts[0].split(separator: "\r\n").first ?? ""
            let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return RawHTTPResponse(
                status: status, head: parts[0], body: parts.dropFirst().joined(separator: "\r\n\r\n"))
        }
    }

    /// An upgrade request to `path` with the given extra header lines.
    public static func upgradeRequest(port: Int, path: String = "/ws", extraHeaders: [String] = []) -> String {
        ([
            "GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ] + extraHeaders).joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// Connects, optionally sends `bytes`, then waits for the server to close; returns how long it took.
    public static func timeUntilServerCloses(port: Int, sending bytes: String = "", limit: Duration) async throws
        -> Duration
    {
        let channel = try await open(port: port)
        let start = ContinuousClock.now
        try await channel.executeThenClose { inbound, outbound in
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(string: bytes)) }
            try await withTimeout(limit) {
                for try await _ in inbound {}
            }
        }
        return ContinuousClock.now - start
    }

    /// A TCP connection that never sends or reads anything, held until the test closes it. A
    /// bare channel: an unused `NIOAsyncChannel` traps when it is released without being finished.
    public static func silent(port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
    }

    /// A plain TCP connection, to be used inside `executeThenClose`.
    public static func open(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }
}

/// Asks `probe` again every 50 ms until it returns a value: for a state the server reaches
/// on its own soon after the test's last step (a slot freed once a socket is closed, say).
public func eventually<T: Sendable>(
    within limit: Duration = .seconds(10), _ what: String = "the expected state",
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else { throw TestFailure("\(what) was not reached within \(limit)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Runs `body`, failing with `TestFailure` if it takes longer than `limit`.
public func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws
    -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let result = try await group.next(), let value = result else {
            throw TestFailure("timed out after \(limit)")
        }
        return value
    }
}
