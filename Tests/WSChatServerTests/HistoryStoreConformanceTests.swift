import Foundation
import Logging
import SQLiteNIO
import Testing
import WSChatProtocol
import WSChatTestSupport

@testable import WSChatServer

/// The `HistoryStore` contract, run against every back end.
@Suite struct HistoryStoreConformanceTests {
    static let general = try! RoomName(validating: "General")
    static let other = try! RoomName(validating: "#other")
    static let ada = try! Nick(validating: "ada")
    static let bob = try! Nick(validating: "bob")

    static func say(_ text: String, in room: RoomName = general, cid: String? = nil, ts: Int64 = 1_000)
        -> NewMessage
    {
        NewMessage(room: room, from: "ada", text: text, cid: cid ?? "cid-\(text)", action: nil, ts: ts)
    }

    static func new(_ appended: Appended<ChatMessage>) throws -> ChatMessage {
        guard case .new(let message) = appended else { throw StoreError("expected a new message, got \(appended)") }
        return message
    }

    @Test(arguments: StoreKind.allCases)
    func idsStartAtOneAndIncreasePerRoom(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let record = try await store.openRoom(Self.general)
        #expect(record.lastID == 0)
        #expect(record.name == "General")
        var ids: [Int64] = []
        for text in ["a", "b", "c"] { ids.append(try Self.new(try await store.append(Self.say(text))).id) }
        #expect(ids == [1, 2, 3])
        #expect(try Self.new(try await store.append(Self.say("x", in: Self.other))).id == 1)
        let reopened = try await store.openRoom(try RoomName(validating: "#general"))
        #expect(reopened.lastID == 3)
        #expect(reopened.epoch == record.epoch)
        #expect(reopened.name == "General")
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aRoomThatNeverHeldAnythingIsForgottenAndOneThatDidIsKept(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let empty = try RoomName(validating: "joined-once")
        let first = try await store.openRoom(empty)
        try await store.forgetRoomIfUnused(empty)
        let reopened = try await store.openRoom(empty)
        #expect(reopened.epoch != first.epoch, "the unused record was deleted; opening made a new one")

        let topical = try RoomName(validating: "topical")
        let withTopic = try await store.openRoom(topical)
        try await store.setTopic("kept", in: topical)
        try await store.forgetRoomIfUnused(topical)
        #expect(try await store.openRoom(topical).epoch == withTopic.epoch)

        let used = try await store.openRoom(Self.general)
        _ = try await store.append(Self.say("stays"))
        try await store.forgetRoomIfUnused(Self.general)
        let kept = try await store.openRoom(Self.general)
        #expect(kept.epoch == used.epoch)
        #expect(kept.lastID == 1)
        #expect(try await store.recentMessages(in: Self.general, limit: 10).messages.map(\.text) == ["stays"])
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func extremeIDsAreAnsweredWithoutTrapping(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        _ = try await store.append(Self.say("only"))
        for id in [Int64.max, Int64.max - 1, Int64.min, -1] {
            let page = try await store.messages(in: Self.general, after: id, limit: 10)
            #expect(page.messages.map(\.text) == (id < 1 ? ["only"] : []), "after \(id)")
        }
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aRepeatedCIDReturnsTheOriginalWithoutUsingAnID(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let first = try Self.new(try await store.append(Self.say("hello", cid: "c1")))
        guard case .duplicate(let again) = try await store.append(Self.say("hello again", cid: "c1")) else {
            Issue.record("a repeated cid was stored twice")
            return
        }
        #expect(again == first)
        #expect(try Self.new(try await store.append(Self.say("next", cid: "c2"))).id == 2)
        // The same cid in another room is another message.
        #expect(try Self.new(try await store.append(Self.say("elsewhere", in: Self.other, cid: "c1"))).id == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func historyPagesForwardAndBackward(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        for index in 1...7 { _ = try await store.append(Self.say("m\(index)", ts: Int64(index))) }
        let page = try await store.messages(in: Self.general, after: 2, limit: 3)
        #expect(page.messages.map(\.id) == [3, 4, 5])
        #expect(page.more)
        let last = try await store.messages(in: Self.general, after: 5, limit: 3)
        #expect(last.messages.map(\.text) == ["m6", "m7"])
        #expect(!last.more)
        let recent = try await store.recentMessages(in: Self.general, limit: 4)
        #expect(recent.messages.map(\.id) == [4, 5, 6, 7])
        #expect(recent.more)
        #expect(try await store.recentMessages(in: Self.general, limit: 7).more == false)
        #expect(try await store.messages(in: Self.other, after: 0, limit: 10) == HistoryPage(messages: [], more: false))
        #expect(recent.messages.first?.room == "General")
        await store.close()
    }

    /// The writer never checkpoints (a checkpoint inside a commit held messages up for up to a
    /// second while readers were busy); the store's checkpointer copies the write-ahead log
    /// into the database file while the store is open, so the file grows without a restart.
    @Test func theSQLiteLogIsCopiedIntoTheDatabaseFileWhileTheStoreIsOpen() async throws {
        let location = try await StoreKind.sqlite.makeLocation()
        let store = try await StoreKind.sqlite.open(location)
        func fileSize() throws -> Int {
            try FileManager.default.attributesOfItem(atPath: location)[.size] as? Int ?? 0
        }
        let before = try fileSize()
        let line = String(repeating: "w", count: 4000)
        for index in 1...300 { _ = try await store.append(Self.say("\(index) \(line)", cid: "c\(index)")) }
        let copied = try? await eventually("the log copied into the database file") {
            try fileSize() > before + 1_000_000 ? true : nil
        }
        await store.close()
        #expect(copied == true, "the database file did not grow while the store was open")
    }

    /// A page asked for at most so many bytes of text ends with the message that passes the
    /// bound (so it is never empty); the bytes are UTF-8 bytes, not characters.
    @Test(arguments: StoreKind.allCases)
    func pagesBoundedInTextBytesEndWithTheMessageThatPassesTheBound(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let wide = String(repeating: "界", count: 50)  // 150 bytes, 50 characters
        _ = try await store.append(Self.say(wide, cid: "wide"))
        for index in 2...5 {
            _ = try await store.append(Self.say(String(repeating: "\(index)", count: 100), cid: "c\(index)"))
        }
        func page(after id: Int64, limit: Int = 10, textBytes: Int) async throws -> ([Int64], Bool) {
            let page = try await store.messages(in: Self.general, after: id, limit: limit, textBytes: textBytes)
            return (page.messages.map(\.id), page.more)
        }
        #expect(try await page(after: 0, textBytes: 149) == ([1], true))
        #expect(try await page(after: 0, textBytes: 0) == ([1], true))
        #expect(try await page(after: 0, textBytes: 300) == ([1, 2, 3], true))
        #expect(try await page(after: 3, textBytes: 200) == ([4, 5], false))
        #expect(try await page(after: 0, textBytes: 550) == ([1, 2, 3, 4, 5], false))
        #expect(try await page(after: 0, limit: 2, textBytes: 10_000) == ([1, 2], true))
        #expect(try await page(after: 5, textBytes: 10) == ([], false))
        await store.close()
    }

    /// Reading back from an id (a client scrolling up): the newest messages below it, oldest
    /// first, bounded in text bytes from the newest end; `more` while older ones are left.
    @Test(arguments: StoreKind.allCases)
    func pagesBackwardStopAtTheBoundAndAtTheFirstMessage(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        for index in 1...5 {
            _ = try await store.append(Self.say(String(repeating: "\(index)", count: 100), cid: "c\(index)"))
        }
        _ = try await store.append(Self.say(String(repeating: "界", count: 50), cid: "wide"))  // id 6, 150 bytes
        func page(before id: Int64, limit: Int = 10, textBytes: Int = .max) async throws -> ([Int64], Bool) {
            let page = try await store.messages(in: Self.general, before: id, limit: limit, textBytes: textBytes)
            return (page.messages.map(\.id), page.more)
        }
        #expect(try await page(before: .max, textBytes: 149) == ([6], true))
        #expect(try await page(before: 6, textBytes: 250) == ([3, 4, 5], true))
        #expect(try await page(before: 3, textBytes: 250) == ([1, 2], false))
        #expect(try await page(before: 5, limit: 2) == ([3, 4], true))
        #expect(try await page(before: 7) == ([1, 2, 3, 4, 5, 6], false))
        #expect(try await page(before: 1_000_000) == ([1, 2, 3, 4, 5, 6], false))
        #expect(try await page(before: 1) == ([], false))
        #expect(
            try await store.messages(in: Self.other, before: .max, limit: 10, textBytes: .max)
                == HistoryPage(messages: [], more: false))
        await store.close()
    }

    /// Search finds a substring anywhere, CJK included (two characters: shorter than a
    /// trigram), ignoring ASCII case, newest first; `%` and `_` are themselves; a room scopes it;
    /// a pruned message is no longer found.
    @Test(arguments: StoreKind.allCases)
    func searchFindsSubstringsInAnyScriptNewestFirst(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let texts = [
            "今日は日本語で話そう", "Hello WORLD", "100% sure", "1000 sure", "snake_case", "snakeXcase",
            "日本の天気はどう？", "say hello again",
        ]
        for (index, text) in texts.enumerated() {
            _ = try await store.append(Self.say(text, cid: "c\(index)", ts: 1_000 + Int64(index)))
        }
        _ = try await store.append(Self.say("hello from elsewhere", in: Self.other, cid: "o1", ts: 2_000))
        func found(_ text: String, in room: RoomName? = Self.general, limit: Int = 10) async throws -> [String] {
            try await store.search(text, in: room, limit: limit).messages.map(\.text)
        }
        #expect(try await found("日本") == ["日本の天気はどう？", "今日は日本語で話そう"])
        #expect(try await found("日本語で") == ["今日は日本語で話そう"])
        #expect(try await found("hello") == ["say hello again", "Hello WORLD"])
        #expect(try await found("world") == ["Hello WORLD"])
        #expect(try await found("100%") == ["100% sure"])
        #expect(try await found("e_c") == ["snake_case"])
        #expect(try await found("hello", in: nil) == ["hello from elsewhere", "say hello again", "Hello WORLD"])
        let limited = try await store.search("hello", in: nil, limit: 2)
        #expect(limited.messages.count == 2 && limited.more)
        #expect(try await found("nowhere to be found").isEmpty)
        #expect(try await found("hello", in: try RoomName(validating: "empty")).isEmpty)

        while try await store.prune(RetentionPolicy(maxAgeDays: nil, maxPerRoom: 2), now: 10_000) > 0 {}
        #expect(try await found("hello") == ["say hello again"], "what is pruned is not found")
        await store.close()
    }

    /// Appends that arrive together get distinct consecutive ids, and a cid sent twice among
    /// them (a client's resend) is stored once and answered with the message first stored.
    @Test(arguments: StoreKind.allCases)
    func concurrentAppendsGetDistinctConsecutiveIDs(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let sends =
            (1...200).map { Self.say("message \($0)", cid: "c\($0)") }
            + [5, 17, 40, 200].map { Self.say("again", cid: "c\($0)") }
        let results = try await withThrowingTaskGroup(of: (String, Appended<ChatMessage>).self) { group in
            for send in sends { group.addTask { (send.cid, try await store.append(send)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let stored = results.compactMap { if case .new(let message) = $0.1 { message } else { nil } }
        #expect(stored.map(\.id).sorted() == Array(1...200))
        #expect(Set(stored.map(\.cid)).count == 200)
        let duplicates = results.compactMap { if case .duplicate(let original) = $0.1 { original } else { nil } }
        #expect(duplicates.count == 4)
        for original in duplicates {
            #expect(stored.contains(original), "a duplicate is answered with the message stored under its cid")
        }
        #expect(
            try await store.messages(in: Self.general, after: 0, limit: 500).messages == stored.sorted { $0.id < $1.id }
        )
        await store.close()
    }

    /// SQLite appends a batch's messages with one statement; a cid already stored, or repeated
    /// in the batch, sends the batch back to one statement per message, in the same order.
    @Test func sqliteAppendsABatchTogetherAndStillAnswersRepeatedCIDs() async throws {
        let location = try await StoreKind.sqlite.makeLocation()
        try FileManager.default.createDirectory(
            atPath: (location as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let connection = try await SQLiteConnection.open(storage: .file(path: location), logger: Logger(label: "test"))
        try await SQLiteSchema.prepareWriter(connection, path: location)
        let writer = SQLiteWriter(connection: connection)
        func ids(_ results: [Result<StoreOutput, any Error>]) throws -> [String] {
            try results.map { result in
                switch try result.get() {
                case .message(.new(let message)): "new \(message.id)"
                case .message(.duplicate(let original)): "duplicate of \(original.id)"
                default: "other"
                }
            }
        }
        let together = await writer.commit((1...3).map { .message(Self.say("m\($0)", cid: "c\($0)")) })
        #expect(try ids(together) == ["new 1", "new 2", "new 3"])
        let repeated = await writer.commit(
            [
                .message(Self.say("m4", cid: "c4")), .message(Self.say("again", cid: "c2")),
                .message(Self.say("m5", cid: "c5")), .message(Self.say("m4 again", cid: "c4")),
            ])
        #expect(try ids(repeated) == ["new 4", "duplicate of 2", "new 5", "duplicate of 4"])
        let after = await writer.commit([
            .message(Self.say("m6", cid: "c6")), .message(Self.say("m7", cid: "c7")), .openRoom(Self.general),
        ])
        #expect(try ids(Array(after.prefix(2))) == ["new 6", "new 7"])
        guard case .room(let record) = try after[2].get() else { throw StoreError("openRoom gave no room") }
        #expect(record.lastID == 7)
        let stored = try await connection.query("SELECT last_id FROM rooms WHERE key = ?", [.text(Self.general.key)])
        #expect(stored.first?.column("last_id")?.integer == 7, "the room's newest id follows its messages")
        try await connection.close()
    }

    /// SQLite indexes in batches: a search finds messages before and after a step, and a
    /// message pruned after it was indexed leaves the index too.
    @Test func sqliteSearchFindsIndexedAndNotYetIndexedMessages() async throws {
        let store = try #require(try await StoreKind.sqlite.makeStore() as? SQLiteHistoryStore)
        for index in 1...3 { _ = try await store.append(Self.say("東京 \(index)", cid: "a\(index)", ts: Int64(index))) }
        _ = try await store.indexForSearch()  // the store's own step may have run first
        #expect(try await store.indexForSearch() == 0, "everything stored is indexed")
        for index in 4...5 { _ = try await store.append(Self.say("東京 \(index)", cid: "a\(index)", ts: Int64(index))) }
        let found = try await store.search("東京", in: Self.general, limit: 10).messages.map(\.id)
        #expect(found == [5, 4, 3, 2, 1], "indexed and not yet indexed, newest first")
        #expect(try await store.search("京 2", in: nil, limit: 10).messages.map(\.id) == [2])
        while try await store.prune(RetentionPolicy(maxAgeDays: nil, maxPerRoom: 2), now: 10) > 0 {}
        #expect(try await store.search("東京", in: nil, limit: 10).messages.map(\.id) == [5, 4])
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func everyFieldOfAMessageIsKept(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let text = "你好 🎉 \"quoted\" \\ and 'single'"
        let stored = try Self.new(
            try await store.append(
                NewMessage(room: Self.general, from: "zoë", text: text, cid: "k", action: true, ts: 1_700_000_000_123)))
        let read = try await store.messages(in: Self.general, after: 0, limit: 10).messages
        #expect(read == [stored])
        #expect(
            stored
                == ChatMessage(
                    room: "General", id: 1, ts: 1_700_000_000_123, from: "zoë", text: text, cid: "k", action: true))
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func topicsAreKept(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        _ = try await store.openRoom(Self.general)
        try await store.setTopic("release day 🚀", in: Self.general)
        #expect(try await store.openRoom(Self.general).topic == "release day 🚀")
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func directMessagesAreNumberedPerPairAndDeduplicated(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let carol = try Nick(validating: "carol")
        func dm(_ from: Nick, _ to: Nick, _ cid: String) -> NewDirectMessage {
            NewDirectMessage(from: from, to: to, text: "hi \(cid)", cid: cid, ts: 5)
        }
        var ids: [Int64] = []
        for new in [dm(Self.ada, Self.bob, "d1"), dm(Self.bob, Self.ada, "d2"), dm(Self.ada, carol, "d3")] {
            guard case .new(let message) = try await store.appendDirect(new) else {
                Issue.record("a new direct message was taken for a duplicate")
                return
            }
            ids.append(message.id)
        }
        #expect(ids == [1, 2, 1])
        guard case .duplicate(let original) = try await store.appendDirect(dm(Self.ada, Self.bob, "d1")) else {
            Issue.record("a repeated direct message was stored twice")
            return
        }
        #expect(original.id == 1 && original.from == "ada" && original.to == "bob")
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func directMessagesAreReadBackOnlyUnderTheSecretTheyWereSentUnder(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let carol = try Nick(validating: "carol")
        let (adas, bobs, eves) = ("owner-ada", "owner-bob", "owner-eve")
        // ada and bob talk; eve holds the nick ada for a while; a v1 client says no secret.
        let sent: [(Nick, Nick, String?, String?, String)] = [
            (Self.ada, Self.bob, adas, bobs, "one"), (Self.bob, Self.ada, bobs, adas, "two"),
            (Self.ada, Self.bob, eves, bobs, "eve's"), (Self.ada, Self.bob, nil, bobs, "no secret"),
            (Self.ada, carol, adas, nil, "to carol"),
            (Self.ada, Self.bob, adas, bobs, String(repeating: "long ", count: 40)),
        ]
        for (index, (from, to, fromOwner, toOwner, text)) in sent.enumerated() {
            _ = try await store.appendDirect(
                NewDirectMessage(
                    from: from, to: to, text: text, cid: "d\(index)", ts: Int64(index), fromOwner: fromOwner,
                    toOwner: toOwner))
        }
        func read(
            _ nick: Nick, _ other: Nick, as owner: String, before: Int64 = .max, limit: Int = 10,
            textBytes: Int = .max
        ) async throws -> ([Int64], Bool) {
            let page = try await store.directMessages(
                between: nick, and: other, owner: owner, before: before, limit: limit, textBytes: textBytes)
            return (page.messages.map(\.id), page.more)
        }
        #expect(try await read(Self.ada, Self.bob, as: adas) == ([1, 2, 5], false))
        #expect(try await read(Self.ada, Self.bob, as: eves) == ([3], false))
        #expect(try await read(Self.bob, Self.ada, as: bobs) == ([1, 2, 3, 4, 5], false))
        #expect(try await read(Self.ada, carol, as: adas) == ([1], false))
        #expect(try await read(Self.ada, Self.bob, as: "nobody's") == ([], false))
        // Pages go back from the newest, and are cut by their texts' size.
        #expect(try await read(Self.bob, Self.ada, as: bobs, limit: 2) == ([4, 5], true))
        #expect(try await read(Self.bob, Self.ada, as: bobs, before: 4, limit: 2) == ([2, 3], true))
        #expect(try await read(Self.bob, Self.ada, as: bobs, before: 2, limit: 2) == ([1], false))
        #expect(try await read(Self.ada, Self.bob, as: adas, textBytes: 100) == ([5], true))
        let page = try await store.directMessages(
            between: Self.ada, and: Self.bob, owner: adas, before: 3, limit: 10, textBytes: .max)
        #expect(page.messages.map(\.text) == ["one", "two"])
        #expect(page.messages.map(\.from) == ["ada", "bob"] && page.messages.map(\.to) == ["bob", "ada"])
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func pruningKeepsTheNewestAndNeverReusesIDs(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let day: Int64 = 86_400_000
        let now: Int64 = 100 * day
        for index in 1...10 {
            // Messages 1–4 are 40 days old, the rest from today.
            let ts = index <= 4 ? now - 40 * day : now - 1000
            _ = try await store.append(Self.say("m\(index)", ts: ts))
        }
        _ = try await store.appendDirect(
            NewDirectMessage(from: Self.ada, to: Self.bob, text: "old", cid: "old-dm", ts: now - 40 * day))
        var pruned = 0
        while case let count = try await store.prune(RetentionPolicy(maxAgeDays: 30), now: now), count > 0 {
            pruned += count
        }
        #expect(pruned == 5)
        #expect(try await store.messages(in: Self.general, after: 0, limit: 50).messages.map(\.id) == Array(5...10))

        while try await store.prune(RetentionPolicy(maxAgeDays: nil, maxPerRoom: 3), now: now) > 0 {}
        let kept = try await store.recentMessages(in: Self.general, limit: 50)
        #expect(kept.messages.map(\.id) == [8, 9, 10])
        #expect(!kept.more)
        #expect(try Self.new(try await store.append(Self.say("after"))).id == 11)
        await store.close()
    }

    @Test(arguments: StoreKind.durable)
    func aReopenedStoreKeepsHistoryIDsTopicsAndDedupe(kind: StoreKind) async throws {
        let location = try await kind.makeLocation()
        let store = try await kind.open(location)
        let epoch = try await store.openRoom(Self.general).epoch
        for text in ["one", "two"] { _ = try await store.append(Self.say(text)) }
        try await store.setTopic("kept", in: Self.general)
        _ = try await store.appendDirect(NewDirectMessage(from: Self.ada, to: Self.bob, text: "hi", cid: "d", ts: 1))
        await store.close()

        let reopened = try await kind.open(location)
        let record = try await reopened.openRoom(Self.general)
        #expect(record == RoomRecord(name: "General", epoch: epoch, topic: "kept", lastID: 2))
        #expect(
            try await reopened.messages(in: Self.general, after: 0, limit: 10).messages.map(\.text) == ["one", "two"])
        guard case .duplicate = try await reopened.append(Self.say("two")) else {
            Issue.record("a cid stored before the restart was stored again")
            return
        }
        #expect(try Self.new(try await reopened.append(Self.say("three"))).id == 3)
        guard
            case .duplicate = try await reopened.appendDirect(
                NewDirectMessage(from: Self.ada, to: Self.bob, text: "hi", cid: "d", ts: 1))
        else {
            Issue.record("a direct message's cid was forgotten across the restart")
            return
        }
        await reopened.close()
    }

    @Test(arguments: StoreKind.durable)
    func aDatabaseFromANewerServerIsRefusedAndLeftAlone(kind: StoreKind) async throws {
        let location = try await kind.makeLocation()
        let store = try await kind.open(location)
        _ = try await store.append(Self.say("kept"))
        await store.close()

        try await kind.setSchemaVersion(99, at: location)
        do {
            let opened = try await kind.open(location)
            await opened.close()
            Issue.record("a database with schema version 99 was opened")
        } catch {
            #expect("\(error)".contains("schema version 99, newer than this wschat-server knows"))
        }
        // Nothing was migrated or dropped: with its version back, the history is all there.
        let current = kind == .postgres ? PostgresSchema.migrations.count : SQLiteSchema.migrations.count
        try await kind.setSchemaVersion(current, at: location)
        let reopened = try await kind.open(location)
        #expect(try await reopened.messages(in: Self.general, after: 0, limit: 10).messages.map(\.text) == ["kept"])
        await reopened.close()
    }
}

extension HistoryStore {
    /// The newest `limit` messages, however long their texts.
    fileprivate func recentMessages(in room: RoomName, limit: Int) async throws -> HistoryPage {
        try await messages(in: room, before: .max, limit: limit, textBytes: .max)
    }
}
