/// What a line typed by the user means: a message for the current buffer, an engine
/// command, or a command only the front end knows (`/help`, `/theme`, `/clear`).
public enum InputLine: Equatable, Sendable {
    case command(UserCommand)
    /// A `/command` the engine does not handle; the front end decides (or says it is unknown).
    case local(name: String, argument: String)
    /// A bad use of a known command, with what to type instead.
    case invalid(String)
    /// Nothing to do (an empty line).
    case empty

    /// The commands the engine understands, with their usage, for help and completion.
    public static let engineCommands: [(name: String, usage: String, summary: String)] = [
        ("join", "/join ROOM", "join a room (created if new)"),
        ("part", "/part [ROOM]", "leave a room (the current one by default)"),
        ("msg", "/msg NICK TEXT", "send a direct message"),
        ("me", "/me ACTION", "say an action: * you ACTION"),
        ("nick", "/nick NICK", "change your nick"),
        ("topic", "/topic [ROOM] TEXT", "set the topic (empty text clears it)"),
        ("who", "/who [ROOM]", "list the members of a room"),
        ("list", "/list", "list the rooms with members"),
        ("reconnect", "/reconnect", "drop the connection and connect again now"),
        ("quit", "/quit [REASON]", "leave the server and exit"),
    ]

    /// Parses a typed line. `room` is where plain text and room commands without a room go;
    /// a DM buffer passes its peer as `dmPeer`, so plain text there becomes a `dm`.
    public static func parse(_ line: String, room: String?, dmPeer: String? = nil) -> InputLine {
        if line.allSatisfy(\.isWhitespace) { return .empty }
        guard line.hasPrefix("/"), !line.hasPrefix("//") else {
            let text = line.hasPrefix("//") ? String(line.dropFirst()) : line
            return say(text, room: room, dmPeer: dmPeer, action: false)
        }
        let body = line.dropFirst()
        let name = body.prefix { !$0.isWhitespace }.lowercased()
        let argument = String(body.dropFirst(name.count).drop { $0 == " " })
        let words = argument.split(separator: " ", omittingEmptySubsequences: true).map(String.init)

        switch name {
        case "join", "j":
            guard words.count == 1 else { return .invalid("usage: /join ROOM") }
            return .command(.join(room: words[0]))
        case "part", "leave":
            guard let target = words.first ?? room else { return .invalid("usage: /part ROOM") }
            return .command(.part(room: target))
        case "msg", "query":
            guard words.count >= 2 else { return .invalid("usage: /msg NICK TEXT") }
            let text = String(argument.drop { $0 == " " }.dropFirst(words[0].count).dropFirst())
            return .command(.directMessage(to: words[0], text: text))
        case "me":
            guard !argument.isEmpty else { return .invalid("usage: /me ACTION") }
            return say(argument, room: room, dmPeer: dmPeer, action: true)
        case "nick":
            guard words.count == 1 else { return .invalid("usage: /nick NICK") }
            return .command(.nick(words[0]))
        case "topic":
            if let first = words.first, first.hasPrefix("#") {
                return .command(.topic(room: first, topic: String(argument.dropFirst(first.count).drop { $0 == " " })))
            }
            guard let room else { return .invalid("usage: /topic #ROOM TEXT") }
            return .command(.topic(room: room, topic: argument))
        case "who", "names":
            guard let target = words.first ?? room else { return .invalid("usage: /who ROOM") }
            return .command(.who(room: target))
        case "list":
            return .command(.list)
        case "reconnect":
            return .command(.reconnect)
        case "quit", "exit":
            return .command(.quit(reason: argument.isEmpty ? nil : argument))
        default:
            return .local(name: name, argument: argument)
        }
    }

    private static func say(_ text: String, room: String?, dmPeer: String?, action: Bool) -> InputLine {
        if let dmPeer {
            return action ? .invalid("/me works in rooms only") : .command(.directMessage(to: dmPeer, text: text))
        }
        guard let room else { return .invalid("join a room first: /join ROOM") }
        return .command(.say(room: room, text: text, action: action))
    }
}
