import NIOCore
import NIOHTTP1

/// Accepts a WebSocket upgrade (RFC 6455 §4.2.2) for NIO's typed upgrade handler, as
/// NIOWebSocket's upgrader does, except that it puts none of NIOWebSocket's frame handlers in
/// the pipeline: the connection's `WebSocketConnectionHandler` frames both ways itself.
/// `UpgradeGate`, in front, has already refused requests without one valid key or with
/// another version.
struct WebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    /// Why an upgrade request was not taken; NIO's handler then answers it as plain HTTP.
    enum Refusal: Error {
        case noKey
        case noEndpoint
    }

    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    /// The response's own headers for a request an endpoint takes; nil when none does.
    let accept: @Sendable (HTTPRequestHead) throws -> HTTPHeaders?
    /// Sets up the upgraded channel's pipeline, on its event loop.
    let install: @Sendable (any Channel, HTTPRequestHead) throws -> UpgradeResult

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        channel.eventLoop.makeCompletedFuture {
            guard let key = upgradeRequest.headers.first(name: "sec-websocket-key") else { throw Refusal.noKey }
            guard var headers = try accept(upgradeRequest) else { throw Refusal.noEndpoint }
            headers.replaceOrAdd(name: "upgrade", value: "websocket")
            headers.add(name: "sec-websocket-accept", value: WebSocketHandshake.acceptValue(forKey: key))
            headers.replaceOrAdd(name: "connection", value: "upgrade")
            return headers
        }
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture { try install(channel, upgradeRequest) }
    }
}
