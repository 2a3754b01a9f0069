/// The per-connection rate limit: a bucket of `burst` tokens refilled at `rate` per second.
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
        let elapsed = refilledAt.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(Double(burst), tokens + max(0, seconds) * rate)
        refilledAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
