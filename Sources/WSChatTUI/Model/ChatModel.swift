import Foundation
import WSChatClient
import WSChatProtocol

/// Everything the terminal UI shows, as a value: buffers, the current one, the input line,
/// the connection state. `handle` is the one `update`; `Renderer` draws it.
public struct ChatModel: Equatable, Sendable {
    public var buffers: [ChatBuffer]
    public var current = 0
    public var editor = LineEditor()
    public var connection = ConnectionState.connecting(attempt: 0)
    public var nick: String
    public var server: String
    public var width: Int
    public var height: Int
    /// A paste of more than `pasteConfirmLines` lines waiting for y/n.
    public var pendingPaste: String?
    /// TLS certificates are not checked (`--insecure`): the status bar says so for as long as it lasts.
    public var tlsUnverified = false
    /// Tab completion in progress: the candidates and which one is shown.
    var completion: Completion?
    /// The cids of the pending lines (typed, not yet echoed): only an echo of one of them
    /// looks for its line, so that other messages do not search the scrollback.
    var pendingCIDs: Set<String> = []
    /// Nicks whose messages are not shown (`/ignore`, `ignore` in config.toml), as typed.
    public private(set) var ignored: [String] = []
    private var ignoredKeys: Set<String> = []
    /// Why the user is away, while the server says they are.
    public var awayReason: String?
    /// The links of the latest messages, oldest first, for `/url`.
    public internal(set) var recentLinks: [RecentLink] = []
    public static let maxRecentLinks = 30

    public struct RecentLink: Equatable, Sendable {
        public var url: String
        public var from: String
        /// `#room`, or "a DM" ("a DM to bob" for the user's own).
        public var place: String
    }

    /// The matches of the latest search, numbered from 1 as listed, for `/goto`.
    var searchMatches: [ChatMessage] = []
    /// A `/goto` waiting for older pages of its room.
    var pendingJump: Jump?

    struct Jump: Equatable, Sendable {
        let roomKey: String
        let id: Int64
    }

    /// The nick list pane is shown beside a room's messages (F7, `/nicklist`).
    public var showNickList = false
    /// Alt-J was pressed: the digits typed since (at most one), until the buffer number is whole.
    public var bufferJump: String?
    /// The room a `/join` asked for: its buffer becomes current when joined.
    var switchToRoom: String?

    /// A quit asked for while messages were still sending, waiting for them.
    public var isQuitting = false
    /// The rooms joined at start, until the first of them is joined.
    public var roomsToJoin: [String] = []
    /// The server's limit on a message, from `welcome`: longer ones are refused here.
    var maxMessageBytes = Limits().maxMessageBytes
    /// Words besides the nick that highlight a message (`highlights` in config.toml).
    public var highlights: [String] = []
    /// The themes `/theme` can load, and the rooms the last `/list` named: for Tab completion.
    public var themeNames: [String] = []
    var knownRooms: [String] = []
    /// Lines each buffer keeps (`scrollback` in config.toml).
    public var maxLinesPerBuffer = ChatBuffer.defaultMaxLines {
        didSet { for index in buffers.indices { buffers[index].maxLines = maxLinesPerBuffer } }
    }
    /// How message times are shown (`time_format` in config.toml).
    public var timeFormat = TimeFormat.standard
    /// Where day-change lines fall.
    public var timeZone = TimeZone.current
    /// Whether the server reads direct messages back (`dm_history`); false once it refused,
    /// until the next welcome.
    var serverKeepsConversations = true
    /// Whether a welcome ever came: until then, a failed connection is explained.
    var everConnected = false

    public static let pasteConfirmLines = 5
    /// How long a quit waits for messages still sending (as `--plain` does at end of input).
    public static let quitDrain: Duration = .seconds(10)

    public init(nick: String, server: String, width: Int, height: Int) {
        self.nick = nick
        self.server = server
        self.width = width
        self.height = height
        buffers = [ChatBuffer(kind: .server, name: server)]
        buffers[0].append(BufferLine(time: nil, content: .notice("connecting to \(server) as \(nick)…")))
    }

    public var currentBuffer: ChatBuffer { buffers[current] }

    /// Where the panes are for the current size and buffer.
    public var layout: Layout {
        let isRoom = if case .room = currentBuffer.kind { true } else { false }
        return Layout(width: width, height: height, nickList: showNickList && isRoom)
    }

    /// The room plain text goes to, when the current buffer is a room.
    var currentRoom: String? {
        if case .room = currentBuffer.kind { currentBuffer.name } else { nil }
    }

    var currentPeer: String? {
        if case .direct = currentBuffer.kind { currentBuffer.name } else { nil }
    }

    // MARK: Buffers

    func index(of kind: ChatBuffer.Kind) -> Int? {
        buffers.firstIndex { $0.kind == kind }
    }

