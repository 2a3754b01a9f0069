import NIOCore
import NIOHTTP1

/// Stands in front of the WebSocket upgrade on every new HTTP connection and refuses an
/// upgrade with a real HTTP status before any WebSocket exists: 403 for a foreign `Origin`,
/// 503 when there are too many connections in total or from one address. It also closes a
/// connection that has not sent its request head within the handshake timeout (slowloris).
///
/// Hummingbird's upgrade path can only answer a refused upgrade with 400, hence this handler;
/// it removes itself once the first request has gone through.
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

    private enum State {
        case awaitingHead
        case passing
        case refusing
    }

    private let rules: Rules
    private var state = State.awaitingHead
    private var headDeadline: Scheduled<Void>?

    init(rules: Rules) {
        self.rules = rules
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        headDeadline = context.eventLoop.scheduleTask(in: rules.headTimeout) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headDeadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.awaitingHead, .head(let head)):
            headDeadline?.cancel()
            if let refusal = refusal(of: head, channel: context.channel) {
                state = .refusing
                refuse(context: context, head: head, refusal)
            } else {
                state = .passing
                context.fireChannelRead(data)
            }
        case (.passing, .end):
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case (.refusing, _):
            break
        default:
            context.fireChannelRead(data)
        }
    }

    private struct Refusal {
        let status: HTTPResponseStatus
        let explanation: String
    }

    private func refusal(of head: HTTPRequestHead, channel: any Channel) -> Refusal? {
        guard head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) else {
            return nil
        }
        let origin = head.headers.first(name: "origin")
        guard rules.origins.permits(origin: origin, host: head.headers.first(name: "host")) else {
            return Refusal(
                status: .forbidden,
                explanation: "WebSocket connections from the origin \(origin ?? "") are not allowed here.")
        }
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        switch rules.admission.admit(address: address) {
        case .admitted:
            let admission = rules.admission
            channel.closeFuture.whenComplete { _ in admission.release(address: address) }
            return nil
        case .tooManyInTotal:
            return Refusal(
                status: .serviceUnavailable,
                explanation: "The server has all the connections it can take; try again later.")
        case .tooManyFromAddress:
            return Refusal(
                status: .serviceUnavailable,
                explanation: "Too many connections from your address; close some and try again.")
        }
    }

    private func refuse(context: ChannelHandlerContext, head: HTTPRequestHead, _ refusal: Refusal) {
        rules.onRefusal(refusal.status, refusal.explanation)
        let body = context.channel.allocator.buffer(string: refusal.explanation + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "connection", value: "close")
        if refusal.status == .serviceUnavailable { headers.add(name: "retry-after", value: "10") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: refusal.status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        // Telling the upgrade handler that input ended makes it close the channel quietly,
        // once the answer is on its way.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }
}
