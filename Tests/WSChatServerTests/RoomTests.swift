import Foundation
import Testing
import WSChatProtocol

@testable import WSChatServer

/// A room hands every member each stored message once, in id order, whatever order the
/// messages arrive in.
@Suite struct RoomTests {
    static func room(lastID: Int64 = 0) -> Room {
        Room(record: RoomRecord(name: "general", epoch: "e", topic: "", lastID: lastID))
    }

    static func message(_ id: Int64) -> ChatMessage {
        ChatMessage(room: "general", id: id, ts: 0, from: "ada", text: "m\(id)", cid: "c\(id)")
    }

    static func live(_ room: inout Room, historyEnd: Int64) -> ConnectionID {
        let member = ConnectionID()
        _ = room.beginJoin(member)
        _ = room.finishJoin(member, historyEnd: historyEnd, paging: false)
        return member
    }

    @Test func aHistoryPageIsCutToItsByteBudget() {
        let messages = (1...10).map { id in
            ChatMessage(
                room: "general", id: Int64(id), ts: 0, from: "ada", text: String(repeating: "z", count: 1000),
                cid: "c\(id)")
        }
        let page = HistoryPage(messages: messages, more: false)
        let oldest = page.bounded(toBytes: 3500, keepingNewest: false)
        #expect(oldest.messages.map(\.id) == [1, 2, 3] && oldest.more)
        let newest = page.bounded(toBytes: 3500, keepingNewest: true)
        #expect(newest.messages.map(\.id) == [8, 9, 10] && newest.more)
        #expect(page.bounded(toBytes: 1 << 20, keepingNewest: false) == page, "a page that fits is left alone")
        #expect(page.bounded(toBytes: 10, keepingNewest: false).messages.count == 1, "one message at least")
    }

    @Test func aMemberWhoLeavesGetsNothingMoreAndTheOthersKeepTheirPlaces() {
        var room = Self.room()
        let first = Self.live(&room, historyEnd: 0)
        let middle = Self.live(&room, historyEnd: 0)
        let last = Self.live(&room, historyEnd: 0)
        room.remove(middle)
        #expect(!room.contains(middle) && room.contains(first) && room.contains(last))
        let one = room.accept(Self.message(1))
        #expect(one.map(\.recipients) == [[first, last]])
        // Joining again after leaving makes a new member at the end, fetching its history.
        let rejoined = room.beginJoin(middle)
        #expect(rejoined)
        let two = room.accept(Self.message(2))
        #expect(two.map(\.recipients) == [[first, last]])
        let held = room.finishJoin(middle, historyEnd: 1, paging: false)
        #expect(held.map(\.id) == [2])
        room.remove(first)
        #expect(room.members == [last, middle])
        let three = room.accept(Self.message(3))
        #expect(three.map(\.recipients) == [[last, middle]])
        room.remove(last)
        #expect(room.members == [middle])
        let four = room.accept(Self.message(4))
        #expect(four.map(\.recipients) == [[middle]])
    }

    @Test func messagesWaitForEveryLowerID() {
        var room = Self.room()
        let ada = Self.live(&room, historyEnd: 0)
        #expect(room.accept(Self.message(2)).isEmpty)
        #expect(room.hasGap)
        let ready = room.accept(Self.message(1))
        #expect(ready.map(\.message.id) == [1, 2])
        #expect(ready.allSatisfy { $0.recipients == [ada] })
        #expect(!room.hasGap)
        #expect(room.accept(Self.message(2)).isEmpty, "a message already delivered is not delivered again")
    }

    @Test func aJoiningMemberGetsWhatArrivedDuringItsFetchAfterItsHistory() {
        var room = Self.room(lastID: 5)
        let bob = ConnectionID()
        _ = room.beginJoin(bob)
        #expect(room.accept(Self.message(6)).map(\.recipients) == [[]], "held back while the history is read")
        #expect(room.accept(Self.message(7)).map(\.recipients) == [[]])
        // The history read saw message 6 already; 7 came after it.
        #expect(room.finishJoin(bob, historyEnd: 6, paging: false).map(\.id) == [7])
        #expect(room.accept(Self.message(8)).map(\.recipients) == [[bob]])
    }

    /// On a node of a cluster, a room opened here can start behind the database: a notice
    /// sent while it was being opened is missed, and the member's history already holds
    /// that message when the gap is filled from the table.
    @Test func aMemberNeverGetsAgainWhatItsHistoryHeld() {
        var room = Self.room(lastID: 5)
        let early = Self.live(&room, historyEnd: 5)
        let late = Self.live(&room, historyEnd: 6)
        #expect(room.accept(Self.message(7)).isEmpty)
        let ready = room.accept(Self.message(6))
        #expect(ready.map(\.message.id) == [6, 7])
        #expect(ready[0].recipients == [early])
        #expect(ready[1].recipients == [early, late])
    }

    @Test func aPagingMemberGetsNoLiveMessages() {
        var room = Self.room()
        let carol = ConnectionID()
        _ = room.beginJoin(carol)
        #expect(room.finishJoin(carol, historyEnd: 0, paging: true).isEmpty)
        #expect(room.accept(Self.message(1)).map(\.recipients) == [[]])
    }
}
