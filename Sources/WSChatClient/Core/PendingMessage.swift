/// A `say` or `dm` the user typed, kept until the server echoes its `cid` back.
public struct PendingMessage: Equatable, Sendable {
    public enum Target: Equatable, Sendable {
        case room(String)
        case nick(String)
    }

    public let cid: String
    public let target: Target
    public let text: String
    public let action: Bool

    public init(cid: String, target: Target, text: String, action: Bool = false) {
        self.cid = cid
        self.target = target
        self.text = text
        self.action = action
    }
}

/// The messages not yet acknowledged, in the order they were typed. Everything here is
/// resent with the same `cid` after a reconnect; the server's dedupe makes that exactly-once.
struct Outbox {
    private(set) var pending: [PendingMessage] = []
    /// When a rate-limited message may be tried again.
    private var retryAt: [String: ContinuousClock.Instant] = [:]

    var isEmpty: Bool { pending.isEmpty }

    mutating func add(_ message: PendingMessage) {
        pending.append(message)
    }

    /// Removes and returns the message with this `cid`, if it was pending.
    @discardableResult
    mutating func remove(cid: String) -> PendingMessage? {
        guard let index = pending.firstIndex(where: { $0.cid == cid }) else { return nil }
        retryAt[cid] = nil
        return pending.remove(at: index)
    }

    func contains(cid: String) -> Bool { pending.contains { $0.cid == cid } }

    mutating func deferRetry(cid: String, until instant: ContinuousClock.Instant) {
        retryAt[cid] = instant
    }

    /// Rate-limited messages whose wait is over, in typing order.
    mutating func takeDueRetries(at now: ContinuousClock.Instant) -> [PendingMessage] {
        let due = pending.filter { message in retryAt[message.cid].map { $0 <= now } ?? false }
        for message in due { retryAt[message.cid] = nil }
        return due
    }

    mutating func clearRetries() { retryAt.removeAll() }

    var nextRetry: ContinuousClock.Instant? { retryAt.values.min() }
}
