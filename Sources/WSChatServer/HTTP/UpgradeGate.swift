import NIOCore
import NIOHTTP1

/// Stands in front of the WebSocket upgrade on every new connection and answers what the
/// upgrade path would answer badly or not at all, with a real HTTP status before any
/// WebSocket exists:
/// - 503 when the connection caps are reached (every accepted socket counts, upgraded or not);
/// - 400 for a malformed upgrade (no or bad `Sec-WebSocket-Key`), 426 with
///   `Sec-WebSocket-Version: 13` for another protocol version, 403 for a foreign `Origin`;
/// - 431 for request headers too large to parse, 400 for a request the parser rejects
///   (`Transfer-Encoding` with `Content-Length`, say);
/// - it closes a connection that has not sent its request head within the handshake timeout
///   (slowloris).
///
/// Hummingbird's upgrade path can only answer a refused upgrade with 400 and leaves a
/// request it cannot parse hanging, hence this handler; it removes itself once the first
/// request has gone through.
final class UpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Rules: Sendable {
        let origins: OriginPolicy
        let admission: ConnectionAdmission
        let headTimeout: TimeAmount
        /// Told each refusal's status and explanation (for the log and metrics).
        let onRefusal: @Sendable (HTTPResponseStatus, String) -> Void
    }

    struct Refusal {
        let status: HTTPResponseStatus
        let explanation: String
        var headers: [(String, String)] = []
    }

    private enum State {
        case awaitingHead
        /// Accepted over a connection cap: the request head is answered with this refusal.
        case overCapacity(Refusal)
        case passing
        case refusing
    }

    /// How long a connection over the caps may take to send its head before it is dropped.
    static let overCapacityGrace = TimeAmount.seconds(1)

    private let rules: Rules
    private var state = State.awaitingHead
    private var headDeadline: Scheduled<Void>?

    init(rules: Rules) {
        self.rules = rules
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        var timeout = rules.headTimeout
        if let refusal = admit(channel) {
            state = .overCapacity(refusal)
            timeout = min(timeout, Self.overCapacityGrace)
        }
        headDeadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headDeadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.overCapacity(let refusal), .head(let head)):
            headDeadline?.cancel()
            state = .refusing
            refuse(context: context, version: head.version, refusal)
        case (.awaitingHead, .head(let head)):
            headDeadline?.cancel()
            if let refusal = refusal(of: head) {
                state = .refusing
                refuse(context: context, version: head.version, refusal)
            } else {
                state = .passing
                context.fireChannelRead(data)
            }
        case (.passing, .end):
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case (.refusing, _), (.overCapacity, _):
            break
        default:
            context.fireChannelRead(data)
        }
    }

    /// A request the HTTP parser rejects is answered here; otherwise it would hang until the
    /// idle timeout.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if case .refusing = state { return }
        headDeadline?.cancel()
        state = .refusing
        let refusal =
            parserError == .headerOverflow
            ? Refusal(
                status: .requestHeaderFieldsTooLarge,
                explanation: "The request's headers are too large; send less than 80 KiB of headers.")
            : Refusal(status: .badRequest, explanation: "The request is not valid HTTP/1.1 (\(parserError)).")
        refuse(context: context, version: .http1_1, refusal, closeAfterwards: true)
    }

    /// Counts the new connection against the caps; returns the refusal when it is over one.
    private func admit(_ channel: any Channel) -> Refusal? {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        switch rules.admission.admit(address: address) {
        case .admitted:
            let admission = rules.admission
            channel.closeFuture.whenComplete { _ in admission.release(address: address) }
            return nil
        case .tooManyInTotal:
            return Refusal(
                status: .serviceUnavailable,
                explanation: "The server has all the connections it can take; try again later.",
                headers: [("retry-after", "10")])
        case .tooManyFromAddress:
            return Refusal(
                status: .serviceUnavailable,
                explanation: "Too many connections from your address; close some and try again.",
                headers: [("retry-after", "10")])
        }
    }

    private func refusal(of head: HTTPRequestHead) -> Refusal? {
        guard head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) else {
            return nil
        }
        if let problem = WebSocketHandshake.problem(with: head) { return problem }
        let origin = head.headers.first(name: "origin")
        guard rules.origins.permits(origin: origin, host: head.headers.first(name: "host")) else {
            return Refusal(
                status: .forbidden,
                explanation:
                    "WebSocket connections from the origin \(InertText.escaped(origin ?? "")) are not allowed here.")
        }
        return nil
    }

    private func refuse(
        context: ChannelHandlerContext, version: HTTPVersion, _ refusal: Refusal, closeAfterwards: Bool = false
    ) {
        rules.onRefusal(refusal.status, refusal.explanation)
        let body = context.channel.allocator.buffer(string: refusal.explanation + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "connection", value: "close")
        for (name, value) in refusal.headers { headers.add(name: name, value: value) }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: refusal.status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if closeAfterwards {
                // The parser has failed: nothing more can be read from this connection.
                channel.close(promise: nil)
            } else {
                // Telling the upgrade handler that input ended makes it close the channel
                // quietly, once the answer is on its way.
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }
    }
}
