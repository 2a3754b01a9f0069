import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Every accepted connection: HTTP/1 for the routes, with an `UpgradeGate` in front of the
/// WebSocket upgrade. An upgraded connection lives in its channel's handlers (the
/// `ChatEndpoint` puts them there), so its task ends at the upgrade; plain HTTP is answered by
/// Hummingbird's responder in the connection's task, as in Hummingbird's own channel.
struct ChatChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case webSocket
        case plainHTTP(PlainHTTP)
    }

    /// A connection that stays HTTP, answered in a task (`serve`).
    enum PlainHTTP: Sendable {
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade request that no endpoint takes.
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let endpoint: ChatEndpoint
    let http1: HTTP1Channel.Configuration
    let rules: UpgradeGate.Rules

    init(
        responder: @escaping HTTPChannelHandler.Responder, endpoint: ChatEndpoint, http1: HTTP1Channel.Configuration,
        rules: UpgradeGate.Rules
    ) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.endpoint = endpoint
        self.http1 = http1
        self.rules = rules
    }

    /// NIO keeps a connection's receive buffer for its next read, for as long as the connection
    /// lives, and never shrinks it: its default first size (2 KiB) was a quarter of what an
    /// idle connection cost. 256 bytes hold a script's upgrade request and any chat frame a
    /// person types; a browser's longer request takes a second read, and the buffer doubles
    /// after every read that fills it, for a client that sends more.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536)

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(.recvAllocator, value: Self.receiveBuffers)
            // Whether an upgrade was asked for, and the one accepted: one box, kept as long as the
            // connection's upgrade machinery is.
            let attempt = NIOLoopBoundBox<(asked: Bool, accepted: ChatEndpoint.Upgrade?)>(
                (false, nil), eventLoop: channel.eventLoop)
            let upgrader = WebSocketUpgrader<UpgradeResult>(
                accept: { [endpoint] head in
                    attempt.value.asked = true
                    let request = try HTTPRequest(head, secure: false, splitCookie: false)
                    guard let (headers, upgrade) = endpoint.shouldUpgrade(request) else { return nil }
                    attempt.value.accepted = upgrade
                    return headers
                },
                install: { [endpoint] channel, _ in
                    guard let upgrade = attempt.value.accepted else {
                        throw ChannelError.inappropriateOperationForState
                    }
                    try endpoint.install(upgrade, on: channel)
                    return .webSocket
                })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [http1] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandlers(http1.additionalChannelHandlers())
                        try pipeline.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger)
                        )
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                        return .plainHTTP(attempt.value.asked ? .failedUpgrade(http) : .notUpgraded(http))
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            let upgradeResult = try pipeline.configureUpgradableHTTPServerPipeline(configuration: configuration)
            let upgradeHandler = try pipeline.handler(type: NIOTypedHTTPServerUpgradeHandler<UpgradeResult>.self)
            try pipeline.addHandler(UpgradeGate(rules: rules), position: .before(upgradeHandler))
            return Value(upgradeResult: upgradeResult, channel: channel)
        }
    }

    /// `ServerChildChannel`'s entry point, for a server that hands every connection to a task;
    /// `ChatListener` calls `serve` only for the connections that stay HTTP.
    func handle(value: Value, logger: Logger) async {
        guard case .plainHTTP(let http) = try? await value.upgradeResult.get() else { return }
        await serve(http, logger: logger)
    }

    func serve(_ http: PlainHTTP, logger: Logger) async {
        do {
            switch http {
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .failedUpgrade(let http):
                try await http.executeThenClose { _, outbound in
                    let head = HTTPResponse(
                        status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                    try await outbound.write(contentsOf: [.head(head), .end(nil)])
                }
            }
        } catch {
            // A client that vanished, a slowloris socket timed out: none is a server error, and
            // clients can make thousands.
            logger.debug("connection ended before its first request was answered", metadata: ["error": "\(error)"])
        }
    }

    /// NIO upgrades only a connection's first request: a WebSocket upgrade that comes later on
    /// a kept-alive connection is sent to a new one (307 to the same path, then close), as
    /// Hummingbird's own channel does.
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder)
        -> HTTPChannelHandler.Responder
    {
        { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                try await responder(request, writer, channel)
                return
            }
            let location = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
            try await writer.writeResponse(
                HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw LateUpgrade()
        }
    }

    private struct LateUpgrade: Error {}
}
