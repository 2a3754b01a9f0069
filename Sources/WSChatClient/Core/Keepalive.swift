/// Notices a dead peer and measures latency with the protocol's `ping`/`pong`.
///
/// swift-websocket answers WebSocket pings but consumes the pongs to its own pings without
/// telling the application, so the engine probes with the protocol's `ping` instead. That
/// also proves more: the server's chat loop answered, not only its TCP stack.
struct Keepalive {
    enum Action: Equatable {
        case ping(sequence: Int)
        case dead
    }

    let policy: KeepalivePolicy
    private var nextPingAt: ContinuousClock.Instant?
    private var outstanding: (sequence: Int, sentAt: ContinuousClock.Instant)?
    private var sequence = 0
    private(set) var latency: Duration?

    init(policy: KeepalivePolicy) {
        self.policy = policy
    }

    /// Starts probing: the first ping goes out at once, so latency is known early.
    mutating func start(at now: ContinuousClock.Instant) {
        nextPingAt = now
        outstanding = nil
    }

    mutating func stop() {
        nextPingAt = nil
        outstanding = nil
        latency = nil
    }

    mutating func tick(at now: ContinuousClock.Instant) -> Action? {
        if let outstanding, outstanding.sentAt + policy.timeout <= now { return .dead }
        guard outstanding == nil, let due = nextPingAt, due <= now else { return nil }
        sequence += 1
        outstanding = (sequence, now)
        nextPingAt = now + policy.interval
        return .ping(sequence: sequence)
    }

    /// A `pong`; returns the new latency when it answers the outstanding ping.
    mutating func pong(sequence: Int, at now: ContinuousClock.Instant) -> Duration? {
        guard let outstanding, outstanding.sequence == sequence else { return nil }
        self.outstanding = nil
        latency = outstanding.sentAt.duration(to: now)
        return latency
    }

    var nextDeadline: ContinuousClock.Instant? {
        [nextPingAt, outstanding.map { $0.sentAt + policy.timeout }].compactMap { $0 }.min()
    }
}
