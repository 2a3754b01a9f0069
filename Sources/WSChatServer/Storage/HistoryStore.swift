import WSChatProtocol

/// Where rooms, messages, direct messages and topics live. The hub talks only to this
/// interface; memory, SQLite and PostgreSQL back it (one conformance suite tests all three).
///
/// Contract: ids are assigned per room (per pair of nicks for direct messages), start at 1 and
/// strictly increase, also across restarts; an append either assigns an id and succeeds or
/// throws without using one; an append returns only once the message is as durable as the
/// store gets; an append whose `cid` is already stored returns the original as `.duplicate`.
public protocol HistoryStore: Sendable {
    /// The room's record, created with this spelling on first use.
    func openRoom(_ name: RoomName) async throws -> RoomRecord
    func append(_ message: NewMessage) async throws -> Appended<ChatMessage>
    /// The oldest messages with an id above `id`, at most `limit` of them, ending with the one
    /// whose text takes the page's texts past `textBytes` (see `HistoryPageCut`); `more` when
    /// newer ones were left out.
    func messages(in room: RoomName, after id: Int64, limit: Int, textBytes: Int) async throws -> HistoryPage
    /// The newest messages with an id below `id`, oldest first, at most `limit` of them, going
    /// back until their texts take the page past `textBytes` (see `HistoryPageCut`); `more`
    /// when older ones were left out.
    func messages(in room: RoomName, before id: Int64, limit: Int, textBytes: Int) async throws -> HistoryPage
    /// The newest messages (newest first) whose text contains `text`, ignoring case, in `room`
    /// or in every room; at most `limit`, `more` when others match too. Stores use an index
    /// where they have one (SQLite's FTS5 trigram index, PostgreSQL's pg_trgm): any script,
    /// CJK included, is found by a substring of its text.
    func search(_ text: String, in room: RoomName?, limit: Int) async throws -> HistoryPage
    func setTopic(_ topic: String, in room: RoomName) async throws
    /// Deletes the room's record when it holds nothing worth keeping (no message was ever
    /// stored and it has no topic), so that rooms joined once and left do not pile up. A room
    /// that later opens again gets a new epoch, which is harmless: it had no history.
    func forgetRoomIfUnused(_ room: RoomName) async throws
    func appendDirect(_ message: NewDirectMessage) async throws -> Appended<DirectMessage>
    /// The newest direct messages between `nick` and `other` with an id below `id`, oldest
    /// first, that `owner` sent or received (the digest of a `hello`'s secret: a message stored
    /// without one, or under another holder of the nick, is never read back). At most `limit`,
    /// cut by `textBytes` as a room's page is (`HistoryPageCut`); `more` when older ones that
    /// `owner` may read were left out.
    func directMessages(
        between nick: Nick, and other: Nick, owner: String, before id: Int64, limit: Int, textBytes: Int
    ) async throws -> DirectHistoryPage
    /// Deletes up to a bounded chunk of what `policy` no longer keeps; returns how many
    /// messages went, 0 once nothing is left to prune. Ids are never reused afterwards.
    func prune(_ policy: RetentionPolicy, now: Int64) async throws -> Int
    /// Lets pending writes finish and releases the database.
    func close() async
}

/// How much history a server keeps: messages older than `maxAgeDays` and beyond the newest
/// `maxPerRoom` of a room go (direct messages only by age); `nil` sets no bound.
public struct RetentionPolicy: Equatable, Sendable {
    public var maxAgeDays: Int?
    public var maxPerRoom: Int?

    public init(maxAgeDays: Int? = 30, maxPerRoom: Int? = nil) {
        self.maxAgeDays = maxAgeDays
        self.maxPerRoom = maxPerRoom
    }

    /// Messages with a `ts` below this go.
    func cutoff(now: Int64) -> Int64? {
        maxAgeDays.map { now - Int64($0) * 86_400_000 }
    }
}

/// A room as the store knows it.
public struct RoomRecord: Equatable, Sendable {
    /// The spelling of whoever created the room.
    public var name: String
    public var epoch: String
    public var topic: String
    /// The id of the newest message, 0 for none.
    public var lastID: Int64

