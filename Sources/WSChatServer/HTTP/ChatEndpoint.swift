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
            return .upgrade(headers) { [hub, configuration, metrics, authThrottle, events] inbound, outbound, context in
                let connection = ChatConnection(
                    hub: hub, configuration: configuration, metrics: metrics, channel: channel,
                    address: channel.remoteAddress?.ipAddress ?? "unknown", authThrottle: authThrottle, events: events,
                    logger: context.logger)
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

    static func offeredProtocols(_ request: HTTPRequest) -> [String] {
        request.headerFields[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
