import NIOCore
import NIOWebSocket

/// Carries one WebSocket's I/O on its event loop, with no task of its own: the bytes the
/// socket reads go into a `WebSocketServerCore`, whose actions it carries out, and whole
/// messages go to the connection's `WebSocketEndpoint`. It is also the writing end of the
/// connection's `Delivery`: frames already encoded are gathered into one buffer per turn of
/// the loop and written and flushed at its end (`Corked`).
///
/// Framing both ways happens here rather than in NIOWebSocket's codec handlers, so that a
/// connection is this one handler: an idle connection costs less.
final class WebSocketConnectionHandler: ChannelInboundHandler, LoopSweep.Member {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Set before the handler joins its pipeline; both are let go when the socket closes (the
    /// `Delivery` holds this handler, and the endpoint usually holds the `Delivery`).
    var endpoint: (any WebSocketEndpoint)?
    var delivery: Delivery?
    private var core: WebSocketServerCore
    private var context: ChannelHandlerContext?
    private let flusher: LoopFlusher
    /// Pings the connection every ping interval, with the others on its loop.
    private let keepalive: LoopSweep
    /// Whether the connection is closed when its outgoing queue passes the channel's high
    /// water mark (else the endpoint stops reading instead).
    private let closesOnOverflow: Bool
    private let closeTimeout: TimeAmount
    /// Set once a close frame is written: nothing is written after it.
    private var closeWritten: EventLoopFuture<Void>?
    private var flushPending = false
    /// Frames queued in this turn of the loop, written as one buffer at its end.
    private var corked = Corked()
    private var closeTimer: Scheduled<Void>?
    var sweepSlot: Int?

    init(
        core: WebSocketServerCore, flusher: LoopFlusher, keepalive: LoopSweep, closesOnOverflow: Bool,
        closeTimeout: TimeAmount
    ) {
        self.core = core
        self.flusher = flusher
        self.keepalive = keepalive
        self.closesOnOverflow = closesOnOverflow
        self.closeTimeout = closeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        keepalive.join(self)
        endpoint?.opened(on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        closeTimer?.cancel()
        keepalive.leave(self)
    }

    /// The ping interval has passed: a ping, or the end for a client that never answered the last.
    func swept(at now: NIODeadline) -> Bool {
        carryOut(core.pingDue())
        return core.state == .open
    }

    // MARK: The way out

    /// Queues an encoded frame; it is written and flushed at the end of this turn of the
    /// event loop, with the others queued in the turn. `broadcast`: other connections on
    /// this loop get the same frame in this turn.
    func enqueue(_ bytes: ByteBuffer, broadcast: Bool = false) {
        guard closeWritten == nil, context != nil else { return }
        if let full = corked.append(bytes, broadcast: broadcast, joins: flusher.joins) {
            context?.write(wrapOutboundOut(full), promise: nil)
        }
        requestFlush()
    }

    func flushNow() {
        flushPending = false
        writeCorked()
        context?.flush()
    }

    /// Hands what this turn gathered to the channel. It is taken out first: the write can
    /// pass the byte bound, and the close that follows must not find it again.
    private func writeCorked() {
        guard let bytes = corked.take(), let context else { return }
        context.write(wrapOutboundOut(bytes), promise: nil)
    }

    private func requestFlush() {
        guard !flushPending else { return }
        flushPending = true
        flusher.add(self)
    }

    func close(_ code: WebSocketErrorCode, reason: String) {
        carryOut(core.close(code, reason: reason))
    }

    // MARK: Events in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        carryOut(core.received(unwrapInboundIn(data)))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, closesOnOverflow, closeWritten == nil, core.state != .closed {
            // Over the byte bound: say why (it gets through if the client reads again soon),
            // then drop the socket and everything queued for it now.
            endpoint?.overflowed()
            core.closeWritten()
            _ = corked.take()
            writeClose(.policyViolation, reason: "too slow")
            context.close(promise: nil)
        }
        endpoint?.writabilityChanged(isWritable: context.channel.isWritable, channel: context.channel)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            carryOut(core.close(.goingAway, reason: "server shutting down"))
        case ChannelEvent.inputClosed:
            // The client half-closed without a close frame: nothing more will come.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.socketClosed()
        delivery?.markClosing()
        closeTimer?.cancel()
        keepalive.leave(self)
        endpoint?.closed()
        endpoint = nil
        delivery = nil
        context.fireChannelInactive()
    }

    // MARK: Actions

    private func carryOut(_ actions: [WebSocketServerCore.Action]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .deliver(let message):
                endpoint?.received(message)
            case .send(let frame):
                enqueue(WireFrame.control(frame))
            case .sendClose(let code, let reason):
                writeClose(code, reason: reason)
                closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: closeTimeout) {
                    context.close(promise: nil)
                }
            case .closeSocket:
                // After the close frame has been written, if there is one.
                if let closeWritten {
                    closeWritten.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
            }
        }
    }

    private func writeClose(_ code: WebSocketErrorCode, reason: String) {
        guard closeWritten == nil, let context else { return }
        delivery?.markClosing()
        writeCorked()
        let promise = context.eventLoop.makePromise(of: Void.self)
        closeWritten = promise.futureResult
        context.writeAndFlush(wrapOutboundOut(WireFrame.close(code, reason: reason)), promise: promise)
        keepalive.leave(self)
    }
}
