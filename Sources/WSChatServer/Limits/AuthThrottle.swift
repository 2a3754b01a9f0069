import Synchronization

/// Slows down password guessing, per client address: after a few wrong passwords each
/// further attempt from that address waits a growing delay (attempts on parallel connections
/// queue behind each other), and after many the address is refused at once for a while.
///
/// A pure value: the caller passes the time, so tests replay a guessing run instantly.
struct AuthThrottle: Sendable {
    enum Decision: Equatable, Sendable {
        /// Check the password once `delay` has passed.
        case proceed(after: Duration)
        /// Refuse without checking; the address may try again once `retryAfter` has passed.
        case lockedOut(retryAfter: Duration)
    }

    struct Policy: Sendable {
        /// Wrong passwords that cost nothing (typos).
        var freeFailures = 3
        /// The delay after the first failure past the free ones; it doubles with each one.
        var firstDelay: Duration = .milliseconds(250)
        var maxDelay: Duration = .seconds(8)
        /// Wrong passwords after which the address is locked out.
        var lockoutAfter = 10
        var lockout: Duration = .seconds(300)
        /// An address with no failure for this long starts afresh.
        var forgetAfter: Duration = .seconds(900)
        /// Addresses remembered at most (the oldest are forgotten first).
        var maxAddresses = 10_000
    }

    private struct Record {
        var failures = 0
        var lastFailure: ContinuousClock.Instant
        /// When the next attempt from this address may be checked.
        var nextSlot: ContinuousClock.Instant
        var lockedUntil: ContinuousClock.Instant?
    }

    let policy: Policy
    private var records: [String: Record] = [:]

    init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Decides about one password attempt from `address` and reserves its slot.
    mutating func attempt(from address: String, at now: ContinuousClock.Instant) -> Decision {
        guard var record = records[address], now - record.lastFailure < policy.forgetAfter else {
            records[address] = nil
            return .proceed(after: .zero)
        }
        if let lockedUntil = record.lockedUntil, now < lockedUntil {
            return .lockedOut(retryAfter: lockedUntil - now)
        }
        let slot = max(now, record.nextSlot)
        record.nextSlot = slot + delay(afterFailures: record.failures)
        records[address] = record
        return .proceed(after: slot - now)
    }

    mutating func recordFailure(from address: String, at now: ContinuousClock.Instant) {
        if records[address] == nil, records.count >= policy.maxAddresses { forgetOldest() }
        var record = records[address] ?? Record(lastFailure: now, nextSlot: now)
        if now - record.lastFailure >= policy.forgetAfter { record = Record(lastFailure: now, nextSlot: now) }
        record.failures += 1
        record.lastFailure = now
        record.nextSlot = max(record.nextSlot, now + delay(afterFailures: record.failures))
        if record.failures >= policy.lockoutAfter {
            record.lockedUntil = now + policy.lockout
            record.failures = 0
        }
        records[address] = record
    }

    mutating func recordSuccess(from address: String) {
        records[address] = nil
    }

    /// The wait before checking another password after `failures` wrong ones.
    func delay(afterFailures failures: Int) -> Duration {
        let steps = failures - policy.freeFailures
        guard steps > 0 else { return .zero }
        return min(policy.maxDelay, policy.firstDelay * (1 << min(steps - 1, 16)))
    }

    private mutating func forgetOldest() {
        guard let oldest = records.min(by: { $0.value.lastFailure < $1.value.lastFailure })?.key else { return }
        records[oldest] = nil
    }
}

/// The server's one `AuthThrottle`, shared by every connection.
final class SharedAuthThrottle: Sendable {
    private let throttle: Mutex<AuthThrottle>

    init(policy: AuthThrottle.Policy = .init()) {
        throttle = Mutex(AuthThrottle(policy: policy))
    }

    func attempt(from address: String) -> AuthThrottle.Decision {
        throttle.withLock { $0.attempt(from: address, at: .now) }
    }

    func recordFailure(from address: String) {
        throttle.withLock { $0.recordFailure(from: address, at: .now) }
    }

    func recordSuccess(from address: String) {
        throttle.withLock { $0.recordSuccess(from: address) }
    }
}
