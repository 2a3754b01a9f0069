import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTPTypes
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Listens on the server's port and sets up each accepted connection's pipeline on its event
/// loop (`ChatChannel`). A connection that upgrades to a WebSocket lives in its handlers from
/// then on and never costs a task or a thread switch; only a connection that stays plain HTTP
/// is handed to a task, where Hummingbird's responder answers it.
///
/// Hummingbird's own server hands every accepted connection to a task that waits for its
/// upgrade: about a quarter of the server's CPU per WebSocket handshake went into that task and
/// the thread switches it causes.
struct ChatListener: Service {
    let host: String
    let port: Int
    let channel: ChatChannel
    let tls: NIOSSLContext?
    let logger: Logger
    let onReady: @Sendable (Int) async -> Void
    var group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    /// Connections waiting in the kernel before they are accepted.
    static let backlog: Int32 = 256

    func run() async throws {
        let quiescing = ServerQuiescingHelper(group: group)
        let (plainHTTP, arrivals) = AsyncStream.makeStream(of: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>.self)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Self.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { server in
                server.eventLoop.makeCompletedFuture {
                    try server.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: server))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [channel, tls, logger] connection in
                connection.eventLoop.makeCompletedFuture {
                    if let tls {
                        try connection.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.open(connection, logger: logger).outcome.whenSuccess { outcome in
                        if case .plainHTTP(let http) = outcome { arrivals.yield(http) }
                    }
                }
            }
            .bind(host: host, port: port).get()
        await onReady(server.localAddress?.port ?? port)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                for await http in plainHTTP {
                    tasks.addTask { await channel.handleHTTP(asyncChannel: http, logger: logger) }
                }
            }
        } onGracefulShutdown: {
            // Stops accepting, tells every connection to finish (`ChannelShouldQuiesceEvent`)
            // and ends the loop above once the last one has closed.
            let closed = server.eventLoop.makePromise(of: Void.self)
            quiescing.initiateShutdown(promise: closed)
            closed.futureResult.whenComplete { _ in arrivals.finish() }
        }
        // After a cancellation, which ends the loop without a graceful shutdown.
        try? await server.close()
    }
}
