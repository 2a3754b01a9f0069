/// What the connection is doing, as the status bar shows it.
public enum ConnectionState: Equatable, Sendable {
    case connecting(attempt: Int)
    /// Welcomed by the server; `latency` is the last ping's round trip.
    case connected(latency: Duration?)
    /// Lost; the next try is at `retryAt`.
    case reconnecting(retryAt: ContinuousClock.Instant, attempt: Int, lastError: String)
    /// Stopped on purpose (quit, authentication failed); no automatic reconnect.
    case offline(reason: String)

    /// The state's name in `--json` output.
    public var name: String {
        switch self {
        case .connecting: "connecting"
        case .connected: "connected"
        case .reconnecting: "reconnecting"
        case .offline: "offline"
        }
    }

    /// How a status bar says it: `connected · 12 ms`, `reconnecting in 4 s (attempt 3)`.
    public func summary(now: ContinuousClock.Instant) -> String {
        switch self {
        case .connecting(let attempt):
            attempt > 0 ? "connecting (attempt \(attempt))" : "connecting"
        case .connected(let latency):
            latency.map { "connected · \(Self.milliseconds($0)) ms" } ?? "connected"
        case .reconnecting(let retryAt, let attempt, let lastError):
            "reconnecting in \(Self.seconds(until: retryAt, from: now)) s (attempt \(attempt)): \(lastError)"
        case .offline(let reason):
            "offline: \(reason)"
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    static func seconds(until instant: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int {
        let remaining = now.duration(to: instant)
        return max(0, Int((Double(milliseconds(remaining)) / 1000).rounded(.up)))
    }
}
