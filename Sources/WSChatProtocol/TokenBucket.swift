/// The protocol's rate limit (`welcome.limits`): a bucket of `burst` tokens refilled at `rate`
/// per second. The server enforces it per connection; a client paces itself with the same one.
///
/// A pure value: the caller passes the time, so tests replay any traffic pattern instantly.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Int
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant

    /// A full bucket. `rate` 0 means unlimited.
    public init(rate: Double, burst: Int, now: ContinuousClock.Instant) {
        self.rate = rate
        self.burst = burst
        self.tokens = Double(burst)
        self.refilledAt = now
    }

    /// Spends one token if there is one; `false` means the frame is over the limit.
    public mutating func take(at now: ContinuousClock.Instant) -> Bool {
        guard rate > 0 else { return true }
        refill(at: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// How long until a token is available (zero when one is).
    public mutating func timeUntilToken(at now: ContinuousClock.Instant) -> Duration {
        guard rate > 0 else { return .zero }
        refill(at: now)
        return tokens >= 1 ? .zero : .seconds((1 - tokens) / rate)
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        let elapsed = refilledAt.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(Double(burst), tokens + max(0, seconds) * rate)
        refilledAt = max(refilledAt, now)
    }
}
