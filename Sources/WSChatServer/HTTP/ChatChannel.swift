import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Every accepted connection: NIO's HTTP/1 codec with an `UpgradeGate` behind it, which takes
/// the first request and makes the connection a WebSocket (in its channel's handlers, with no
/// task) or plain HTTP, answered by Hummingbird's responder in a task, as in Hummingbird's own
/// channel.
struct ChatChannel: ServerChildChannel, HTTPChannelHandler {
    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<UpgradeGate.Outcome>
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
        channel.eventLoop.makeCompletedFuture { try open(channel, logger: logger) }
    }

    /// Sets up a new connection's pipeline; runs on its event loop.
    func open(_ channel: any Channel, logger: Logger) throws -> Value {
        try channel.syncOptions?.setOption(.recvAllocator, value: Self.receiveBuffers)
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
        limits.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
        limits.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
        let handlers = UpgradeGate.HTTPHandlers(
            decoder: ByteToMessageHandler(
                HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits)),
            encoder: HTTPResponseEncoder())
        let gate = UpgradeGate(rules: rules, endpoint: endpoint, http: handlers, on: channel.eventLoop) {
            [http1] channel in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandlers(http1.additionalChannelHandlers())
            try pipeline.addHandler(
                HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
        try channel.pipeline.syncOperations.addHandlers(handlers.encoder, handlers.decoder, gate)
        return Value(outcome: gate.outcome, channel: channel)
    }

    /// `ServerChildChannel`'s entry point, for a server that hands every connection to a task;
    /// `ChatListener` makes a task only for the connections that stay HTTP.
    func handle(value: Value, logger: Logger) async {
        guard case .plainHTTP(let http) = try? await value.outcome.get() else { return }
        await handleHTTP(asyncChannel: http, logger: logger)
    }

    /// The gate upgrades only a connection's first request: a WebSocket upgrade that comes later on
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
