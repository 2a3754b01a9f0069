import NIOCore

/// Visits the connections of one event loop once a period from one timer, for what would
/// otherwise be a scheduled task per connection (a keepalive ping, a `hello` deadline): a
/// scheduled task costs a few hundred bytes, more than most of an idle connection's own state.
///
/// A member joins when it starts waiting and leaves when it is done (its `swept()` says so,
/// or its connection closes): the sweep holds no connection longer than it is needed, and
/// stops its timer while it has no members.
final class LoopSweep {
    /// Something a sweep visits.
    protocol Member: AnyObject {
        /// Where the member is in its sweep; set by the sweep alone.
        var sweepSlot: Int? { get set }
        /// A period has passed; returns whether to be visited again.
        func swept(at now: NIODeadline) -> Bool
    }

    private let eventLoop: any EventLoop
    private let period: TimeAmount
    private var members: [any Member] = []
    private var timer: Scheduled<Void>?

    private init(eventLoop: any EventLoop, period: TimeAmount) {
        self.eventLoop = eventLoop
        self.period = period
    }

    /// The sweep of `eventLoop` that visits its members every `period`; called on that loop.
    static func on(_ eventLoop: any EventLoop, every period: TimeAmount) -> LoopSweep {
        PerLoop.object(on: eventLoop, variant: period.nanoseconds) { LoopSweep(eventLoop: eventLoop, period: period) }
    }

    /// Adds `member`, first visited within one period.
    func join(_ member: any Member) {
        guard member.sweepSlot == nil else { return }
        member.sweepSlot = members.count
        members.append(member)
        if timer == nil { scheduleSweep() }
    }

    /// Removes `member`; nothing happens if it is not a member.
    func leave(_ member: any Member) {
        guard let slot = member.sweepSlot else { return }
        member.sweepSlot = nil
        let last = members.removeLast()
        if slot < members.count {
            members[slot] = last
            last.sweepSlot = slot
        }
        if members.isEmpty {
            timer?.cancel()
            timer = nil
            // Gives the storage back: the loop may stay without members for long.
            members = []
        }
    }

    private func scheduleSweep() {
        timer = eventLoop.assumeIsolated().scheduleTask(in: period) { [self] in
            timer = nil
            let now = NIODeadline.now()
            // A member visited may make others leave (or join): iterate over those there now.
            for member in members where member.sweepSlot != nil && !member.swept(at: now) {
                leave(member)
            }
            if !members.isEmpty, timer == nil { scheduleSweep() }
        }
    }
}
