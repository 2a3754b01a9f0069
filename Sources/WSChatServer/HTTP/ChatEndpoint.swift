import NIOCore
import NIOHTTP1
import WSChatProtocol

/// Which upgrade requests become WebSockets, and what each gets in its pipeline: `/ws` (the
/// chat, selecting subprotocol `wschat.v1` when offered) and, when enabled, `/echo`.
struct ChatEndpoint: Sendable {

    let services: ChatServices
    let deflate: DeflateNegotiation

    var configuration: ChatServerConfiguration { services.configuration }

    /// An upgrade the endpoint accepted.
    struct Upgrade: Sendable {
        enum Kind: Sendable {
            case chat
            case echo
        }

        let kind: Kind
        let deflate: DeflateNegotiation.Agreement?
    }

    /// Whether the upgrade request `head` becomes a WebSocket: the 101 response's own headers
    /// (subprotocol, extensions) and what the connection gets, or nil when no endpoint takes it.
    func shouldUpgrade(_ head: HTTPRequestHead) -> (HTTPHeaders, Upgrade)? {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let kind: Upgrade.Kind
        var headers = HTTPHeaders()
        switch path {
        case WireProtocol.chatPath[...]:
            kind = .chat
            if head.headers[canonicalForm: "sec-websocket-protocol"].contains(WireProtocol.subprotocol[...]) {
                headers.add(name: "sec-websocket-protocol", value: WireProtocol.subprotocol)
            }
        case "/echo" where configuration.echoEndpoint:
            kind = .echo
        default:
            return nil
        }
        let agreement = deflate.agreement(offeredIn: head.headers)
        if let agreement { headers.add(name: "sec-websocket-extensions", value: agreement.header) }
        return (headers, Upgrade(kind: kind, deflate: agreement))
    }

    /// Sets up an upgraded channel's pipeline. Runs on the channel's event loop; the
    /// connection then lives in its handlers, with no task.
    func install(_ upgrade: Upgrade, on channel: any Channel) throws {
        var settings = Delivery.Settings(
            maxMessageBytes: configuration.maxFrameSize, inflater: upgrade.deflate.map(deflate.inflater),
            deflate: false, byteLimit: nil, closeTimeout: TimeAmount(configuration.closeTimeout),
            pingInterval: TimeAmount(configuration.pingInterval))
        switch upgrade.kind {
        case .chat:
            let id = ConnectionID()
            settings.deflate = upgrade.deflate?.takesSharedFrames ?? false
            settings.byteLimit = configuration.sendQueueBytes
            let address = channel.remoteAddress?.ipAddress ?? "unknown"
            try Delivery.install(on: channel, settings) { [services] delivery in
                ChatConnection(session: ChatSession(id: id, services: services, delivery: delivery, address: address))
            }
        case .echo:
            settings.deflate = upgrade.deflate != nil
            // Every message, however short: conformance suites expect each echo compressed.
            let deflater = try upgrade.deflate.map {
                try MessageDeflater(windowSize: Int32($0.serverWindowBits), minimumBytes: 0)
            }
            try Delivery.install(on: channel, settings) { EchoConnection(delivery: $0, deflater: deflater) }
        }
    }
}

/// `/echo`: sends every message back as it came, for conformance suites. While its client
/// does not read, it stops reading too.
private final class EchoConnection: WebSocketEndpoint {
    let delivery: Delivery
    let deflater: MessageDeflater?

    init(delivery: Delivery, deflater: MessageDeflater?) {
        self.delivery = delivery
        self.deflater = deflater
    }

    func received(_ message: WebSocketServerCore.Message) {
        switch message {
        case .text(let text): delivery.sendOnLoop(WireFrame(text: text, deflater: deflater))
        case .binary(let bytes): delivery.sendOnLoop(WireFrame(binary: bytes, deflater: deflater))
        }
    }

    func writabilityChanged(isWritable: Bool, channel: any Channel) {
        try? channel.syncOptions?.setOption(.autoRead, value: isWritable)
    }
}
