import Logging
import Synchronization

/// Decides which of many alike log lines to write: the first `burst` of a kind in each
/// `window`, then none until the window is over; the next one written says how many were left
/// out. A flood of refusals or timeouts thus costs a few lines, not one per connection.
///
/// A pure value: the caller passes the time.
struct RepeatedLineFilter: Sendable {
    var burst = 5
    var window: Duration = .seconds(10)
    private var kinds: [String: Kind] = [:]

    private struct Kind {
        var windowStart: ContinuousClock.Instant
        var written = 0
        var leftOut = 0
    }

    /// Whether to write a line of `kind` now, and how many of its kind were left out before it.
    mutating func admit(_ kind: String, at now: ContinuousClock.Instant) -> (write: Bool, leftOut: Int) {
        var state = kinds[kind] ?? Kind(windowStart: now)
        if now - state.windowStart >= window {
            let leftOut = state.leftOut
            kinds[kind] = Kind(windowStart: now, written: 1)
            return (true, leftOut)
        }
        guard state.written < burst else {
            state.leftOut += 1
            kinds[kind] = state
            return (false, 0)
        }
        state.written += 1
        kinds[kind] = state
        return (true, 0)
    }
}

/// A logger for events that clients can cause in bulk (refused upgrades, timeouts, wrong
/// passwords): alike lines are summarised by a `RepeatedLineFilter`.
final class SummarisedLog: Sendable {
    let logger: Logger
    private let filter = Mutex(RepeatedLineFilter())

    init(logger: Logger) {
        self.logger = logger
    }

    /// Logs `message` unless too many of its kind (the message itself) came recently.
    func log(_ level: Logger.Level, _ message: Logger.Message, metadata: Logger.Metadata = [:]) {
        guard logger.logLevel <= level else { return }
        let (write, leftOut) = filter.withLock { $0.admit(message.description, at: .now) }
        guard write else { return }
        var metadata = metadata
        if leftOut > 0 { metadata["alike-lines-left-out"] = "\(leftOut)" }
        logger.log(level: level, message, metadata: metadata)
    }
}
