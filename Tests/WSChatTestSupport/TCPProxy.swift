import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP proxy that can be told to black-hole traffic: connections stay open but
/// nothing is forwarded, as when a server's host vanishes or a laptop sleeps.
public final class TCPProxy: Sendable {
    public let port: Int
    private let listener: any Channel
    private let switchboard: Switchboard

    public static func start(forwardingTo targetPort: Int) async throws -> TCPProxy {
        let switchboard = Switchboard()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { upstream in
                        upstream.eventLoop.makeCompletedFuture {
                            try upstream.pipeline.syncOperations.addHandler(
                                Forwarder(to: inbound, switchboard: switchboard))
                        }
                    }
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { upstream in
                        inbound.eventLoop.makeCompletedFuture {
                            try inbound.pipeline.syncOperations.addHandler(
                                Forwarder(to: upstream, switchboard: switchboard))
                        }.flatMap { inbound.setOption(.autoRead, value: true) }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPProxy(port: listener.localAddress?.port ?? 0, listener: listener, switchboard: switchboard)
    }

    private init(port: Int, listener: any Channel, switchboard: Switchboard) {
        self.port = port
        self.listener = listener
        self.switchboard = switchboard
    }

    /// Stops forwarding in both directions, without closing anything.
    public func blackhole() { switchboard.blackholed.store(true, ordering: .relaxed) }

    /// Forwards again.
    public func restore() { switchboard.blackholed.store(false, ordering: .relaxed) }

    public func stop() async throws { try await listener.close() }
}

private final class Switchboard: Sendable {
    let blackholed = Atomic<Bool>(false)
}

/// Copies what one side sends to the other, unless the line is black-holed.
private final class Forwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let target: any Channel
    let switchboard: Switchboard

    init(to target: any Channel, switchboard: Switchboard) {
        self.target = target
        self.switchboard = switchboard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !switchboard.blackholed.load(ordering: .relaxed) else { return }
        target.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        target.close(promise: nil)
        context.fireChannelInactive()
    }
}
