import NIOCore
import Synchronization
import WSChatProtocol

/// One client's WebSocket on `/ws`, the endpoint of its `WebSocketConnectionHandler`: decodes
/// messages, applies the rate limits and the `hello` deadline, and passes what is left to the
/// connection's `ChatSession`, in order. It runs on the channel's event loop and costs no
/// task while the client is quiet.
final class ChatConnection: WebSocketEndpoint, LoopSweep.Member {
    private let session: ChatSession
    private var bucket: TokenBucket
    /// Latency probes have a bucket of their own, so a client can measure lag while
    /// rate-limited, but cannot make the server answer pings without end.
    private var pingBucket: TokenBucket
    private var refusedInARow = 0
    /// Visits the connection until it is welcomed, to close it if `hello` is late.
    private var helloSweep: LoopSweep?
    private var helloDeadline = NIODeadline.distantFuture
    var sweepSlot: Int?

    init(session: ChatSession) {
        self.session = session
        let configuration = session.configuration
        bucket = TokenBucket(rate: configuration.rate, burst: configuration.burst, now: .now)
        pingBucket = TokenBucket(rate: configuration.pingRate, burst: configuration.pingBurst, now: .now)
    }

    func opened(on eventLoop: any EventLoop) {
        session.services.metrics.connectionOpened()
        let timeout = TimeAmount(session.configuration.handshakeTimeout)
        helloDeadline = .now() + timeout
        // Late by at most a quarter of the timeout.
        helloSweep = LoopSweep.on(eventLoop, every: .nanoseconds(max(timeout.nanoseconds / 4, 1_000_000)))
        helloSweep?.join(self)
    }

    func swept(at now: NIODeadline) -> Bool {
        if session.isWelcomed { return false }
        guard now >= helloDeadline else { return true }
        session.delivery.close(.policyViolation, reason: "no hello within \(session.configuration.handshakeTimeout)")
        return false
    }

    func closed() {
        helloSweep?.leave(self)
        session.services.metrics.connectionClosed()
        session.enqueue(.disconnected)
    }

    func overflowed() {
        session.services.metrics.slowConsumersDropped.increment()
        session.services.events.log(
            .warning, "dropping a client too slow to keep up", metadata: ["session": "\(session.id)"])
    }

    func received(_ incoming: WebSocketServerCore.Message) {
        session.services.metrics.messagesIn.increment()
        let delivery = session.delivery
        if delivery.isClosing { return }
        guard case .text(let text) = incoming else {
            delivery.close(.unsupportedData, reason: "binary frames are not part of the wschat protocol")
            return
        }
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(text)
        } catch {
            if spendToken(&bucket, ref: nil) { session.reject(error) }
            return
        }
        if case .ping = message {
            guard spendToken(&pingBucket, ref: message.reference) else { return }
        } else if !spendToken(&bucket, ref: message.reference) {
            return
        }
        session.enqueue(.message(message))
    }

    /// Takes a token for a frame; when there is none, answers `rate_limited` and closes a
    /// connection that keeps flooding.
    private func spendToken(_ bucket: inout TokenBucket, ref: String?) -> Bool {
        if bucket.take(at: .now) {
            refusedInARow = 0
            return true
        }
        refusedInARow += 1
        let configuration = session.configuration
        session.reject(
            ProtocolError(
                .rateLimited,
                "slow down: at most \(configuration.burst) messages at once, then \(configuration.rate) per second",
                ref: ref))
        if refusedInARow > configuration.floodTolerance {
            session.delivery.close(.policyViolation, reason: "flooding")
        }
        return false
    }
}

/// What every chat session uses and none owns: one per server, so that a session, which may
/// sit idle for days, holds one reference to it rather than a copy of the configuration.
final class ChatServices: Sendable {
    let hub: ChatHub
    let configuration: ChatServerConfiguration
    let metrics: ServerMetrics
    let authThrottle: SharedAuthThrottle
    /// For what a client can make happen many times over (wrong passwords, overflows).
    let events: SummarisedLog

    init(
        hub: ChatHub, configuration: ChatServerConfiguration, metrics: ServerMetrics, authThrottle: SharedAuthThrottle,
        events: SummarisedLog
    ) {
        self.hub = hub
        self.configuration = configuration
        self.metrics = metrics
        self.authThrottle = authThrottle
        self.events = events
    }
}

