import Synchronization
import Testing

@testable import WSChatServer

@Suite("A connection's outbox")
struct OutboxTests {
    final class Overflows: Sendable {
        let count = Atomic<Int>(0)
    }

    static func outbox(frames: Int = 100, bytes: Int = 1000, overflows: Overflows) -> Outbox {
        Outbox(
            capacity: frames, byteLimit: bytes, onSend: {}, onOverflow: { overflows.count.add(1, ordering: .relaxed) })
    }

    @Test func itOverflowsOnceWhenItsBytesRunOut() {
        let overflows = Overflows()
        let outbox = Self.outbox(overflows: overflows)
        outbox.send(text: String(repeating: "a", count: 600))
        #expect(overflows.count.load(ordering: .relaxed) == 0)
        outbox.send(text: String(repeating: "b", count: 600))
        #expect(overflows.count.load(ordering: .relaxed) == 1)
        #expect(outbox.isClosing)
        outbox.send(text: "c")
        #expect(overflows.count.load(ordering: .relaxed) == 1, "reported once")
    }

    @Test func writtenFramesFreeTheirBytes() {
        let overflows = Overflows()
        let outbox = Self.outbox(overflows: overflows)
        for _ in 0..<10 {
            let frame = String(repeating: "x", count: 600)
            outbox.send(text: frame)
            outbox.wrote(.text(frame))
        }
        #expect(overflows.count.load(ordering: .relaxed) == 0)
    }

    @Test func aClosingOutboxIgnoresFramesWithoutCallingItSlow() {
        let overflows = Overflows()
        let outbox = Self.outbox(overflows: overflows)
        outbox.close(.normal, reason: "bye")
        for _ in 0..<10 { outbox.send(text: String(repeating: "x", count: 600)) }
        #expect(overflows.count.load(ordering: .relaxed) == 0)
    }
}
