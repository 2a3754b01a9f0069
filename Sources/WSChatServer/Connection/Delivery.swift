import NIOCore
import NIOWebSocket
import Synchronization
import WSChatProtocol

/// One connection's way out: frames from the hub go straight into the connection's channel
/// on its event loop, already encoded, and the channel is flushed once per turn of the loop,
/// so one write carries everything queued for the connection in that turn.
///
/// Senders never wait. The channel's own buffer is the queue, bounded in bytes by its high
/// water mark: replies to a client's own requests count as much as broadcasts, so a client
/// that asks without reading only hurts itself. A connection over the bound is closed with
/// 1008 at once, which releases everything queued for it.
final class Delivery: Sendable {
    let eventLoop: any EventLoop
    /// Whether the connection negotiated permessage-deflate: it gets compressed frames.
    let deflate: Bool
    private let handler: NIOLoopBound<DeliveryHandler>
    private let state: DeliveryState

    private init(eventLoop: any EventLoop, deflate: Bool, handler: NIOLoopBound<DeliveryHandler>, state: DeliveryState)
    {
        self.eventLoop = eventLoop
        self.deflate = deflate
        self.handler = handler
        self.state = state
    }

    /// Puts a `Delivery` into a WebSocket channel's pipeline, next to NIOWebSocket's frame
    /// encoder. Runs on the channel's event loop.
    static func install(
        on channel: any Channel, deflate: Bool, byteLimit: Int, closeTimeout: TimeAmount,
        onOverflow: @escaping @Sendable () -> Void
    ) throws -> Delivery {
        let pipeline = channel.pipeline.syncOperations
        let encoder = try pipeline.context(handlerType: WebSocketFrameEncoder.self)
        try channel.syncOptions?.setOption(
            .writeBufferWaterMark, value: .init(low: byteLimit / 2, high: byteLimit))
        let state = DeliveryState()
        let handler = DeliveryHandler(
            wire: encoder, flusher: LoopFlusher.on(channel.eventLoop), state: state, closeTimeout: closeTimeout,
            onOverflow: onOverflow)
        try pipeline.addHandler(handler, position: .after(encoder.handler))
        return Delivery(
            eventLoop: channel.eventLoop, deflate: deflate,
            handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
            state: state)
    }

    /// Whether a close frame has gone out (or the connection is gone): frames read from the
    /// client now are ignored and frames for it are dropped.
    var isClosing: Bool { state.closing.load(ordering: .relaxed) }

    /// Queues a message for this connection alone, compressed by `deflater` when the
    /// connection takes compressed frames and the message is long enough.
    func send(_ message: ServerMessage, deflater: MessageDeflater? = nil) {
        guard !isClosing else { return }
        send(WireFrame(text: message.encoded(), deflater: deflate ? deflater : nil))
    }

    /// Queues a frame for this connection.
    func send(_ frame: WireFrame) {
        guard !isClosing else { return }
        let bytes = frame.bytes(deflate: deflate)
        eventLoop.execute { [handler] in handler.value.enqueue(bytes) }
    }

    /// Queues a close frame after everything already queued; later frames are dropped, and
    /// the socket is closed when the client has not answered within the close timeout.
    func close(_ code: CloseCode, reason: String) {
        eventLoop.execute { [handler] in handler.value.sendClose(code, reason: reason) }
    }

    /// Queues one frame for many connections: one task per event loop, not per connection.
    static func deliver(_ frame: WireFrame, to deliveries: [Delivery]) {
        var byLoop: [(loop: any EventLoop, deliveries: [Delivery])] = []
        for delivery in deliveries where !delivery.isClosing {
            if let index = byLoop.firstIndex(where: { $0.loop === delivery.eventLoop }) {
                byLoop[index].deliveries.append(delivery)
            } else {
                byLoop.append((delivery.eventLoop, [delivery]))
            }
        }
        for group in byLoop {
            group.loop.execute {
                for delivery in group.deliveries {
                    delivery.handler.value.enqueue(frame.bytes(deflate: delivery.deflate))
                }
            }
        }
    }
}

