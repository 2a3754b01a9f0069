import SQLiteNIO

/// The SQLite schema, one migration per version; `PRAGMA user_version` records how many
/// have run. Append migrations, never edit one that has shipped.
enum SQLiteSchema {
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE rooms (
                key TEXT PRIMARY KEY, name TEXT NOT NULL, epoch TEXT NOT NULL,
                topic TEXT NOT NULL DEFAULT '', last_id INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE messages (
                room_key TEXT NOT NULL, id INTEGER NOT NULL, ts INTEGER NOT NULL, nick TEXT NOT NULL,
                text TEXT NOT NULL, cid TEXT NOT NULL, action INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (room_key, id)
            ) WITHOUT ROWID
            """,
            "CREATE UNIQUE INDEX messages_by_cid ON messages (room_key, cid)",
            "CREATE INDEX messages_by_ts ON messages (ts)",
            "CREATE TABLE direct_pairs (key TEXT PRIMARY KEY, last_id INTEGER NOT NULL) WITHOUT ROWID",
            """
            CREATE TABLE direct_messages (
                pair_key TEXT NOT NULL, id INTEGER NOT NULL, ts INTEGER NOT NULL, from_nick TEXT NOT NULL,
                to_nick TEXT NOT NULL, text TEXT NOT NULL, cid TEXT NOT NULL UNIQUE,
                PRIMARY KEY (pair_key, id)
            )
            """,
            "CREATE INDEX direct_messages_by_ts ON direct_messages (ts)",
        ],
        [
            // Search: an FTS5 index of trigrams finds any substring of three characters or
            // more, in any script (CJK has no spaces to split words on). FTS5 numbers its rows
            // and `messages` has none, so `message_search_rows` numbers messages as they are
            // stored. Indexing is done in batches, apart from appends (`SQLiteWriter.index`):
            // one message at a time it cost half again the server's CPU per delivery in a
            // flood. Rows past `search_progress.indexed_row` are not indexed yet, and a search
            // scans them.
            """
            CREATE TABLE message_search_rows (
                row INTEGER PRIMARY KEY, room_key TEXT NOT NULL, id INTEGER NOT NULL, UNIQUE (room_key, id))
            """,
            "CREATE VIRTUAL TABLE messages_search USING fts5(text, tokenize = 'trigram')",
            "CREATE TABLE search_progress (indexed_row INTEGER NOT NULL)",
            "INSERT INTO search_progress (indexed_row) VALUES (0)",
            "INSERT INTO message_search_rows (room_key, id) SELECT room_key, id FROM messages ORDER BY ts, room_key, id",
            """
            CREATE TRIGGER messages_searchable AFTER INSERT ON messages BEGIN
                INSERT INTO message_search_rows (room_key, id) VALUES (new.room_key, new.id);
            END
            """,
            """
            CREATE TRIGGER messages_unsearchable AFTER DELETE ON messages BEGIN
                DELETE FROM messages_search WHERE rowid =
                    (SELECT row FROM message_search_rows WHERE room_key = old.room_key AND id = old.id);
                DELETE FROM message_search_rows WHERE room_key = old.room_key AND id = old.id;
            END
            """,
        ],
        [
            // Direct-message history: the digests of the secrets the sender and the recipient
            // said in `hello` (`SecretDigest`); a conversation is read back only under one of
            // them. Messages stored before have none, and are never read back.
            "ALTER TABLE direct_messages ADD COLUMN from_owner TEXT",
            "ALTER TABLE direct_messages ADD COLUMN to_owner TEXT",
        ],
        [
            // A room's newest id follows its messages as they are inserted, so that a batch of
            // messages is one statement, with no transaction around it to open and commit
            // (every statement is a trip to SQLite's thread; `SQLiteWriter`).
            """
            CREATE TRIGGER messages_number_room AFTER INSERT ON messages BEGIN
                UPDATE rooms SET last_id = new.id WHERE key = new.room_key AND last_id < new.id;
            END
            """
        ],
    ]

    /// Sets the connection up for durable writes and brings the schema to the newest version.
    static func prepareWriter(_ connection: SQLiteConnection, path: String) async throws {
        // WAL lets the reader connection read while a batch commits; FULL syncs the WAL on
        // every commit, so an acknowledged message survives a crash of the machine too (group
        // commit keeps that to one fsync per batch).
        let mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
        guard mode?.lowercased() == "wal" else {
            throw StoreError("\(path) cannot use write-ahead logging (journal mode \(mode ?? "unknown"))")
        }
        _ = try await connection.query("PRAGMA synchronous = FULL")
        // The store's checkpointer copies the log into the database file, off the writer.
        _ = try await connection.query("PRAGMA wal_autocheckpoint = 0")
        _ = try await connection.query("PRAGMA busy_timeout = 5000")
        let version = try await connection.query("PRAGMA user_version").first?.column("user_version")?.integer ?? 0
        guard version <= migrations.count else {
            throw StoreError(
                "\(path) has schema version \(version), newer than this wschat-server knows (\(migrations.count)); "
                    + "run a newer wschat-server")
        }
        for (index, statements) in migrations.enumerated().dropFirst(version) {
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                for statement in statements { _ = try await connection.query(statement) }
                _ = try await connection.query("PRAGMA user_version = \(index + 1)")
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw StoreError("cannot migrate \(path) to schema version \(index + 1): \(error)")
            }
        }
    }
}
