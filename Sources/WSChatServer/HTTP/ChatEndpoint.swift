import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import WSCore

/// Which upgrade requests become WebSockets: `/ws` (the chat, selecting subprotocol
/// `wschat.v1` when offered) and, when enabled, `/echo`.
struct ChatEndpoint: Sendable {
    static let subprotocol = "wschat.v1"

    let hub: ChatHub
    let configuration: ChatServerConfiguration
    let metrics: ServerMetrics
    let authThrottle: SharedAuthThrottle
    let events: SummarisedLog
    /// The permessage-deflate negotiation the server runs.
    let deflate: BoundedDeflateBuilder

    func upgrade(_ request: HTTPRequest, channel: any Channel)
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        let path = request.path.map { $0.split(separator: "?", maxSplits: 1).first.map(String.init) ?? $0 } ?? "/"
        switch path {
        case "/ws":
            var headers = HTTPFields()
            if Self.offeredProtocols(request).contains(Self.subprotocol) {
                headers[.secWebSocketProtocol] = Self.subprotocol
            }
            let deflate = sharesDeflatedFrames(request)
            return .upgrade(headers) { [hub, configuration, metrics, authThrottle, events] inbound, outbound, _ in
                let connection = ChatConnection(
                    hub: hub, configuration: configuration, metrics: metrics, channel: channel, deflate: deflate,
                    address: channel.remoteAddress?.ipAddress ?? "unknown", authThrottle: authThrottle, events: events)
                try await connection.run(inbound: inbound, outbound: outbound)
            }
        case "/echo" where configuration.echoEndpoint:
            return .upgrade([:]) { [configuration] inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: configuration.maxFrameSize) {
                    switch message {
                    case .text(let text): try await outbound.write(.text(text))
                    case .binary(let bytes): try await outbound.write(.binary(bytes))
                    }
                }
            }
        default:
            return .dontUpgrade
        }
    }

    /// Whether the upgrade will negotiate permessage-deflate (`deflate` makes the same
    /// decision for Hummingbird) with a window the shared compressed frames fit: those use
    /// zlib's full 32 KiB window, so a client that limits the server's window gets plain frames.
    func sharesDeflatedFrames(_ request: HTTPRequest) -> Bool {
        let offers = WebSocketExtensionHTTPParameters.parseHeaders(request.headerFields)
            .filter { $0.name == BoundedDeflateBuilder.name }
        // Hummingbird takes the first offer it can answer; this one answers any.
        guard let answer = offers.first.flatMap(deflate.answer) else { return false }
        return answer.parameters["server_max_window_bits"].map { $0.integer == 15 } ?? true
    }

    static func offeredProtocols(_ request: HTTPRequest) -> [String] {
        request.headerFields[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
