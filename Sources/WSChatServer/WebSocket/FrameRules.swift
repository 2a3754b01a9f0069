import CompressNIO
import HTTPTypes
import NIOCore
import NIOWebSocket
import WSCore

/// RFC 6455 §5.1: a server must close the connection when a client sends an unmasked frame.
/// swift-websocket accepts them, so this extension, applied without negotiation and before
/// any other extension sees a frame, closes with 1002 (protocol error).
struct MaskedFramesOnly: WebSocketExtension {
    let name = "wschat-masked-frames-only"

    func processReceivedFrame(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws
        -> WebSocketFrame
    {
        // swift-websocket closes with 1002 for this error; none is named for masking.
        guard frame.maskKey != nil else { throw NIOWebSocketError.fragmentedControlFrame }
        return frame
    }

    func processFrameToSend(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws
        -> WebSocketFrame
    {
        frame
    }

    func shutdown() async {}
}

/// permessage-deflate as swift-websocket provides it, except that a message that inflates
/// past the limit closes with 1009 (message too big), which says what happened, instead of
/// swift-websocket's 1011 (server error).
struct BoundedDeflateBuilder: WebSocketExtensionBuilder {
    static let name = "permessage-deflate"
    let deflate: any WebSocketExtensionBuilder

    /// The builder of `WebSocketExtensionFactory.perMessageDeflate(…)`, wrapped.
    static func factory(_ deflate: WebSocketExtensionFactory) -> WebSocketExtensionFactory {
        WebSocketExtensionFactory { BoundedDeflateBuilder(deflate: deflate.build()) }
    }

    func clientRequestHeader() -> String { deflate.clientRequestHeader() }

    func serverReponseHeader(to request: WebSocketExtensionHTTPParameters) -> String? {
        deflate.serverReponseHeader(to: request)
    }

    func serverExtension(from request: WebSocketExtensionHTTPParameters) throws -> (any WebSocketExtension)? {
        try deflate.serverExtension(from: request).map(BoundedDeflate.init)
    }

    func clientExtension(from response: WebSocketExtensionHTTPParameters) throws -> (any WebSocketExtension)? {
        try deflate.clientExtension(from: response).map(BoundedDeflate.init)
    }
}

private struct BoundedDeflate: WebSocketExtension {
    let inner: any WebSocketExtension

    var name: String { inner.name }
    var reservedBits: WebSocketFrame.ReservedBits { inner.reservedBits }

    func processReceivedFrame(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws
        -> WebSocketFrame
    {
        do {
            return try await inner.processReceivedFrame(frame, context: context)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            // swift-websocket closes with 1009 for this error.
            throw NIOWebSocketError.invalidFrameLength
        }
    }

    func processFrameToSend(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws
        -> WebSocketFrame
    {
        try await inner.processFrameToSend(frame, context: context)
    }

    func shutdown() async { await inner.shutdown() }
}
