import Foundation
import Testing
import WSChatClient
import WSChatProtocol

@testable import WSChatApp

@Suite("Buffers logged to files")
struct ChatLogsTests {
    static func message(_ id: Int64, _ text: String, from: String = "bob") -> ChatMessage {
        ChatMessage(room: "General", id: id, ts: id * 1000, from: from, text: text, cid: "c\(id)")
    }

    static func joined(_ history: [ChatMessage]) -> EngineEvent {
        .server(
            .joined(.init(room: "General", epoch: "e", topic: "", members: [], history: history, more: false)), raw: "")
    }

    @Test func everyBufferHasItsFileAndHistoryIsWrittenOnce() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-logs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let logs = ChatLogs(root: root, url: "ws://127.0.0.1:8080/ws")
        logs.record(.server(.welcome(.init(nick: "alice", session: "s", server: "t", limits: Limits())), raw: ""))
        logs.record(Self.joined([Self.message(1, "one"), Self.message(2, "two\nlines")]))
        logs.record(.server(.message(Self.message(3, "waves", from: "alice")), raw: ""))
        logs.record(.server(.dm(.init(id: 9, ts: 4000, from: "bob", to: "alice", text: "psst", cid: "d")), raw: ""))
        logs.record(.server(.presence(.init(room: "General", nick: "bob", event: .quit, reason: "bye")), raw: ""))

        let folder = root.appendingPathComponent("127.0.0.1_8080")
        var room = try String(contentsOf: folder.appendingPathComponent("general.log"), encoding: .utf8)
        let lines = room.split(separator: "\n")
        #expect(lines.count == 4, "\(room)")
        #expect(lines[0] == "1970-01-01T00:00:01.000Z <bob> one")
        #expect(lines[1] == "1970-01-01T00:00:02.000Z <bob> two ↵ lines", "one line per message")
        #expect(lines[2] == "1970-01-01T00:00:03.000Z <alice> waves")
        #expect(lines[3].hasSuffix(" -- bob quit (bye)"))
        let direct = try String(contentsOf: folder.appendingPathComponent("@bob.log"), encoding: .utf8)
        #expect(direct == "1970-01-01T00:00:04.000Z <bob> psst\n")

        // The next start shows the last messages again: only the new one is written.
        let again = ChatLogs(root: root, url: "ws://127.0.0.1:8080/ws")
        again.record(
            Self.joined([
                Self.message(2, "two\nlines"), Self.message(3, "waves", from: "alice"), Self.message(5, "new"),
            ]))
        room = try String(contentsOf: folder.appendingPathComponent("general.log"), encoding: .utf8)
        #expect(room.split(separator: "\n").count == 5)
        #expect(room.hasSuffix("1970-01-01T00:00:05.000Z <bob> new\n"))
    }

    @Test func historyMessagesOfOneMillisecondAreAllWritten() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-logs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let logs = ChatLogs(root: root, url: "ws://127.0.0.1:8080/ws")
        let burst = (1...3).map {
            ChatMessage(room: "General", id: $0, ts: 7000, from: "bob", text: "\($0)", cid: "c\($0)")
        }
        logs.record(Self.joined(burst))
        let room = try String(
            contentsOf: root.appendingPathComponent("127.0.0.1_8080/general.log"), encoding: .utf8)
        #expect(room.split(separator: "\n").count == 3, "\(room)")
    }
}
