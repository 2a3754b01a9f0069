import HTTPTypes
import NIOHTTP1
import WSCompression
import WSCore

/// permessage-deflate's negotiation for the server (RFC 7692), answered by swift-websocket's
/// builder with `server_no_context_takeover`: the server keeps no compression context between
/// messages, so one compressed copy of a broadcast serves every member (README "Compression"
/// weighs what that costs).
struct DeflateNegotiation: Sendable {
    static let name = "permessage-deflate"
    private let builder: any WebSocketExtensionBuilder
    /// What one compressed frame from a client may inflate to.
    let maxDecompressedSize: Int

    init(maxDecompressedSize: Int) {
        builder = WebSocketExtensionFactory.perMessageDeflate(serverNoContextTakeover: true).build()
        self.maxDecompressedSize = maxDecompressedSize
    }

    /// What both sides use once the server has answered an offer.
    struct Agreement: Equatable {
        /// The `Sec-WebSocket-Extensions` answer.
        let header: String
        let clientWindowBits: Int
        let clientNoContextTakeover: Bool
        let serverWindowBits: Int

        /// Whether the hub's shared compressed frames suit the connection: they use zlib's
        /// full 32 KiB window, so a client that limits the server's window gets plain ones.
        var takesSharedFrames: Bool { serverWindowBits == 15 }
    }

    /// The answer to the first permessage-deflate offer among an upgrade request's headers (the
    /// builder answers any), or nil when there is none.
    func agreement(offeredIn headers: HTTPHeaders) -> Agreement? {
        let offered = headers["sec-websocket-extensions"]
        guard !offered.isEmpty else { return nil }
        let offers = WebSocketExtensionHTTPParameters.parseHeaders(
            HTTPFields(offered.map { HTTPField(name: .secWebSocketExtensions, value: $0) }))
        guard let offer = offers.first(where: { $0.name == Self.name }),
            let header = builder.serverReponseHeader(to: offer),
            let answer = WebSocketExtensionHTTPParameters.parseHeaders([.secWebSocketExtensions: header]).first
        else { return nil }
        return Agreement(
            header: header,
            clientWindowBits: answer.parameters["client_max_window_bits"]?.integer ?? 15,
            clientNoContextTakeover: answer.parameters["client_no_context_takeover"] != nil,
            serverWindowBits: answer.parameters["server_max_window_bits"]?.integer ?? 15)
    }

    /// The inflater for what the client sends under `agreement`.
    func inflater(for agreement: Agreement) -> MessageInflater {
        MessageInflater(
            windowBits: agreement.clientWindowBits, resetsAfterMessage: agreement.clientNoContextTakeover,
            maxBytes: maxDecompressedSize)
    }
}
