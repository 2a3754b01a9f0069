/// What a line typed by the user means: a message for the current buffer, an engine
/// command, or a command only the full-screen UI runs (`/help`, `/theme`, `/clear`, `/close`).
public enum InputLine: Equatable, Sendable {
    case command(UserCommand)
    /// A command only the full-screen UI runs, with what was typed after it.
    case local(LocalCommand, argument: String)
    /// A bad use of a known command (or an unknown one), with what to type instead.
    case invalid(String)
    /// Nothing to do (an empty line).
    case empty

    /// Parses a typed line against `SlashCommand.all`. `room` is where plain text and room
    /// commands without a room go; a DM buffer passes its peer as `dmPeer`, so plain text
    /// there becomes a `dm`.
    public static func parse(_ line: String, room: String?, dmPeer: String? = nil) -> InputLine {
        if line.allSatisfy(\.isWhitespace) { return .empty }
        guard line.hasPrefix("/"), !line.hasPrefix("//") else {
            let text = line.hasPrefix("//") ? String(line.dropFirst()) : line
            return say(text, room: room, dmPeer: dmPeer, action: false)
        }
        let body = line.dropFirst()
        let name = String(body.prefix { !$0.isWhitespace })
        guard let command = SlashCommand.named(name) else {
            return .invalid("unknown command /\(name) — /help lists the commands")
        }
        let text = String(body.dropFirst(name.count).drop { $0 == " " })
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        return command.parse(.init(text: text, words: words, room: room, dmPeer: dmPeer))
    }

    static func say(_ text: String, room: String?, dmPeer: String?, action: Bool) -> InputLine {
        if let dmPeer {
            return action ? .invalid("/me works in rooms only") : .command(.directMessage(to: dmPeer, text: text))
        }
        guard let room else { return .invalid("join a room first: /join ROOM") }
        return .command(.say(room: room, text: text, action: action))
    }
}
