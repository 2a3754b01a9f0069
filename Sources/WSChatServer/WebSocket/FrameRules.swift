import CompressNIO
import HTTPTypes
import NIOCore
import NIOWebSocket
import Synchronization
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

/// permessage-deflate for the server (RFC 7692), negotiated by swift-websocket's builder (its
/// answer carries `server_no_context_takeover`), with what a server that shares frames
/// between connections needs:
/// - zlib state only when it is used: the inflater is made on the first compressed message a
///   client sends, the deflater on the first message it sends (only `/echo` sends
///   frames through here; the chat's are compressed once per broadcast by the hub), so an
///   idle connection holds none of zlib's 300 KB of window and tables;
/// - a message that inflates past the limit closes with 1009 (message too big), which says
///   what happened, instead of swift-websocket's 1011 (server error).
struct BoundedDeflateBuilder: WebSocketExtensionBuilder {
    static let name = "permessage-deflate"
    let deflate: any WebSocketExtensionBuilder
    let maxDecompressedSize: Int

    /// `deflate` is `WebSocketExtensionFactory.perMessageDeflate(…)`, used for its negotiation.
    init(_ deflate: WebSocketExtensionFactory, maxDecompressedSize: Int) {
        self.deflate = deflate.build()
        self.maxDecompressedSize = maxDecompressedSize
    }

    var factory: WebSocketExtensionFactory { WebSocketExtensionFactory { self } }

    /// The parameters the server answers `offer` with, which both sides then use; nil when it
    /// declines the offer.
    func answer(to offer: WebSocketExtensionHTTPParameters) -> WebSocketExtensionHTTPParameters? {
        guard let header = deflate.serverReponseHeader(to: offer) else { return nil }
        return WebSocketExtensionHTTPParameters.parseHeaders([.secWebSocketExtensions: header]).first
    }

    func clientRequestHeader() -> String { deflate.clientRequestHeader() }

    func serverReponseHeader(to request: WebSocketExtensionHTTPParameters) -> String? {
        deflate.serverReponseHeader(to: request)
    }

    func serverExtension(from request: WebSocketExtensionHTTPParameters) throws -> (any WebSocketExtension)? {
        // Set up from the answer the client got, so that the two cannot disagree.
        guard let answer = answer(to: request)?.parameters else { return nil }
        return LazyDeflate(
            receiveWindow: answer["client_max_window_bits"]?.integer ?? 15,
            receiveNoContextTakeover: answer["client_no_context_takeover"] != nil,
            sendWindow: answer["server_max_window_bits"]?.integer ?? 15,
            maxDecompressedSize: maxDecompressedSize)
    }

    /// Only servers use this builder.
    func clientExtension(from response: WebSocketExtensionHTTPParameters) throws -> (any WebSocketExtension)? {
        nil
    }
}

private final class LazyDeflate: WebSocketExtension {
    let name = BoundedDeflateBuilder.name
    let reservedBits: WebSocketFrame.ReservedBits = .rsv1
    private let receiveWindow: Int32
    private let receiveNoContextTakeover: Bool
    private let sendWindow: Int32
    private let maxDecompressedSize: Int
    private let state = Mutex(State())

    private struct State {
        var inflater: ZlibDecompressor?
        var deflater: MessageDeflater?
        /// Whether the message being received, one frame after another, is compressed (RSV1
        /// on its first frame); nil between messages.
        var receivingCompressed: Bool?
    }

    init(receiveWindow: Int, receiveNoContextTakeover: Bool, sendWindow: Int, maxDecompressedSize: Int) {
        self.receiveWindow = Int32(receiveWindow)
        self.receiveNoContextTakeover = receiveNoContextTakeover
        self.sendWindow = Int32(sendWindow)
        self.maxDecompressedSize = maxDecompressedSize
    }

    func processReceivedFrame(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws
        -> WebSocketFrame
    {
        guard frame.opcode == .text || frame.opcode == .binary || frame.opcode == .continuation else { return frame }
        return try state.withLock { state in
            let compressed = state.receivingCompressed ?? frame.rsv1
            state.receivingCompressed = frame.fin ? nil : compressed
            guard compressed else { return frame }
            var data = frame.unmaskedData
            // §7.2.2: the sender removed the final empty block's 00 00 ff ff.
            if frame.fin { data.writeBytes([0, 0, 0xff, 0xff]) }
            let inflater = try state.inflater ?? ZlibDecompressor(algorithm: .deflate, windowSize: receiveWindow)
            state.inflater = inflater
            var inflated = frame
            do {
                inflated.data = try data.decompressStream(with: inflater, maxSize: maxDecompressedSize)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // swift-websocket closes with 1009 for this error.
                throw NIOWebSocketError.invalidFrameLength
            }
            inflated.maskKey = nil
            if frame.fin, receiveNoContextTakeover { try inflater.reset() }
            return inflated
        }
    }

    func processFrameToSend(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws
        -> WebSocketFrame
    {
        // Whole messages only: a fragmented one goes out as it is, which RFC 7692 allows.
        guard frame.fin, frame.opcode == .text || frame.opcode == .binary else { return frame }
        var data = frame.data
        let deflated = try state.withLock { state in
            // Every message, however short: /echo answers conformance suites, whose
            // compression cases expect each echo compressed (kosoku's cases 12.x and 13.x fail
            // on an uncompressed text echo).
            let deflater = try state.deflater ?? MessageDeflater(windowSize: sendWindow, minimumBytes: 0)
            state.deflater = deflater
            return deflater.deflate(&data)
        }
        guard let deflated else { return frame }
        var compressed = frame
        compressed.data = deflated
        compressed.rsv1 = true
        return compressed
    }

    func shutdown() async {}
}