    /// The buffer of `kind`, created (after the others of its sort) if new.
    mutating func buffer(_ kind: ChatBuffer.Kind, name: String) -> Int {
        if let index = index(of: kind) { return index }
        var buffer = ChatBuffer(kind: kind, name: name)
        buffer.maxLines = maxLinesPerBuffer
        buffers.append(buffer)
        return buffers.count - 1
    }

    mutating func roomBuffer(_ room: String) -> Int {
        buffer(.room(key: Self.key(room: room)), name: room)
    }

    mutating func directBuffer(_ peer: String) -> Int {
        buffer(.direct(key: Self.key(nick: peer)), name: peer)
    }

    public mutating func switchTo(_ index: Int) {
        guard buffers.indices.contains(index), index != current else { return }
        // What the user saw of the buffer they leave is now read.
        buffers[current].readMarker = buffers[current].lines.count
        buffers[current].unread = 0
        buffers[current].highlighted = false
        current = index
        if buffers[index].unread == 0 { buffers[index].readMarker = nil }
        buffers[index].unread = 0
        buffers[index].highlighted = false
        completion = nil
    }

    /// Adds a line to buffer `index`, counting it unread (and highlighted) when off screen:
    /// messages count, events (joins, parts, topics) and notices do not. Returns whether the
    /// bell should ring.
    @discardableResult
    mutating func append(_ line: BufferLine, to index: Int, highlight: Bool = false) -> Bool {
        if let time = line.time, buffers[index].newestDay?.contains(time) != true {
            let days = DayChange(timeZone: timeZone)
            if buffers[index].newestDay != nil { buffers[index].append(days.line(for: time)) }
            buffers[index].newestDay = days.day(of: time)
        }
        buffers[index].append(line)
        guard index != current, !line.isOwn else { return false }
        if case .error = line.content {
            // An error the user is not looking at marks its buffer, so that it is not missed.
            buffers[index].highlighted = true
            return false
        }
        guard case .message = line.content else { return false }
        if buffers[index].unread == 0 { buffers[index].readMarker = buffers[index].lines.count - 1 }
        buffers[index].unread += 1
        if highlight { buffers[index].highlighted = true }
        return highlight
    }

    mutating func note(_ content: BufferLine.Content, in index: Int? = nil) {
        append(BufferLine(time: nil, content: content), to: index ?? current)
    }

    static func key(room: String) -> String {
        RoomName.key(of: room)
    }

    static func key(nick: String) -> String {
        Nick.key(of: nick)
    }

    public mutating func setIgnored(_ nicks: [String]) {
        ignored = []
        ignoredKeys = []
        for nick in nicks where ignoredKeys.insert(Self.key(nick: nick)).inserted { ignored.append(nick) }
    }

    /// Whether messages from `nick` are hidden (never the user's own).
    func isIgnored(_ nick: String) -> Bool {
        !ignoredKeys.isEmpty && ignoredKeys.contains(Self.key(nick: nick))
            && Self.key(nick: nick) != Self.key(nick: self.nick)
    }

    /// Whether `text` names the user's nick or one of their highlight words.
    func highlights(_ text: String) -> Bool {
        let folded = text.lowercased()
        return Self.names(folded, word: nick.lowercased())
            || highlights.contains { !$0.isEmpty && Self.names(folded, word: $0.lowercased()) }
    }

    /// Whether lower-cased `text` holds lower-cased `word` as a whole word: not inside a
    /// longer one, letters, digits, marks and `_` counting as word characters. Searched in
    /// UTF-8, since it runs on every message and most hold no match.
    static func names(_ text: String, word: String) -> Bool {
        let needle = Array(word.utf8)
        let haystack = text.utf8
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var start = haystack.startIndex
        while let hit = haystack[start...].firstIndex(of: first) {
            guard let end = haystack.index(hit, offsetBy: needle.count, limitedBy: haystack.endIndex) else {
                return false
            }
            if haystack[hit..<end].elementsEqual(needle) {
                let scalars = text.unicodeScalars
                let before = hit == scalars.startIndex ? nil : scalars[scalars.index(before: hit)]
                let after = end == scalars.endIndex ? nil : scalars[end]
                if !isWordPart(before) && !isWordPart(after) { return true }
            }
            start = haystack.index(after: hit)
        }
        return false
    }

    private static func isWordPart(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return properties.isAlphabetic || properties.numericType != nil || scalar == "_"
        }
    }
}

extension ChatModel {
    /// Puts a message from the front end itself (a theme problem, say) in the server buffer.
    public mutating func report(_ text: String) {
        note(.notice(text), in: 0)
    }

    /// Puts an error from the front end itself (a theme that cannot load) where the user is
    /// looking: the current buffer.
    public mutating func reportError(_ text: String) {
        note(.error(text))
    }
}