/// What the hub's side of a `Delivery` reads without going to the event loop.
private final class DeliveryState: Sendable {
    let closing = Atomic<Bool>(false)
}

/// The channel handler behind a `Delivery`, just above NIOWebSocket's frame encoder: the
/// hub's frames, already encoded, are written below the encoder (through its context), and
/// swift-websocket's own frames (pings, pongs, its close) pass through here, so this handler
/// sees every frame that leaves and no data frame follows a close.
private final class DeliveryHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame

    /// The encoder's context: what is written there goes to the socket as it is.
    private var wire: ChannelHandlerContext?
    private var context: ChannelHandlerContext?
    private let flusher: LoopFlusher
    private let state: DeliveryState
    private let closeTimeout: TimeAmount
    private let onOverflow: @Sendable () -> Void
    private var closeSent = false
    private var flushPending = false
    private var closeTimer: Scheduled<Void>?

    init(
        wire: ChannelHandlerContext, flusher: LoopFlusher, state: DeliveryState, closeTimeout: TimeAmount,
        onOverflow: @escaping @Sendable () -> Void
    ) {
        self.wire = wire
        self.flusher = flusher
        self.state = state
        self.closeTimeout = closeTimeout
        self.onOverflow = onOverflow
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        wire = nil
        closeTimer?.cancel()
    }

    /// Writes an encoded frame; the flush comes at the end of this turn of the event loop.
    func enqueue(_ bytes: ByteBuffer) {
        guard !closeSent, let wire else { return }
        wire.write(NIOAny(bytes), promise: nil)
        guard !flushPending, !closeSent else { return }
        flushPending = true
        flusher.add(self)
    }

    func flushNow() {
        flushPending = false
        wire?.flush()
    }

    func sendClose(_ code: CloseCode, reason: String) {
        guard let context, beginClose() else { return }
        wire?.writeAndFlush(NIOAny(WireFrame.close(code, reason: reason)), promise: nil)
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: closeTimeout) {
            context.close(promise: nil)
        }
    }

    /// Marks the connection closing; false when it already was.
    private func beginClose() -> Bool {
        guard !closeSent else { return false }
        closeSent = true
        state.closing.store(true, ordering: .relaxed)
        return true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closeSent else {
            // swift-websocket answering the client's close after ours: already said.
            promise?.succeed()
            return
        }
        if unwrapOutboundIn(data).opcode == .connectionClose { _ = beginClose() }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, beginClose() {
            // Over the byte bound: say why (it gets through if the client reads again soon),
            // then drop the socket and everything queued for it now.
            onOverflow()
            wire?.writeAndFlush(NIOAny(WireFrame.close(.policyViolation, reason: "too slow")), promise: nil)
            context.close(promise: nil)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.closing.store(true, ordering: .relaxed)
        closeTimer?.cancel()
        context.fireChannelInactive()
    }
}

/// Flushes, once per turn of an event loop, every connection written to in that turn: a
/// broadcast followed by more broadcasts in the same turn reaches each member in one write.
private final class LoopFlusher {
    private let eventLoop: any EventLoop
    private var pending: [DeliveryHandler] = []

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func add(_ handler: DeliveryHandler) {
        pending.append(handler)
        guard pending.count == 1 else { return }
        // Runs after the tasks already queued on the loop, which may write more.
        eventLoop.assumeIsolated().execute { self.flushAll() }
    }

    private func flushAll() {
        let handlers = pending
        pending = []
        for handler in handlers { handler.flushNow() }
    }

    private static let flushers = Mutex<[ObjectIdentifier: NIOLoopBound<LoopFlusher>]>([:])

    /// The flusher of `eventLoop`; called on that loop.
    static func on(_ eventLoop: any EventLoop) -> LoopFlusher {
        let bound = flushers.withLock { flushers in
            let key = ObjectIdentifier(eventLoop)
            if let existing = flushers[key] { return existing }
            let created = NIOLoopBound(LoopFlusher(eventLoop: eventLoop), eventLoop: eventLoop)
            flushers[key] = created
            return created
        }
        return bound.value
    }
}
