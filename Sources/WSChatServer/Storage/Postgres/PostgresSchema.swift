import Logging
import PostgresNIO

/// The PostgreSQL schema, one migration per version, recorded in `wschat_schema`. Nodes that
/// start together serialise their migrations on an advisory lock. Append migrations, never
/// edit one that has shipped.
enum PostgresSchema {
    /// An arbitrary constant naming wschat's advisory lock.
    static let migrationLock: Int64 = 0x7773_6368_6174

    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE rooms (
                key TEXT PRIMARY KEY, name TEXT NOT NULL, epoch TEXT NOT NULL,
                topic TEXT NOT NULL DEFAULT '', last_id BIGINT NOT NULL DEFAULT 0)
            """,
            """
            CREATE TABLE messages (
                room_key TEXT NOT NULL, id BIGINT NOT NULL, ts BIGINT NOT NULL, nick TEXT NOT NULL,
                text TEXT NOT NULL, cid TEXT NOT NULL, action BOOLEAN NOT NULL DEFAULT FALSE,
                PRIMARY KEY (room_key, id))
            """,
            "CREATE UNIQUE INDEX messages_by_cid ON messages (room_key, cid)",
            "CREATE INDEX messages_by_ts ON messages (ts)",
            "CREATE TABLE direct_pairs (key TEXT PRIMARY KEY, last_id BIGINT NOT NULL)",
            """
            CREATE TABLE direct_messages (
                pair_key TEXT NOT NULL, id BIGINT NOT NULL, ts BIGINT NOT NULL, from_nick TEXT NOT NULL,
                to_nick TEXT NOT NULL, text TEXT NOT NULL, cid TEXT NOT NULL UNIQUE,
                PRIMARY KEY (pair_key, id))
            """,
            "CREATE INDEX direct_messages_by_ts ON direct_messages (ts)",
            // What the nodes of a cluster share about who is online (see PostgresCluster).
            "CREATE TABLE nodes (id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL)",
            "CREATE TABLE nicks (key TEXT PRIMARY KEY, name TEXT NOT NULL, node TEXT NOT NULL)",
            """
            CREATE TABLE members (
                room_key TEXT NOT NULL, nick_key TEXT NOT NULL, nick TEXT NOT NULL, node TEXT NOT NULL,
                joined_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (room_key, nick_key))
            """,
        ],
        [
            // The confusable skeletons of the nicks online (Unicode TS #39), so that no node
            // lets in a nick that looks like one in use on another; they go with their nick.
            """
            CREATE TABLE nick_skeletons (
                skeleton TEXT PRIMARY KEY, nick_key TEXT NOT NULL REFERENCES nicks (key) ON DELETE CASCADE)
            """
        ],
        [
            // Search: ILIKE on a trigram index finds any substring of three characters or
            // more, in any script (pg_trgm is a trusted extension: the database's owner may
            // create it).
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE INDEX messages_by_trigram ON messages USING gin (text gin_trgm_ops)",
        ],
        [
            // Direct-message history: the digests of the secrets the sender and the recipient
            // said in `hello` (`SecretDigest`); a conversation is read back only under one of
            // them, and messages stored before have none. A nick claimed in the cluster keeps
            // its holder's digest, so that a node storing a message for a user on another
            // node knows whose it is.
            "ALTER TABLE direct_messages ADD COLUMN from_owner TEXT, ADD COLUMN to_owner TEXT",
            "ALTER TABLE nicks ADD COLUMN owner TEXT",
        ],
    ]

    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS wschat_schema (version INT NOT NULL)", logger: logger)
            var version = 0
            for try await row in try await connection.query("SELECT version FROM wschat_schema", logger: logger)
                .decode(Int.self)
            {
                version = row
            }
            guard version <= migrations.count else {
                throw StoreError(
                    "the database has schema version \(version), newer than this wschat-server knows "
                        + "(\(migrations.count)); run a newer wschat-server")
            }
            for statements in migrations.dropFirst(version) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            try await connection.query("DELETE FROM wschat_schema", logger: logger)
            try await connection.query(
                "INSERT INTO wschat_schema (version) VALUES (\(migrations.count))", logger: logger)
        }
    }
}
