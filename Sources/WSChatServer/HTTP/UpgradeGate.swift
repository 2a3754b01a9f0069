import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import WSChatProtocol

/// Takes every new connection's first request, parsed by NIO's HTTP decoder, and decides what
/// the connection becomes, all on its event loop and at once:
/// - a WebSocket: it answers 101, takes the HTTP handlers out and puts the endpoint's in;
/// - plain HTTP: it puts Hummingbird's HTTP handlers after itself and hands the connection to a
///   task (`outcome`), where the router answers it;
/// - refused, with a real HTTP status before any WebSocket exists: 503 when the connection caps
///   are reached (every accepted socket counts, upgraded or not); 400 for a malformed upgrade
///   (no or bad `Sec-WebSocket-Key`, no `Connection: Upgrade`, not `GET`, a body) or one to a
///   path no endpoint takes, 426 with `Sec-WebSocket-Version: 13` for another protocol
///   version, 403 for a foreign `Origin`; 431 for request headers too large to parse and 400
///   for a request the parser rejects (`Transfer-Encoding` with `Content-Length`, say).
///
/// It closes a connection that has not sent its whole first request within the handshake
/// timeout (slowloris, or an upgrade announcing a body that never comes), and removes itself
/// once the first request has gone through.
///
/// NIO's typed upgrade handler, which did the upgrade before, goes through a chain of futures;
/// with them and the runtime's generic lookups they need, a handshake cost the server about
/// 1.6 times as much CPU (docs/PERFORMANCE.md).
final class UpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Rules: Sendable {
        let origins: OriginPolicy
        let admission: ConnectionAdmission
        let requestTimeout: TimeAmount
        /// Told each refusal's status and explanation (for the log and metrics).
        let onRefusal: @Sendable (HTTPResponseStatus, String) -> Void
    }

    struct Refusal {
        let status: HTTPResponseStatus
        let explanation: String
        var headers: [(String, String)] = []
    }

    /// What a connection became once its first request went through the gate.
    enum Outcome: Sendable {
        case webSocket
        /// A connection that stays HTTP, to be answered in a task.
        case plainHTTP(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    /// The HTTP/1 handlers in front of the gate, which an upgrade takes out.
    struct HTTPHandlers {
        let decoder: ByteToMessageHandler<HTTPRequestDecoder>
        let encoder: HTTPResponseEncoder
    }

    private enum State {
        case awaitingHead
        /// Accepted over a connection cap: the request head is answered with this refusal.
        case overCapacity(Refusal)
        /// An upgrade an endpoint takes, waiting for the end of its request.
        case upgrading(ChatEndpoint.Upgrade, HTTPResponseHead)
        /// Handed on as a WebSocket or as HTTP: whatever still reaches the gate goes on.
        case handedOn
        case refusing
    }

    /// How long a connection over the caps may take to send its head before it is dropped.
    static let overCapacityGrace = TimeAmount.seconds(1)

    private let rules: Rules
    private let endpoint: ChatEndpoint
    private let http: HTTPHandlers
    /// Sets up the HTTP pipeline after the gate, for a connection that stays HTTP.
    private let openHTTP: (any Channel) throws -> NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    private var state = State.awaitingHead
    private var requestDeadline: Scheduled<Void>?
    private let outcomePromise: EventLoopPromise<Outcome>

    /// Fails when the connection closes before its first request went through.
    var outcome: EventLoopFuture<Outcome> { outcomePromise.futureResult }

    init(
        rules: Rules, endpoint: ChatEndpoint, http: HTTPHandlers, on eventLoop: any EventLoop,
        openHTTP: @escaping (any Channel) throws -> NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    ) {
        self.rules = rules
        self.endpoint = endpoint
        self.http = http
        self.openHTTP = openHTTP
        outcomePromise = eventLoop.makePromise()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        var timeout = rules.requestTimeout
        if let refusal = admit(channel) {
            state = .overCapacity(refusal)
            timeout = min(timeout, Self.overCapacityGrace)
        }
        requestDeadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        requestDeadline?.cancel()
        if case .handedOn = state { return }
        outcomePromise.fail(ChannelError.ioOnClosedChannel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .handedOn = state {
            // After an upgrade this is the bytes that came after the request, not HTTP.
            context.fireChannelRead(data)
            return
        }
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.overCapacity(let refusal), .head(let head)):
            refuse(context: context, version: head.version, refusal)
        case (.awaitingHead, .head(let head)):
            guard WebSocketHandshake.isUpgrade(head) else {
                handOnAsHTTP(context: context, head: data)
                return
            }
            if let refusal = refusal(of: head) {
                refuse(context: context, version: head.version, refusal)
            } else if let (headers, upgrade) = endpoint.shouldUpgrade(head) {
                state = .upgrading(upgrade, WebSocketHandshake.acceptance(of: head, with: headers))
            } else {
                refuse(
                    context: context, version: head.version,
                    Refusal(
                        status: .badRequest,
                        explanation:
                            "There is no WebSocket endpoint at \(InertText.escaped(head.uri)); the chat is at \(WireProtocol.chatPath)."
                    ))
            }
        case (.upgrading(let upgrade, let response), .end):
            self.upgrade(context: context, upgrade, response: response)
        case (.upgrading, _):
            refuse(
                context: context, version: .http1_1,
                Refusal(status: .badRequest, explanation: "A WebSocket upgrade request must not have a body."))
        case (.refusing, _), (.overCapacity, _), (.awaitingHead, _), (.handedOn, _):
            // The parser always starts a request with its head; after a refusal, nothing counts.
            break
        }
    }

    /// A connection that ends its input before its request is complete can never be answered;
    /// one still without a whole request when the server shuts down is not waited for.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let endsTheWait = event is ChannelShouldQuiesceEvent || event as? ChannelEvent == .inputClosed
        switch state {
        case .awaitingHead, .overCapacity, .upgrading:
            if endsTheWait {
                context.close(promise: nil)
            } else {
                context.fireUserInboundEventTriggered(event)
            }
        case .handedOn, .refusing:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A request the HTTP parser rejects is answered here; otherwise it would hang until the
    /// idle timeout.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch state {
        case .refusing, .handedOn:
            context.fireErrorCaught(error)
        case .awaitingHead, .overCapacity, .upgrading:
            let refusal =
                parserError == .headerOverflow
                ? Refusal(
                    status: .requestHeaderFieldsTooLarge,
                    explanation: "The request's headers are too large; send less than 80 KiB of headers.")
                : Refusal(status: .badRequest, explanation: "The request is not valid HTTP/1.1 (\(parserError)).")
            refuse(context: context, version: .http1_1, refusal)
        }
    }

    /// Answers 101 through the HTTP encoder, then takes the HTTP handlers and itself out and
    /// puts the endpoint's handlers in. The decoder leaves last, at the end of this loop turn:
    /// it hands on whatever the client sent after its request (its first frames, say), which
    /// then reaches the endpoint's handlers.
    private func upgrade(context: ChannelHandlerContext, _ upgrade: ChatEndpoint.Upgrade, response: HTTPResponseHead) {
        context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
        let pipeline = context.pipeline.syncOperations
        pipeline.removeHandler(http.encoder, promise: nil)
        do {
            try endpoint.install(upgrade, on: context.channel)
        } catch {
            state = .refusing
            context.close(promise: nil)
            return
        }
        pipeline.removeHandler(http.decoder, promise: nil)
        leave(context, handingOn: .webSocket)
    }

    /// Puts Hummingbird's HTTP handlers after the gate, hands them the request head and the
    /// connection to a task, and leaves.
    private func handOnAsHTTP(context: ChannelHandlerContext, head: NIOAny) {
        let channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
        do {
            channel = try openHTTP(context.channel)
        } catch {
            state = .refusing
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(head)
        leave(context, handingOn: .plainHTTP(channel))
    }

    /// The first request has gone through: the gate leaves the pipeline and says what the
    /// connection became.
    private func leave(_ context: ChannelHandlerContext, handingOn outcome: Outcome) {
        state = .handedOn
        requestDeadline?.cancel()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        outcomePromise.succeed(outcome)
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

    /// Why an upgrade to WebSocket is refused before any endpoint sees it; nil when it is not.
    private func refusal(of head: HTTPRequestHead) -> Refusal? {
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

    /// Answers with `refusal` and closes the connection once the answer is written; nothing
    /// more it sends is read.
    private func refuse(context: ChannelHandlerContext, version: HTTPVersion, _ refusal: Refusal) {
        state = .refusing
        requestDeadline?.cancel()
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
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
