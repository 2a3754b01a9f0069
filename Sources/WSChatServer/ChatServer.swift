import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals
import WSChatProtocol

/// A complete wschat server: the chat over WebSocket on `/ws` and, on the same port, the
/// page at `/`, `/healthz` and `/metrics`.
public struct ChatServer: Sendable {
    public let configuration: ChatServerConfiguration
    private let hub: ChatHub
    private let storage: ChatStorage
    private let metrics: ServerMetrics
    private let logger: Logger

    public init(configuration: ChatServerConfiguration, storage: ChatStorage = .memory(), logger: Logger) {
        self.configuration = configuration
        self.storage = storage
        self.logger = logger
        self.metrics = ServerMetrics()
        self.hub = ChatHub(
            configuration: configuration, store: storage.store, cluster: storage.cluster, metrics: metrics,
            logger: logger)
    }

    /// The server's services, ready to run: on graceful shutdown (from `signals` or a trigger)
    /// every client gets close 1001, then the listener stops. `onReady` gets the bound port.
    /// Throws when the TLS files cannot be read.
    public func makeServiceGroup(
        signals: [UnixSignal] = [.sigterm, .sigint], onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> ServiceGroup {
        let listener = ChatListener(
            host: configuration.host, port: configuration.port, channel: try makeChannel(),
            tls: try configuration.tls.map { try NIOSSLContext(configuration: Self.tlsConfiguration($0)) },
            logger: logger, onReady: onReady)
        // Services shut down in reverse order: the hub says goodbye before the listener stops,
        // the cluster hears of the departures, and the store closes last.
        var services: [any Service] = [
            StoreClosing(store: storage.store),
            HistoryPruner(
                store: storage.store, policy: configuration.retention, interval: configuration.pruneInterval,
                logger: logger),
        ]
        if let cluster = storage.cluster {
            services.append(ClusterMembership(cluster: cluster, hub: hub))
        }
        services += [listener, HubShutdown(hub: hub, timeout: configuration.closeTimeout)]
        return ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: signals, logger: logger))
    }

    /// Why the server could not start listening, in words that say what to do (nil when
    /// `error` is not about listening): the one wording for `wschat-server` and `wschat --host`.
    public static func explain(startFailure error: any Error, host: String, port: Int) -> String? {
        guard let io = error as? IOError else { return nil }
        switch io.errnoCode {
        case EADDRINUSE:
            return "port \(port) is in use: another program listens there; stop it or choose another port with --port"
        case EACCES:
            return "port \(port) needs privileges to listen on: choose a port above 1023 with --port"
        case EADDRNOTAVAIL:
            return "\(host) is not an address of this machine: listen on one of its own, or 0.0.0.0 for all"
        default:
            return "cannot listen on \(host) port \(port): \(io)"
        }
    }

    /// Reads the TLS files and checks that they make a working server context; the server
    /// command calls it before anything else, so a bad file stops it at once, named.
    public static func checkTLSFiles(_ files: TLSFiles) throws {
        _ = try tlsConfiguration(files)
    }

    static func tlsConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw ChatServerError("cannot read the TLS certificate \(files.certificateChain): \(error)")
        }
        guard !chain.isEmpty else {
            throw ChatServerError("the TLS certificate file \(files.certificateChain) holds no PEM certificate")
        }
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            throw ChatServerError("cannot read the TLS private key \(files.privateKey): \(error)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw ChatServerError(
                "the TLS private key \(files.privateKey) does not belong to the certificate \(files.certificateChain)"
                    + "; give the key the certificate was made for")
        } catch {
            throw ChatServerError(
                "cannot use the TLS certificate \(files.certificateChain) with the key \(files.privateKey): \(error)")
        }
        return configuration
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        // HEAD answers as GET does, without the body: monitors and load balancers probe with it.
        let router = Router(options: .autoGenerateHeadEndpoints)
        WebClient(serverName: configuration.serverName).register(on: router)
        router.get("/healthz") { _, _ in "ok" }
        router.get("/metrics") { [metrics] _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.get(RouterPath(WireProtocol.chatPath)) { _, _ in
            Response(
                status: .upgradeRequired, headers: [.upgrade: "websocket", .contentType: "text/plain; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(string: "This is a WebSocket endpoint: connect with a WebSocket client.\n")))
        }
        return router
    }

    private func makeChannel() throws -> ChatChannel {
        let configuration = configuration
        let events = SummarisedLog(logger: logger)
        let rules = UpgradeGate.Rules(
            origins: OriginPolicy(allowed: configuration.allowedOrigins),
            admission: ConnectionAdmission(
                maxTotal: configuration.maxConnections, maxPerAddress: configuration.maxConnectionsPerAddress),
            requestTimeout: .nanoseconds(Int64(configuration.handshakeTimeout.components.seconds * 1_000_000_000)),
            onRefusal: { [metrics] status, explanation in
                metrics.refusedConnections.increment()
                events.log(
                    .info, "refused a connection",
                    metadata: ["status": "\(status.code)", "why": "\(InertText.escaped(explanation))"])
            })
        let chat = ChatEndpoint(
            services: ChatServices(
                hub: hub, configuration: configuration, metrics: metrics, authThrottle: SharedAuthThrottle(),
                events: events),
            deflate: DeflateNegotiation(maxDecompressedSize: configuration.maxDecompressedSize))
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: .seconds(configuration.httpIdleTimeout.components.seconds))
        let responder = RouteResponder.make(
            router: makeRouter(), serverName: configuration.serverName, logger: logger)
        return ChatChannel(responder: responder, endpoint: chat, http1: http1, rules: rules)
    }
}

/// Runs until graceful shutdown, then closes every client with 1001 before the listener goes.
private struct HubShutdown: Service {
    let hub: ChatHub
    let timeout: Duration

    func run() async throws {
        try? await gracefulShutdown()
        await hub.shutdown(timeout: timeout)
    }
}

/// Runs the node's part in the cluster and hands the other nodes' events to the hub.
private struct ClusterMembership: Service {
    let cluster: PostgresCluster
    let hub: ChatHub

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [cluster, hub] in
                for await event in cluster.events { await hub.apply(event) }
            }
            // Returns on graceful shutdown, after sharing the last departures; ends `events`.
            try await cluster.run()
            try await group.waitForAll()
        }
    }
}

/// Closes the store once everything that writes to it has stopped.
private struct StoreClosing: Service {
    let store: any HistoryStore

    func run() async {
        try? await gracefulShutdown()
        await store.close()
    }
}

/// A problem that stops the server from starting, said in words a user can act on.
public struct ChatServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
