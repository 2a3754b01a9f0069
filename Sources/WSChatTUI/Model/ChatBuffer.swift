import WSChatClient
import WSChatProtocol

/// One buffer in the channel list: the server buffer, a room, or a DM conversation.
public struct ChatBuffer: Equatable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Server notices, errors and command output.
        case server
        /// A room, by its case-folded key.
        case room(key: String)
        /// A conversation with one nick, by its case-folded key.
        case direct(key: String)
    }

    public let kind: Kind
    /// The name shown: `#room`, the peer's nick, or the server.
    public var name: String
    public var topic = ""
    public var members: [String] = []
    /// Keys of the members marked away.
    public var away: Set<String> = []
    public var lines: [BufferLine] = []
    /// Lines that arrived while this buffer was not on screen.
    public var unread = 0
    /// Whether one of them mentions the user (or is a DM).
    public var highlighted = false
    /// Index of the first line the user has not seen, drawn as a marker line.
    public var readMarker: Int?
    /// How many lines the view is scrolled up from the bottom.
    public var scrollBack = 0
    /// Whether the server has older messages for this room than the buffer holds.
    public var olderHistory = OlderHistory.more
    /// The message a jump to a search match went to, marked where it is drawn.
    public var jumpTarget: Int64?
    /// The day of the newest line with a time, for the next day-change line.
    var newestDay: Range<Int64>?
    /// Lines typed here, oldest first, for Up/Down.
    public var history: [String] = []
    var historyCursor: Int?
    var draft = ""

    /// Lines kept before the oldest are trimmed (`scrollback` in config.toml); what is trimmed
    /// is fetched again from the server on scroll.
    public var maxLines = Self.defaultMaxLines
    public static let defaultMaxLines = 5000

    public enum OlderHistory: Equatable, Sendable {
        /// Maybe: scrolling to the top asks.
        case more
        /// Asked; the page is on its way.
        case loading
        /// The room's first kept message is in the buffer.
        case beginning
        /// The server cannot send older messages.
        case unsupported
    }

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    mutating func append(_ line: BufferLine) {
        lines.append(line)
        // Trimmed a tenth at a time, so that a busy buffer does not move its lines every message.
        if lines.count > maxLines + maxLines / 10 {
            let excess = lines.count - maxLines
            lines.removeFirst(excess)
            readMarker = readMarker.map { $0 - excess }.flatMap { $0 >= 0 ? $0 : nil }
            // What was trimmed is still on the server: scrolling up fetches it again.
            if olderHistory == .beginning { olderHistory = .more }
        }
        if scrollBack > 0 { scrollBack += 1 }
    }

    /// Puts lines above the others; the view (counted from the bottom) stays where it is.
    mutating func prepend(_ older: [BufferLine]) {
        lines.insert(contentsOf: older, at: 0)
        readMarker = readMarker.map { $0 + older.count }
    }

    mutating func removeFirstLine() {
        lines.removeFirst()
        readMarker = readMarker.map { $0 - 1 }.flatMap { $0 >= 0 ? $0 : nil }
    }
}

/// One line of a buffer.
public struct BufferLine: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        /// A room message or DM; `cid` ties a pending line to its echo.
        case message(from: String, text: String, action: Bool, cid: String?)
        /// Typed by the user and not yet acknowledged.
        case pending(text: String, action: Bool, cid: String)
        /// Refused by the server, or never delivered.
        case failed(text: String, reason: String)
        /// Joins, parts, nick changes, topics: drawn dimmed.
        case event(String)
        case notice(String)
        case error(String)
        /// Match `number` of a search, shown with its room (and, by the renderer, its date).
        case match(number: Int, room: String, from: String, text: String)
    }

    public var time: Int64?
    public var content: Content
    /// A room message's id: where the next page of older history ends.
    public var id: Int64?
    /// From the user (nick drawn in the self colour).
    public var isOwn = false
    /// Mentions the user's nick.
    public var mentions = false
}
