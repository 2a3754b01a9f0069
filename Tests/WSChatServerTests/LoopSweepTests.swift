import NIOCore
import NIOEmbedded
import Testing

@testable import WSChatServer

/// One timer per event loop visits every connection waiting on a period (keepalive pings,
/// `hello` deadlines), instead of a scheduled task per connection.
@Suite("A sweep of the connections on one event loop")
struct LoopSweepTests {
    final class Member: LoopSweep.Member {
        var sweepSlot: Int?
        var visits = 0
        /// How many visits it stays for.
        let stays: Int
        /// Runs at each visit, before it says whether it stays.
        var onVisit: () -> Void = {}

        init(stays: Int = .max) {
            self.stays = stays
        }

        func swept(at now: NIODeadline) -> Bool {
            visits += 1
            onVisit()
            return visits < stays
        }
    }

    @Test func everyMemberIsVisitedOncePerPeriodUntilItSaysItIsDone() {
        let loop = EmbeddedEventLoop()
        let sweep = LoopSweep.on(loop, every: .seconds(1))
        let members = (1...4).map { Member(stays: $0) }
        for member in members { sweep.join(member) }
        loop.advanceTime(by: .milliseconds(999))
        #expect(members.map(\.visits) == [0, 0, 0, 0])
        loop.advanceTime(by: .milliseconds(1))
        #expect(members.map(\.visits) == [1, 1, 1, 1])
        loop.advanceTime(by: .seconds(10))
        #expect(members.map(\.visits) == [1, 2, 3, 4])
        #expect(members.allSatisfy { $0.sweepSlot == nil })
    }

    @Test func aMemberThatLeavesIsNotVisitedAndTheOthersKeepTheirTurn() {
        let loop = EmbeddedEventLoop()
        let sweep = LoopSweep.on(loop, every: .seconds(1))
        let members = (0..<6).map { _ in Member() }
        for member in members { sweep.join(member) }
        for index in [1, 5, 0] { sweep.leave(members[index]) }
        sweep.leave(members[0])  // leaving twice changes nothing
        loop.advanceTime(by: .seconds(1))
        #expect(members.map(\.visits) == [0, 0, 1, 1, 1, 0])
        #expect(Set(members.compactMap(\.sweepSlot)) == [0, 1, 2], "the members left fill the first slots")
        sweep.join(members[1])
        loop.advanceTime(by: .seconds(1))
        #expect(members.map(\.visits) == [0, 1, 2, 2, 2, 0])
    }

    /// A connection closed while the sweep runs leaves it (its channel goes inactive): the
    /// sweep neither visits it afterwards nor loses the others.
    @Test func aMemberMadeToLeaveDuringTheSweepIsNotVisited() {
        let loop = EmbeddedEventLoop()
        let sweep = LoopSweep.on(loop, every: .seconds(1))
        let members = (0..<4).map { _ in Member() }
        for member in members { sweep.join(member) }
        members[0].onVisit = { sweep.leave(members[2]) }
        loop.advanceTime(by: .seconds(1))
        #expect(members.map(\.visits) == [1, 1, 0, 1])
        loop.advanceTime(by: .seconds(1))
        #expect(members.map(\.visits) == [2, 2, 0, 2])
    }

    /// With no members the timer stops, and a member that joins later waits a whole period.
    @Test func theTimerStopsWithoutMembersAndStartsAgainWithTheNext() {
        let loop = EmbeddedEventLoop()
        let sweep = LoopSweep.on(loop, every: .seconds(1))
        let first = Member(stays: 1)
        sweep.join(first)
        loop.advanceTime(by: .milliseconds(1500))
        #expect(first.visits == 1)
        let next = Member()
        sweep.join(next)
        loop.advanceTime(by: .milliseconds(600))  // past the old timer's next turn, at 2 s
        #expect(next.visits == 0)
        loop.advanceTime(by: .milliseconds(400))
        #expect(next.visits == 1)
    }

    @Test func aLoopHasOneSweepPerPeriod() {
        let loop = EmbeddedEventLoop()
        #expect(LoopSweep.on(loop, every: .seconds(1)) === LoopSweep.on(loop, every: .seconds(1)))
        #expect(LoopSweep.on(loop, every: .seconds(1)) !== LoopSweep.on(loop, every: .seconds(2)))
        #expect(LoopSweep.on(loop, every: .seconds(1)) !== LoopSweep.on(EmbeddedEventLoop(), every: .seconds(1)))
    }
}
