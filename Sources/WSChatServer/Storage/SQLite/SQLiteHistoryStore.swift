import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import WSChatProtocol

/// History in one SQLite file (the default store): WAL mode, every write through one
/// group-committed writer connection, reads on a second connection that sees only committed
/// rows, so history never shows a message whose commit could still fail.
///
/// The writer has a thread of its own: on NIO's shared blocking pool (one thread per core
/// the server may use) a new message would wait behind every history read queued before it,
/// and clients pulling large histories again and again held chat in other rooms up for
/// seconds (`wschat-bench attack --kind pullers`).
///
/// For the same reason the write-ahead log is copied into the database file by a third
/// connection, once a second, and never by the writer: SQLite's automatic checkpoint runs
/// inside the commit that takes the log past 1000 pages, and with readers busy that commit,
/// and every message waiting on it, took up to a second.
public final class SQLiteHistoryStore: HistoryStore {
    public let path: String
    private let lock: DatabaseLock
    private let reader: SQLiteConnection
    private let writer: SQLiteWriter
    private let writerThread: NIOThreadPool
    private let checkpointer: SQLiteConnection
    private let checkpoints: Task<Void, Never>
    private let indexing: Task<Void, Never>
    private let commits: GroupCommit<StoreWrite, StoreOutput>

    private init(
        path: String, lock: DatabaseLock, reader: SQLiteConnection, writer: SQLiteWriter, writerThread: NIOThreadPool,
        checkpointer: SQLiteConnection, logger: Logger
    ) {
        self.path = path
        self.lock = lock
        self.reader = reader
        self.writer = writer
        self.writerThread = writerThread
        self.checkpointer = checkpointer
        self.checkpoints = Self.checkpointing(on: checkpointer, logger: logger)
        let commits = GroupCommit<StoreWrite, StoreOutput> { [writer] batch in await writer.commit(batch) }
        self.commits = commits
        self.indexing = commits.keepingSearchIndexed(fullStep: SQLiteWriter.indexChunk, logger: logger)
    }

    /// Indexes what is not indexed yet for search now, for tests.
    func indexForSearch() async throws -> Int {
        try await commits.indexForSearch()
    }

