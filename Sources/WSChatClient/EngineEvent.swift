import WSChatProtocol

/// What the engine reports, in one ordered stream: the UI renders these and nothing else.
public enum EngineEvent: Equatable, Sendable {
    /// The connection state changed (or its latency did).
    case state(ConnectionState)
    /// A frame from the server, after the engine's bookkeeping: a `message` seen before is
    /// not reported twice. `raw` is the frame's text as received.
    case server(ServerMessage, raw: String)
    /// Something the engine itself tells the user (a nick suffix, lost history, a gap).
    case notice(String)
    /// The room has older messages than the history `joined` is about to show: reported
    /// just before that `joined`, so a front end can say so above the history.
    case olderHistoryNotShown(room: String)
    /// A message typed by the user is waiting for the server's echo.
    case pending(PendingMessage)
    /// The server refused a typed message; it will not be sent again.
    case failed(PendingMessage, ProtocolError)
    /// The engine quit with this message still unacknowledged.
    case undelivered(PendingMessage)
}

extension EngineEvent {
    /// What every front end says for `olderHistoryNotShown`.
    public static func olderHistoryNotice(room: String) -> String { "older messages in #\(room) are not shown" }
}
