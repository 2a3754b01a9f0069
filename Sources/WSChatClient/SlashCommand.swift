/// Every slash command in one table: names, usage, what it does, and what a line typed with
/// it means. Parsing (`InputLine`), `/help`, Tab completion and both front ends read this
/// table, so a new command is a new row here (and, if only the full-screen UI runs it, a
/// case of `LocalCommand`, which the compiler then makes the UI handle).
public struct SlashCommand: Sendable {
    public let name: String
    public let aliases: [String]
    public let usage: String
    public let summary: String
    /// A line that uses it, for `/help COMMAND`.
    public let example: String
    /// What its first argument names, for Tab completion.
    public let argument: ArgumentKind?
    /// Whether only the full-screen UI runs it (line mode says so instead).
    public let isLocal: Bool
    let parse: @Sendable (Arguments) -> InputLine

    /// What follows the command name, and where it was typed.
    struct Arguments {
        /// Everything after the name, leading spaces dropped.
        let text: String
        let words: [String]
        /// The room plain text goes to, if the line was typed in a room.
        let room: String?
        /// The other side, if the line was typed in a direct-message buffer.
        let dmPeer: String?
    }

    public enum ArgumentKind: Sendable {
        case room, nick, command, theme
        /// A nick the user ignores (`/unignore`).
        case ignoredNick
    }

    init(
        _ name: String, aliases: [String] = [], usage: String, example: String, argument: ArgumentKind? = nil,
        _ summary: String, local: Bool = false, parse: @escaping @Sendable (Arguments) -> InputLine
    ) {
        self.name = name
        self.aliases = aliases
        self.usage = usage
        self.example = example
        self.argument = argument
        self.summary = summary
        self.isLocal = local
        self.parse = parse
    }

    /// The command typed as `/name` (or one of its aliases), case-insensitively.
    public static func named(_ name: String) -> SlashCommand? {
        let folded = name.lowercased()
        return all.first { $0.name == folded || $0.aliases.contains(folded) }
    }