    /// Copies what the write-ahead log holds into the database file once a second, as far as
    /// the readers' snapshots allow (PASSIVE: it never waits for them), until cancelled.
    private static func checkpointing(on connection: SQLiteConnection, logger: Logger) -> Task<Void, Never> {
        Task {
            while (try? await Task.sleep(for: .seconds(1))) != nil {
                do {
                    _ = try await connection.query("PRAGMA wal_checkpoint(PASSIVE)")
                } catch {
                    logger.warning(
                        "could not copy the history log into the database file; it grows until this works",
                        metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Opens (creating it if needed) the database at `path` and migrates its schema. Fails
    /// while another process has it open.
    public static func open(path: String, logger: Logger) async throws -> SQLiteHistoryStore {
        let lock = try DatabaseLock(databasePath: path)
        do {
            return try await open(path: path, lock: lock, logger: logger)
        } catch {
            lock.release()
            throw error
        }
    }

    private static func open(path: String, lock: DatabaseLock, logger: Logger) async throws -> SQLiteHistoryStore {
        let writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        let writing: SQLiteConnection
        do {
            writing = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: writerThread, logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await writerThread.shutdownGracefully()
            throw StoreError("cannot open the history database \(path): \(error)")
        }
        do {
            try await SQLiteSchema.prepareWriter(writing, path: path)
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            _ = try await reader.query("PRAGMA busy_timeout = 5000")
            _ = try await reader.query("PRAGMA query_only = ON")
            let checkpointer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            _ = try await checkpointer.query("PRAGMA busy_timeout = 5000")
            return SQLiteHistoryStore(
                path: path, lock: lock, reader: reader, writer: SQLiteWriter(connection: writing),
                writerThread: writerThread, checkpointer: checkpointer, logger: logger)
        } catch {
            try? await writing.close()
            try? await writerThread.shutdownGracefully()
            throw error
        }
    }

    /// Opens `history.sqlite3` in `directory`, creating the directory first.
    public static func open(directory: String, logger: Logger) async throws -> SQLiteHistoryStore {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        return try await open(path: (directory as NSString).appendingPathComponent("history.sqlite3"), logger: logger)
    }

    public func openRoom(_ name: RoomName) async throws -> RoomRecord {
        if let record = try await SQLiteRows.room(name.key, on: reader) { return record }
        return try await commits.openRoom(name)
    }

    public func append(_ message: NewMessage) async throws -> Appended<ChatMessage> {
        try await commits.append(message)
    }

    public func appendDirect(_ message: NewDirectMessage) async throws -> Appended<DirectMessage> {
        try await commits.appendDirect(message)
    }

    public func setTopic(_ topic: String, in room: RoomName) async throws {
        try await commits.setTopic(topic, in: room)
    }

    public func forgetRoomIfUnused(_ room: RoomName) async throws {
        try await commits.forgetRoomIfUnused(room)
    }

    public func prune(_ policy: RetentionPolicy, now: Int64) async throws -> Int {
        try await commits.prune(policy, now: now)
    }

    public func messages(in room: RoomName, after id: Int64, limit: Int, textBytes: Int) async throws -> HistoryPage {
        try await page(in: room, from: id, newer: true, limit: limit, textBytes: textBytes)
    }

    public func messages(in room: RoomName, before id: Int64, limit: Int, textBytes: Int) async throws -> HistoryPage {
        try await page(in: room, from: id, newer: false, limit: limit, textBytes: textBytes)
    }

    /// The messages next to `id` (newer or older), read by size first and then only the ones
    /// the page keeps (`HistoryPageCut`), oldest first.
    private func page(in room: RoomName, from id: Int64, newer: Bool, limit: Int, textBytes: Int) async throws
        -> HistoryPage
    {
        // octet_length reads the size from the record header, not the text.
        let sizes = try await reader.query(
            """
            SELECT id, octet_length(text) AS size FROM messages WHERE room_key = ? AND id \(newer ? ">" : "<") ?
            ORDER BY id \(newer ? "" : "DESC") LIMIT ?
            """, [.text(room.key), .integer(Int(id)), .integer(limit + 1)])
        let cut = HistoryPageCut(
            textSizes: try sizes.map { Int(try $0.int("size")) }, limit: limit, textBytes: textBytes)
        guard cut.count > 0 else { return HistoryPage(messages: [], more: false) }
        let farthest = Int(try sizes[cut.count - 1].int("id"))
        let (lowest, highest) = newer ? (Int(id) + 1, farthest) : (farthest, Int(id) - 1)
        let rows = try await reader.query(
            """
            SELECT \(SQLiteRows.messageColumns) FROM messages m JOIN rooms r ON r.key = m.room_key
            WHERE m.room_key = ? AND m.id BETWEEN ? AND ? ORDER BY m.id
            """, [.text(room.key), .integer(lowest), .integer(highest)])
        return HistoryPage(messages: try rows.map(SQLiteRows.chatMessage), more: cut.more)
    }

    public func directMessages(
        between nick: Nick, and other: Nick, owner: String, before id: Int64, limit: Int, textBytes: Int
    ) async throws -> DirectHistoryPage {
        let pair = SQLiteData.text(NewDirectMessage.pairKey(nick, other))
        let owner = SQLiteData.text(owner)
        let sizes = try await reader.query(
            """
            SELECT id, octet_length(text) AS size FROM direct_messages
            WHERE pair_key = ? AND id < ? AND (from_owner = ? OR to_owner = ?) ORDER BY id DESC LIMIT ?
            """, [pair, .integer(Int(id)), owner, owner, .integer(limit + 1)])
        let cut = HistoryPageCut(
            textSizes: try sizes.map { Int(try $0.int("size")) }, limit: limit, textBytes: textBytes)
        guard cut.count > 0 else { return DirectHistoryPage(messages: [], more: false) }
        let rows = try await reader.query(
            """
            SELECT \(SQLiteRows.directColumns) FROM direct_messages
            WHERE pair_key = ? AND id BETWEEN ? AND ? AND (from_owner = ? OR to_owner = ?) ORDER BY id
            """, [pair, .integer(Int(try sizes[cut.count - 1].int("id"))), .integer(Int(id) - 1), owner, owner])
        return DirectHistoryPage(messages: try rows.map(SQLiteRows.directMessage), more: cut.more)
    }

    /// How many of the newest messages a search for one or two characters looks through: it
    /// has no trigram to look up, and a client may send ten searches a second.
    static let shortSearchWindow = 100_000

    public func search(_ text: String, in room: RoomName?, limit: Int) async throws -> HistoryPage {
        // LIKE on the trigram index (three characters or more use it; shorter patterns scan
        // it), and a scan of the messages stored since the last indexing step. Rows are
        // numbered in the order messages were stored: newest first is highest first.
        var filters = room == nil ? "" : "AND x.room_key = ?"
        if text.count < 3 {
            // No trigram to look up: the index is scanned, so only over the newest messages.
            filters +=
                " AND x.row > (SELECT coalesce(max(row), 0) FROM message_search_rows) - \(Self.shortSearchWindow)"
        }
        let roomBind: [SQLiteData] = room.map { [.text($0.key)] } ?? []
        let pattern = SQLiteData.text(LikePattern.containing(text))
        let rows = try await reader.query(
            """
            SELECT \(SQLiteRows.messageColumns), x.row AS row FROM message_search_rows x
            JOIN messages m ON m.room_key = x.room_key AND m.id = x.id JOIN rooms r ON r.key = m.room_key
            WHERE x.row > (SELECT indexed_row FROM search_progress) AND m.text LIKE ? ESCAPE '\\' \(filters)
            UNION ALL
            SELECT \(SQLiteRows.messageColumns), x.row AS row FROM messages_search s
            JOIN message_search_rows x ON x.row = s.rowid
            JOIN messages m ON m.room_key = x.room_key AND m.id = x.id JOIN rooms r ON r.key = m.room_key
            WHERE s.text LIKE ? ESCAPE '\\' \(filters)
            ORDER BY row DESC LIMIT ?
            """, [pattern] + roomBind + [pattern] + roomBind + [.integer(limit + 1)])
        return HistoryPage(messages: try rows.prefix(limit).map(SQLiteRows.chatMessage), more: rows.count > limit)
    }

    public func close() async {
        indexing.cancel()
        await indexing.value
        await commits.waitUntilIdle()
        checkpoints.cancel()
        await checkpoints.value
        try? await checkpointer.close()
        try? await reader.close()
        try? await writer.connection.close()
        try? await writerThread.shutdownGracefully()
        lock.release()
    }
}
