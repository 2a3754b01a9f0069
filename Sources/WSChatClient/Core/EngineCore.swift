import Foundation
import WSChatProtocol

/// The client engine with no I/O: connection lifecycle and backoff, keepalive, the outbox of
/// unacknowledged messages, per-room resume cursors and send pacing. Every input (a command,
/// a frame, the transport opening or closing, a timer tick) returns the actions to perform.
/// Time and randomness are arguments, so tests replay hours of outages in microseconds.
public struct EngineCore<Random: RandomNumberGenerator> {
    public enum Input: Equatable, Sendable {
        case start
        case transportOpened
        /// The connection ended; `code` is the close code if the server sent one.
        case transportClosed(code: UInt16?, description: String)
        case received(String)
        case command(UserCommand)
        case tick
    }

    public enum Action: Equatable, Sendable {
        /// Open a connection to this URL (dropping any current one).
        case connect(url: String)
        case send(ClientMessage)
        /// Drop the current connection at once, without waiting for the peer.
        case disconnect
        case emit(EngineEvent)
    }

    enum Transport: Equatable {
        case none
        case opening(since: ContinuousClock.Instant)
        case open(since: ContinuousClock.Instant, welcomed: Bool)
    }

    let configuration: ClientConfiguration
    var random: Random
    var lifecycle: Lifecycle
    var keepalive: Keepalive
    var outbox = Outbox()
    var transport = Transport.none
    /// Rooms the user is in, by room key, in the order joined.
    var rooms: [String: RoomCursor] = [:]
    var roomOrder: [String] = []
    /// The nick the user wants, and the one being used (with `_` added while it was taken).
    var desiredNick: String
    var nick: String
    var limits = Limits()
    var sendQueue: [ClientMessage] = []
    var bucket: TokenBucket
    var tokenDue: ContinuousClock.Instant?
    var urlIndex = 0
    var seenDirectCIDs = RecentSet(capacity: 1000)
    var quitDeadline: ContinuousClock.Instant?
    /// Set by `quitWhenDelivered`: quit when the outbox empties or at this instant.
    var deliveryDeadline: ContinuousClock.Instant?
    /// The reason `quitWhenDelivered` gives when it quits.
    var deliveryQuitReason: String?
    /// DMs typed while offline and resent after the last welcome, and until when a refusal
    /// because their peer is not online is retried: after a server restart, the peer may
    /// simply not be back yet.
    var resentDirectCIDs: Set<String> = []
    var peerReturnDeadline: ContinuousClock.Instant?
    static var peerReturnWindow: Duration { .seconds(60) }
    static var peerReturnRetry: Duration { .seconds(5) }
    var lastReportedState: ConnectionState?
    /// The away reason the user set (`away`), told to every new session until they are back.
    var awayReason: String?
    var actions: [Action] = []

    public init(configuration: ClientConfiguration, random: Random) {
        self.configuration = configuration
        self.random = random
        self.lifecycle = Lifecycle(policy: configuration.reconnect)
        self.keepalive = Keepalive(policy: configuration.keepalive)
        self.desiredNick = configuration.nick
        self.nick = configuration.nick
        self.bucket = TokenBucket(rate: 0, burst: 1, now: .now)
        for room in configuration.rooms {
            if let name = try? RoomName(validating: room), rooms[name.key] == nil {
                rooms[name.key] = RoomCursor(name: name.name)
                roomOrder.append(name.key)
            }
        }
    }

    // MARK: Inputs

    public mutating func handle(_ input: Input, at now: ContinuousClock.Instant) -> [Action] {
        actions = []
        switch input {
        case .start: connect(at: now)
        case .transportOpened: transportOpened(at: now)
        case .transportClosed(let code, let description):
            if transport != .none { connectionEnded(code: code, error: description, at: now) }
        case .received(let text): received(text, at: now)
        case .command(let command): perform(command, at: now)
        case .tick: tick(at: now)
        }
        quitIfDelivered(at: now)
        drainSendQueue(at: now)
        reportStateChange()
        return actions
    }

    /// The earliest instant at which `.tick` has something to do.
    public var nextDeadline: ContinuousClock.Instant? {
        var deadlines = [lifecycle.retryDue, outbox.nextRetry, quitDeadline, tokenDue, deliveryDeadline]
        switch transport {
        case .opening(let since), .open(let since, welcomed: false):
            deadlines.append(since + configuration.connectTimeout)
        case .open(_, welcomed: true):
            deadlines.append(keepalive.nextDeadline)
        case .none:
            break
        }
        return deadlines.compactMap { $0 }.min()
    }

    /// The engine stopped for good (quit, authentication failed, unusable nick).
    public var isFinished: Bool { lifecycle.isOffline && transport == .none }

    public var state: ConnectionState {
        switch lifecycle.phase {
        case .idle, .connecting: .connecting(attempt: lifecycle.attempt)
        case .connected: .connected(latency: keepalive.latency)
        case .waiting(let until):
            .reconnecting(retryAt: until, attempt: lifecycle.attempt, lastError: lifecycle.lastError ?? "")
        case .offline(let reason): .offline(reason: reason)
        }
    }