    public init(name: String, epoch: String, topic: String, lastID: Int64) {
        self.name = name
        self.epoch = epoch
        self.topic = topic
        self.lastID = lastID
    }
}

/// A `say` accepted by the hub, before the store numbers it.
public struct NewMessage: Sendable {
    public var room: RoomName
    public var from: String
    public var text: String
    public var cid: String
    public var action: Bool?
    public var ts: Int64

    public init(room: RoomName, from: String, text: String, cid: String, action: Bool?, ts: Int64) {
        self.room = room
        self.from = from
        self.text = text
        self.cid = cid
        self.action = action
        self.ts = ts
    }
}

/// A `dm` accepted by the hub, before the store numbers it.
public struct NewDirectMessage: Sendable {
    public var from: Nick
    public var to: Nick
    public var text: String
    public var cid: String
    public var ts: Int64
    /// The digests of the sender's and the recipient's secrets (`SecretDigest`), when they
    /// said one: only they can read the message back.
    public var fromOwner: String?
    public var toOwner: String?

    public init(
        from: Nick, to: Nick, text: String, cid: String, ts: Int64, fromOwner: String? = nil, toOwner: String? = nil
    ) {
        self.from = from
        self.to = to
        self.text = text
        self.cid = cid
        self.ts = ts
        self.fromOwner = fromOwner
        self.toOwner = toOwner
    }

    /// The key of the conversation: both nicks' keys, in a fixed order, joined by a space
    /// (which no nick contains; PostgreSQL text cannot hold the NUL a C habit would suggest).
    public var pairKey: String { Self.pairKey(from, to) }

    public static func pairKey(_ one: Nick, _ other: Nick) -> String {
        [one.key, other.key].sorted().joined(separator: " ")
    }
}

/// The result of an append: a new message, or the original one with the same `cid`.
public enum Appended<Message: Sendable>: Sendable {
    case new(Message)
    case duplicate(Message)
}

/// A slice of a room's history, or of a direct conversation's, oldest first (a search's
/// matches newest first).
public struct MessagePage<Message: Equatable & Sendable>: Equatable, Sendable {
    public var messages: [Message]
    public var more: Bool

    public init(messages: [Message], more: Bool) {
        self.messages = messages
        self.more = more
    }
}

public typealias HistoryPage = MessagePage<ChatMessage>
public typealias DirectHistoryPage = MessagePage<DirectMessage>

extension HistoryStore {
    /// The oldest `limit` messages with an id above `id`, however long their texts.
    func messages(in room: RoomName, after id: Int64, limit: Int) async throws -> HistoryPage {
        try await messages(in: room, after: id, limit: limit, textBytes: .max)
    }
}

/// Where a page of history ends when its texts may take `textBytes`, reading from the message
/// nearest to where the page starts (the oldest after an id, the newest before one): after
/// the first message that takes them past it, so that a page is never empty, and the hub's
/// own byte bound (which counts more than the text) still makes the final cut. Stores read the
/// texts' sizes first and then only the messages a page keeps: a page a client can take is
/// often a small part of `limit` messages, and reading them all whole kept a core busy while
/// clients pulled a 4 MB history again and again (`wschat-bench attack --kind pullers`).
struct HistoryPageCut: Equatable {
    /// How many messages the page holds.
    let count: Int
    /// Whether messages further on (newer, or older when reading back) were left out.
    let more: Bool

    /// `textSizes`: the texts' sizes in bytes, in reading order, of up to `limit + 1` messages.
    init(textSizes: [Int], limit: Int, textBytes: Int) {
        var used = 0
        var count = 0
        for size in textSizes.prefix(limit) {
            count += 1
            used += size
            if used > textBytes { break }
        }
        self.count = count
        more = textSizes.count > count
    }
}

/// A search text as a SQL `LIKE` pattern that matches it anywhere, with `\` as the escape
/// character: `%` and `_` in what the user typed are matched as themselves.
enum LikePattern {
    static func containing(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%\(escaped)%"
    }
}