    public static let all: [SlashCommand] = [
        SlashCommand(
            "join", aliases: ["j"], usage: "/join ROOM", example: "/join rust", argument: .room,
            "join a room (created if new)"
        ) { line in
            guard line.words.count == 1 else { return .invalid("usage: /join ROOM") }
            return .command(.join(room: line.words[0]))
        },
        SlashCommand(
            "part", aliases: ["leave"], usage: "/part [ROOM]", example: "/part rust", argument: .room,
            "leave a room (the current one), or close a DM buffer"
        ) { line in
            if line.words.isEmpty, line.dmPeer != nil { return .local(.close, argument: "") }
            guard let target = line.words.first ?? line.room else { return .invalid("usage: /part ROOM") }
            return .command(.part(room: target))
        },
        SlashCommand(
            "msg", aliases: ["query"], usage: "/msg NICK TEXT", example: "/msg bob are you coming to lunch?",
            argument: .nick, "send a direct message"
        ) { line in
            guard line.words.count >= 2 else { return .invalid("usage: /msg NICK TEXT") }
            let text = String(line.text.dropFirst(line.words[0].count).dropFirst())
            return .command(.directMessage(to: line.words[0], text: text))
        },
        SlashCommand("me", usage: "/me ACTION", example: "/me waves", "say an action: * you ACTION") { line in
            guard !line.text.isEmpty else { return .invalid("usage: /me ACTION") }
            return InputLine.say(line.text, room: line.room, dmPeer: line.dmPeer, action: true)
        },
        SlashCommand("nick", usage: "/nick NICK", example: "/nick alice_away", "change your nick") { line in
            guard line.words.count == 1 else { return .invalid("usage: /nick NICK") }
            return .command(.nick(line.words[0]))
        },
        SlashCommand(
            "topic", usage: "/topic [#ROOM] [TEXT | -delete]", example: "/topic #rust release on Friday",
            "show the topic, set it, or clear it with -delete"
        ) { line in
            var room = line.room
            var text = line.text
            if let first = line.words.first, first.hasPrefix("#") {
                room = first
                text = String(text.dropFirst(first.count).drop { $0 == " " })
            }
            guard let room else { return .invalid("usage: /topic #ROOM [TEXT | -delete]") }
            if text.isEmpty { return .local(.showTopic, argument: room) }
            return .command(.topic(room: room, topic: text == "-delete" ? "" : text))
        },
        SlashCommand(
            "who", aliases: ["names"], usage: "/who [ROOM]", example: "/who rust", argument: .room,
            "list the members of a room"
        ) { line in
            guard let target = line.words.first ?? line.room else { return .invalid("usage: /who ROOM") }
            return .command(.who(room: target))
        },
        SlashCommand("list", usage: "/list", example: "/list", "list the rooms with members") { _ in .command(.list) },
        SlashCommand(
            "away", usage: "/away [REASON]", example: "/away lunch, back at 2",
            "mark yourself away (others see it in their nick list, /who and /whois); /back ends it"
        ) { line in
            .command(.away(reason: line.text.isEmpty ? "away" : line.text))
        },
        SlashCommand("back", usage: "/back", example: "/back", "you are back: no longer away") { _ in
            .command(.away(reason: nil))
        },
        SlashCommand(
            "whois", usage: "/whois NICK", example: "/whois bob", argument: .nick,
            "who NICK is: their rooms, since when connected, how long quiet, whether away"
        ) { line in
            guard let target = line.words.first ?? line.dmPeer, line.words.count <= 1 else {
                return .invalid("usage: /whois NICK")
            }
            return .command(.whois(nick: target))
        },
        SlashCommand(
            "search", usage: "/search [-all] TEXT", example: "/search -all 日本語",
            "find stored messages containing TEXT: in this room, or with -all (or outside a room) in every room"
        ) { line in
            let everyRoom = line.words.first == "-all"
            let text = everyRoom ? String(line.text.dropFirst(4).drop { $0 == " " }) : line.text
            guard !text.isEmpty else { return .invalid("usage: /search [-all] TEXT") }
            return .command(.search(text: text, room: everyRoom ? nil : line.room))
        },
        SlashCommand(
            "goto", usage: "/goto N", example: "/goto 3",
            "show match N of the last /search where it was said, with what came before and after it", local: true
        ) { line in
            guard line.words.count == 1, let number = Int(line.words[0]), number >= 1 else {
                return .invalid("usage: /goto N (a match number of the last /search)")
            }
            return .local(.goto, argument: String(number))
        },
        SlashCommand(
            "reconnect", usage: "/reconnect", example: "/reconnect", "drop the connection and connect again now"
        ) { _ in
            .command(.reconnect)
        },
        SlashCommand(
            "quit", aliases: ["exit"], usage: "/quit [REASON]", example: "/quit off to bed", "leave the server and exit"
        ) { line in
            .command(.quit(reason: line.text.isEmpty ? nil : line.text))
        },
        SlashCommand(
            "help", usage: "/help [COMMAND]", example: "/help search", argument: .command,
            "list commands, or explain one", local: true
        ) { line in
            .local(.help, argument: line.text)
        },
        SlashCommand(
            "theme", usage: "/theme NAME", example: "/theme solarized-dark", argument: .theme,
            "switch colour theme (default, light, solarized-dark, mono, or your own)",
            local: true
        ) { line in
            guard line.words.count == 1 else { return .invalid("usage: /theme NAME") }
            return .local(.theme, argument: line.words[0])
        },
        SlashCommand(
            "buffer", aliases: ["b"], usage: "/buffer N | NAME", example: "/buffer 12", argument: .room,
            "switch to buffer N of the channel list, or to the room or DM named NAME", local: true
        ) { line in
            guard line.words.count == 1 else { return .invalid("usage: /buffer N | NAME") }
            return .local(.buffer, argument: line.words[0])
        },
        SlashCommand(
            "ignore", usage: "/ignore [NICK]", example: "/ignore spammer", argument: .nick,
            "hide messages from NICK, kept in config.toml; alone: list who is ignored", local: true
        ) { line in
            guard line.words.count <= 1 else { return .invalid("usage: /ignore [NICK]") }
            return .local(.ignore, argument: line.words.first ?? "")
        },
        SlashCommand(
            "unignore", usage: "/unignore NICK", example: "/unignore spammer", argument: .ignoredNick,
            "show messages from NICK again", local: true
        ) { line in
            guard line.words.count == 1 else { return .invalid("usage: /unignore NICK") }
            return .local(.unignore, argument: line.words[0])
        },
        SlashCommand(
            "nicklist", usage: "/nicklist", example: "/nicklist", "show or hide the room's nick list (F7)", local: true
        ) { _ in
            .local(.nickList, argument: "")
        },
        SlashCommand(
            "url", usage: "/url", example: "/url", "list the links of the latest messages (click one to open it)",
            local: true
        ) { _ in
            .local(.links, argument: "")
        },
        SlashCommand("clear", usage: "/clear", example: "/clear", "clear the current buffer", local: true) { _ in
            .local(.clear, argument: "")
        },
        SlashCommand(
            "close", usage: "/close", example: "/close", "close the current buffer (leaving its room)", local: true
        ) { _ in
            .local(.close, argument: "")
        },
    ]
}

/// What only the full-screen UI does, named by `SlashCommand.all`.
public enum LocalCommand: Equatable, Sendable {
    case help, theme, clear, close
    /// `/buffer N` or `/buffer NAME`.
    case buffer
    case ignore, unignore
    /// `/nicklist`: show or hide the nick list pane.
    case nickList
    /// `/url`: the recent links.
    case links
    /// `/goto N`: a search match in its room.
    case goto
    /// `/topic` with no text: show the room's topic.
    case showTopic
}