    /// Messages typed and not yet acknowledged by the server.
    public var undelivered: [PendingMessage] { outbox.pending }

    /// The nick the server knows this user by (or will be asked for).
    public var currentNick: String { nick }

    var isWelcomed: Bool { if case .open(_, welcomed: true) = transport { true } else { false } }

    // MARK: Connection

    mutating func connect(at now: ContinuousClock.Instant) {
        guard !configuration.urls.isEmpty else {
            lifecycle.stop(reason: "no server URL configured")
            return
        }
        let url = configuration.urls[urlIndex % configuration.urls.count]
        lifecycle.connecting(at: now)
        transport = .opening(since: now)
        actions.append(.connect(url: url))
    }

    mutating func transportOpened(at now: ContinuousClock.Instant) {
        guard case .opening = transport else { return }
        transport = .open(since: now, welcomed: false)
        bucket = TokenBucket(rate: 0, burst: 1, now: now)
        sendQueue.insert(hello, at: 0)
    }

    var hello: ClientMessage {
        .hello(
            .init(
                nick: nick, password: configuration.password, client: configuration.clientName,
                secret: configuration.secret))
    }

    mutating func connectionEnded(code: UInt16?, error: String, at now: ContinuousClock.Instant) {
        transport = .none
        keepalive.stop()
        tokenDue = nil
        outbox.clearRetries()
        // Hello, joins, pings and the outbox are regenerated on the next welcome; other
        // commands the user typed wait for it.
        sendQueue.removeAll { message in
            switch message {
            case .hello, .join, .ping, .say, .dm, .quit: true
            default: false
            }
        }
        for key in roomOrder { rooms[key]?.paging = false }
        if quitDeadline != nil {
            quitDeadline = nil
            stopAfterQuit()
            return
        }
        switch lifecycle.ended(closeCode: code, error: error, at: now, random: &random) {
        case .retry:
            urlIndex += 1
        case .stop(let reason):
            actions.append(.emit(.notice("not reconnecting: \(reason)")))
        }
        // Said before anything else this input decides (a quit, say), so that why the
        // connection ended is never lost.
        reportStateChange()
    }

    /// Drops a connection the engine gave up on (dead peer, timeout, user's /reconnect).
    mutating func drop(because error: String, at now: ContinuousClock.Instant) {
        actions.append(.disconnect)
        connectionEnded(code: nil, error: error, at: now)
    }

    mutating func tick(at now: ContinuousClock.Instant) {
        if let due = quitDeadline, due <= now {
            actions.append(.disconnect)
            transport = .none
            quitDeadline = nil
            stopAfterQuit()
            return
        }
        if let due = lifecycle.retryDue, due <= now { connect(at: now) }
        switch transport {
        case .opening(let since) where since + configuration.connectTimeout <= now:
            drop(because: "no connection within \(configuration.connectTimeout)", at: now)
        case .open(let since, welcomed: false) where since + configuration.connectTimeout <= now:
            drop(because: "no welcome within \(configuration.connectTimeout)", at: now)
        case .open(_, welcomed: true):
            switch keepalive.tick(at: now) {
            case .ping(let sequence): sendQueue.append(.ping(.number(Double(sequence))))
            case .dead: drop(because: "no answer to ping within \(configuration.keepalive.timeout)", at: now)
            case nil: break
            }
        default:
            break
        }
        if isWelcomed, quitDeadline == nil {
            for message in outbox.takeDueRetries(at: now) { sendQueue.append(message.clientMessage) }
        }
    }

    /// Sends what is queued as far as the server's rate limit allows; pings are free.
    mutating func drainSendQueue(at now: ContinuousClock.Instant) {
        tokenDue = nil
        guard case .open(_, let welcomed) = transport else { return }
        while let next = sendQueue.first {
            let isHello = if case .hello = next { true } else { false }
            let isPing = if case .ping = next { true } else { false }
            if !welcomed && !isHello { break }
            if !isPing && !bucket.take(at: now) {
                tokenDue = now + bucket.timeUntilToken(at: now)
                break
            }
            sendQueue.removeFirst()
            actions.append(.send(next))
        }
    }

    mutating func reportStateChange() {
        let current = state
        guard current != lastReportedState else { return }
        lastReportedState = current
        actions.append(.emit(.state(current)))
    }
}

extension PendingMessage {
    var clientMessage: ClientMessage {
        switch target {
        case .room(let room): .say(.init(room: room, text: text, cid: cid, action: action ? true : nil))
        case .nick(let nick): .dm(.init(to: nick, text: text, cid: cid))
        }
    }
}

/// Remembers the last `capacity` strings added, for "seen before?" questions.
struct RecentSet {
    let capacity: Int
    private var members: Set<String> = []
    private var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ value: String) -> Bool { members.contains(value) }

    mutating func insert(_ value: String) {
        guard members.insert(value).inserted else { return }
        order.append(value)
        if order.count > capacity + capacity / 4 {
            let excess = order.count - capacity
            for old in order.prefix(excess) { members.remove(old) }
            order.removeFirst(excess)
        }
    }
}