/// What a connection asks of the hub, carried out one request after another in the order the
/// client sent them: a task runs while requests are waiting and ends when there are none, so
/// an idle connection holds no task.
///
/// The hub hears of a connection with its first `hello`, not at the upgrade: a connection that
/// never says `hello` (a probe, a handshake benchmark, a client that gives up) costs no task and
/// no turn of the hub, and the hub is told of its end only when it was told of it at all.
final class ChatSession: Sendable {
    enum Request: Sendable {
        case message(ClientMessage)
        case disconnected
    }

    let id: ConnectionID
    let services: ChatServices
    let delivery: Delivery
    /// The client's IP address, for the password throttle and the log.
    let address: String
    private let queue = Mutex(Queue())
    private let welcomed = Atomic<Bool>(false)
    /// Set by the drain when it has introduced the connection to the hub.
    private let inHub = Atomic<Bool>(false)

    private struct Queue {
        var requests: [Request] = []
        var draining = false
        /// Whether a `hello` was queued: from then on the hub knows the connection, or will
        /// before it hears anything else from it.
        var helloQueued = false
    }

    init(id: ConnectionID, services: ChatServices, delivery: Delivery, address: String) {
        self.id = id
        self.services = services
        self.delivery = delivery
        self.address = address
    }

    private var hub: ChatHub { services.hub }
    var configuration: ChatServerConfiguration { services.configuration }

    /// Whether the hub has welcomed the connection.
    var isWelcomed: Bool { welcomed.load(ordering: .relaxed) }

    func enqueue(_ request: Request) {
        let startsDrain = queue.withLock { queue in
            switch request {
            case .message(.hello): queue.helloQueued = true
            case .disconnected where !queue.helloQueued: return false
            default: break
            }
            queue.requests.append(request)
            guard !queue.draining else { return false }
            queue.draining = true
            return true
        }
        if startsDrain { Task { await drain() } }
    }

    private func drain() async {
        while let request = next() {
            await carryOut(request)
        }
    }

    private func next() -> Request? {
        queue.withLock { queue in
            guard !queue.requests.isEmpty else {
                queue.draining = false
                // Gives the emptied array's storage back: a connection is idle most of its life.
                queue.requests = []
                return nil
            }
            return queue.requests.removeFirst()
        }
    }

    private func carryOut(_ request: Request) async {
        switch request {
        case .disconnected:
            await hub.disconnect(id)
        case .message(let message):
            if isWelcomed {
                await hub.handle(message, from: id)
            } else if case .hello(let hello) = message {
                if !inHub.load(ordering: .relaxed) {
                    await hub.connect(id, delivery: delivery)
                    inHub.store(true, ordering: .relaxed)
                }
                if await admit(hello) { welcomed.store(true, ordering: .relaxed) }
            } else {
                reject(ProtocolError(.badRequest, "the first message must be hello", ref: message.type))
            }
        }
    }

    /// Says `hello` to the hub; with a server password, through the per-address throttle
    /// that makes guessing slow, and with every wrong password logged.
    private func admit(_ hello: ClientMessage.Hello) async -> Bool {
        guard configuration.password != nil else { return await hub.hello(hello, from: id) == .welcomed }
        switch services.authThrottle.attempt(from: address) {
        case .lockedOut(let retryAfter):
            let seconds = retryAfter.components.seconds + 1
            reject(
                ProtocolError(
                    .authFailed, "too many wrong passwords from your address; try again in \(seconds) s", ref: "hello"))
            delivery.close(.authenticationFailed, reason: "authentication failed")
            services.events.log(
                .warning, "refused a hello from an address locked out for wrong passwords",
                metadata: ["address": "\(address)"])
            return false
        case .proceed(let delay):
            if delay > .zero { try? await Task.sleep(for: delay) }
        }
        switch await hub.hello(hello, from: id) {
        case .welcomed:
            services.authThrottle.recordSuccess(from: address)
            return true
        case .authFailed:
            services.authThrottle.recordFailure(from: address)
            services.events.log(
                .warning, "wrong password in hello",
                metadata: ["address": "\(address)", "nick": "\(InertText.escaped(hello.nick))"])
            return false
        case .refused, .closed:
            return false
        }
    }

    func reject(_ error: ProtocolError) {
        services.metrics.countError(error.code)
        delivery.send(.error(error))
    }
}

extension ClientMessage {
    /// What an error about this message refers to: its `cid` when it has one, else its type.
    var reference: String {
        switch self {
        case .say(let say): say.cid
        case .dm(let dm): dm.cid
        default: type
        }
    }
}
