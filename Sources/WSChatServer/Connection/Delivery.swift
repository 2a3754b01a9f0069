import NIOCore
import NIOWebSocket
import Synchronization
import WSChatProtocol

/// One connection's way out: frames from the hub, already encoded, go to the connection's
/// handler on its event loop, which gathers a turn's frames (`Corked`) and writes and flushes
/// them at the turn's end, so one write carries everything queued for the connection in it.
///
/// Senders never wait. The channel's own buffer is the queue, bounded in bytes by its high
/// water mark (which sees a turn's frames at the turn's end, when they are written): replies
/// to a client's own requests count as much as broadcasts, so a client that asks without
/// reading only hurts itself. A connection over the bound is closed with 1008 at once, which
/// releases everything queued for it.
final class Delivery: Sendable {
    /// Whether the connection negotiated permessage-deflate: it gets compressed frames.
    let deflate: Bool
    /// Set by the handler once a close frame has gone out or the socket has closed.
    private let closing = Atomic<Bool>(false)
    fileprivate let handler: NIOLoopBound<WebSocketConnectionHandler>

    private init(deflate: Bool, handler: NIOLoopBound<WebSocketConnectionHandler>) {
        self.deflate = deflate
        self.handler = handler
    }

    var eventLoop: any EventLoop { handler.eventLoop }

    /// What a connection's WebSocket is set up with.
    struct Settings {
        var maxMessageBytes: Int
        /// Set when the connection negotiated permessage-deflate.
        var inflater: MessageInflater?
        /// Whether the connection takes compressed frames from the server.
        var deflate: Bool
        /// The bound of the outgoing queue, over which the connection is closed; nil for an
        /// endpoint that stops reading instead while its client catches up (`/echo`).
        var byteLimit: Int?
        var closeTimeout: TimeAmount
        var pingInterval: TimeAmount
    }

    /// Puts the WebSocket's own handler at the end of an upgraded channel's pipeline, with the
    /// endpoint `makeEndpoint` makes for the connection's delivery. Runs on the channel's
    /// event loop.
    @discardableResult
    static func install(
        on channel: any Channel, _ settings: Settings, endpoint makeEndpoint: (Delivery) -> any WebSocketEndpoint
    ) throws -> Delivery {
        let pipeline = channel.pipeline.syncOperations
        if let byteLimit = settings.byteLimit {
            try channel.syncOptions?.setOption(
                .writeBufferWaterMark, value: .init(low: byteLimit / 2, high: byteLimit))
        }
        let handler = WebSocketConnectionHandler(
            core: WebSocketServerCore(maxMessageBytes: settings.maxMessageBytes, inflater: settings.inflater),
            flusher: LoopFlusher.on(channel.eventLoop),
            keepalive: LoopSweep.on(channel.eventLoop, every: settings.pingInterval),
            closesOnOverflow: settings.byteLimit != nil, closeTimeout: settings.closeTimeout)
        let delivery = Delivery(
            deflate: settings.deflate, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
        handler.delivery = delivery
        handler.endpoint = makeEndpoint(delivery)
        do {
            try pipeline.addHandler(handler)
        } catch {
            // The handler lets go of both when its socket closes; this one never opened.
            handler.delivery = nil
            handler.endpoint = nil
            throw error
        }
        return delivery
    }

    /// Whether a close frame has gone out (or the connection is gone): frames read from the
    /// client now are ignored and frames for it are dropped.
    var isClosing: Bool { closing.load(ordering: .relaxed) }

    /// Called by the handler, on the event loop.
    func markClosing() {
        closing.store(true, ordering: .relaxed)
    }

    /// Queues a message for this connection alone, compressed by `deflater` when the
    /// connection takes compressed frames and the message is long enough.
    func send(_ message: ServerMessage, deflater: MessageDeflater? = nil) {
        guard !isClosing else { return }
        send(WireFrame(text: message.encoded(), deflater: deflate ? deflater : nil))
    }

    /// Queues a frame for this connection, at the loop's next turn.
    func send(_ frame: WireFrame) {
        guard !isClosing else { return }
        let bytes = frame.bytes(deflate: deflate)
        eventLoop.execute { [handler] in handler.value.enqueue(bytes) }
    }

    /// Queues a frame at once, from the connection's own event loop: for an endpoint answering
    /// a message it has just been handed. The answer then leaves before a close that the same
    /// read brings (a valid frame followed by an invalid one); through `send` it would come
    /// after the close, and be dropped.
    func sendOnLoop(_ frame: WireFrame) {
        guard !isClosing else { return }
        handler.value.enqueue(frame.bytes(deflate: deflate))
    }

    /// Queues a close frame after everything already queued; later frames are dropped, and
    /// the socket is closed when the client has not answered within the close timeout.
    func close(_ code: CloseCode, reason: String) {
        eventLoop.execute { [handler] in
            handler.value.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
        }
    }

    /// Queues one frame for every connection of `audience`: one task per event loop, not per
    /// connection.
    static func deliver(_ frame: WireFrame, to audience: Audience) {
        for group in audience.loops {
            group.loop.execute {
                let (plain, deflated) = (frame.bytes(deflate: false), frame.bytes(deflate: true))
                let members = group.members()
                // By index, not by copying each member out: a copy is a reference count.
                for index in members.indices {
                    members[index].handler.enqueue(members[index].deflate ? deflated : plain, broadcast: true)
                }
            }
        }
    }
}

/// The connections one broadcast goes to, grouped by event loop. Found once for a list of
/// recipients and kept by the hub for a room's next messages, so that a message costs no
/// lookup, no reference count and no check of the event loop per member.
final class Audience: Sendable {
    /// The members on one event loop.
    struct OnLoop: Sendable {
        let loop: any EventLoop
        fileprivate let deliveries: [Delivery]
        /// The members' handlers, taken from `deliveries` on the loop at the first broadcast:
        /// after that one check that this runs on the loop covers them all.
        private let handlers: NIOLoopBoundBox<[(handler: WebSocketConnectionHandler, deflate: Bool)]?>

