/// What a user (or a script) asks the engine to do.
public enum UserCommand: Equatable, Sendable {
    case join(room: String)
    case part(room: String)
    case say(room: String, text: String, action: Bool)
    case directMessage(to: String, text: String)
    case nick(String)
    case topic(room: String, topic: String)
    case list
    case who(room: String)
    /// A page of the room's messages older than `before` (the newest when nil), at most
    /// `limit` (the server's default when nil), from the server's history: answered by a
    /// `history` message.
    case olderHistory(room: String, before: Int64?, limit: Int? = nil)
    /// A page of the direct messages with `nick` older than `before` (the newest when nil),
    /// read back under the configuration's secret: answered by `dm_history`.
    case olderDirectMessages(with: String, before: Int64?, limit: Int? = nil)
    /// Stored messages containing `text`, in `room` or (nil) in every room: answered by `found`.
    case search(text: String, room: String?)
    /// Marked away with a reason, or (nil) back; kept across reconnects.
    case away(reason: String?)
    /// What the server knows of a nick: answered by `whois`.
    case whois(nick: String)
    /// Drop the connection and connect again now.
    case reconnect
    /// Quit now; typed messages the server has not acknowledged when the engine stops are
    /// reported as `undelivered`.
    case quit(reason: String?)
    /// Quit once every typed message is acknowledged, or at the latest after `within`;
    /// what is still undelivered then is reported as `undelivered`.
    case quitWhenDelivered(within: Duration, reason: String? = nil)
}
