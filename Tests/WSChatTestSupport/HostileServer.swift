import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import WSChatProtocol

/// A WebSocket server that speaks just enough of the protocol to welcome a client into
/// #general, then sends whatever frames a test gives it: what a hostile or broken server
/// could send, which wschat-server itself never relays (control characters, say).
public final class HostileServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var url: String { "ws://127.0.0.1:\(port)/ws" }

    public static func start(sending frames: [String]) async throws -> HostileServer {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/ws") { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 16) {
                guard case .text(let text) = message, let decoded = try? ClientMessage.decode(text) else { continue }
                switch decoded {
                case .hello(let hello):
                    let welcome = ServerMessage.welcome(
                        .init(nick: hello.nick, session: "s", server: "hostile", limits: Limits()))
                    try await outbound.write(.text(welcome.encoded()))
                case .join(let join):
                    let joined = ServerMessage.joined(
                        .init(room: join.room, epoch: "e", topic: "", members: ["mallory"], history: [], more: false))
                    try await outbound.write(.text(joined.encoded()))
                    for frame in frames { try await outbound.write(.text(frame)) }
                case .ping(let t):
                    try await outbound.write(.text(ServerMessage.pong(t).encoded()))
                default:
                    continue
                }
            }
        }
        var logger = Logger(label: "hostile-server")
        logger.logLevel = .critical
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the hostile server did not start") }
        return HostileServer(port: port, group: group, task: task)
    }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