        fileprivate init(loop: any EventLoop, deliveries: [Delivery]) {
            self.loop = loop
            self.deliveries = deliveries
            handlers = .makeEmptyBox(
                valueType: [(handler: WebSocketConnectionHandler, deflate: Bool)].self, eventLoop: loop)
        }

        /// The members' handlers; called on `loop`.
        func members() -> [(handler: WebSocketConnectionHandler, deflate: Bool)] {
            if let known = handlers.value { return known }
            let found = deliveries.map { ($0.handler.value, $0.deflate) }
            handlers.value = found
            return found
        }
    }

    let loops: [OnLoop]
    /// How many connections it holds.
    let count: Int
    /// Whether some member takes compressed frames.
    let someDeflate: Bool

    init(_ deliveries: [Delivery]) {
        var byLoop: [(loop: any EventLoop, deliveries: [Delivery])] = []
        for delivery in deliveries {
            if let index = byLoop.firstIndex(where: { $0.loop === delivery.eventLoop }) {
                byLoop[index].deliveries.append(delivery)
            } else {
                byLoop.append((delivery.eventLoop, [delivery]))
            }
        }
        loops = byLoop.map { OnLoop(loop: $0.loop, deliveries: $0.deliveries) }
        count = deliveries.count
        someDeflate = deliveries.contains { $0.deflate }
    }
}

/// Flushes, once per turn of an event loop, every connection written to in that turn: a
/// broadcast followed by more broadcasts in the same turn reaches each member in one write.
final class LoopFlusher {
    private let eventLoop: any EventLoop
    private var pending: [WebSocketConnectionHandler] = []
    /// The frames joined for the connections written to in this turn (`Corked`).
    let joins = FrameJoins()

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func add(_ handler: WebSocketConnectionHandler) {
        pending.append(handler)
        guard pending.count == 1 else { return }
        // Runs after the tasks already queued on the loop, which may write more.
        eventLoop.assumeIsolated().execute { self.flushAll() }
    }

    private func flushAll() {
        let handlers = pending
        pending = []
        for handler in handlers { handler.flushNow() }
        joins.endTurn()
    }

    /// The flusher of `eventLoop`; called on that loop.
    static func on(_ eventLoop: any EventLoop) -> LoopFlusher {
        PerLoop.object(on: eventLoop) { LoopFlusher(eventLoop: eventLoop) }
    }
}
