import WSChatProtocol

/// The connection lifecycle and its reconnect schedule, as a value (see STYLE.md §1): each
/// event returns what to do next; time and randomness come in as arguments.
struct Lifecycle {
    enum Phase: Equatable {
        case idle
        /// A transport is being opened (or is open and waiting for `welcome`).
        case connecting(since: ContinuousClock.Instant)
        case connected(since: ContinuousClock.Instant)
        case waiting(until: ContinuousClock.Instant)
        case offline(reason: String)
    }

    enum Next: Equatable {
        case retry(at: ContinuousClock.Instant)
        case stop(reason: String)
    }

    let policy: ReconnectPolicy
    private(set) var phase = Phase.idle
    /// Failed attempts since the last stable connection; numbers the next retry.
    private(set) var attempt = 0
    private(set) var lastError: String?

    init(policy: ReconnectPolicy) {
        self.policy = policy
    }

    mutating func connecting(at now: ContinuousClock.Instant) {
        phase = .connecting(since: now)
    }

    mutating func welcomed(at now: ContinuousClock.Instant) {
        phase = .connected(since: now)
    }

    /// The connection ended (or never opened). Decides when to try again, if at all.
    mutating func ended(
        closeCode: UInt16?, error: String, at now: ContinuousClock.Instant, random: inout some RandomNumberGenerator
    ) -> Next {
        if case .offline(let reason) = phase { return .stop(reason: reason) }
        lastError = error
        if closeCode == CloseCode.authenticationFailed.rawValue {
            phase = .offline(reason: "authentication failed")
            return .stop(reason: "authentication failed")
        }
        if case .connected(let since) = phase, since.duration(to: now) >= policy.stableAfter {
            attempt = 0
        }
        let delay: Duration
        if closeCode == CloseCode.goingAway.rawValue {
            // A restarting server: spread everyone's first retry over a second.
            delay = Self.uniform(upTo: policy.goingAwaySpread, using: &random)
            attempt = max(attempt, 1)
        } else {
            delay = Self.uniform(upTo: policy.ceiling(attempt: attempt), using: &random)
            attempt += 1
        }
        phase = .waiting(until: now + delay)
        return .retry(at: now + delay)
    }

    /// The user quit or the engine must stop: no more retries.
    mutating func stop(reason: String) {
        phase = .offline(reason: reason)
    }

    /// A retry the user asked for now, with the schedule starting over.
    mutating func resetAttempts() {
        attempt = 0
    }

    var retryDue: ContinuousClock.Instant? {
        if case .waiting(let until) = phase { until } else { nil }
    }

    var isOffline: Bool {
        if case .offline = phase { true } else { false }
    }

    /// Full jitter: a uniformly random duration between zero and `ceiling`.
    static func uniform(upTo ceiling: Duration, using random: inout some RandomNumberGenerator) -> Duration {
        let nanoseconds =
            Int64(ceiling.components.seconds) * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &random))
    }
}
