/// WebSocket close codes with the meaning PROTOCOL.md gives them.
public enum CloseCode: UInt16, Sendable {
    /// After `quit`.
    case normal = 1000
    /// The server is shutting down; clients reconnect.
    case goingAway = 1001
    /// A binary frame was received.
    case unsupportedData = 1003
    /// Invalid UTF-8 in a text frame.
    case invalidPayload = 1007
    /// Flooding after `rate_limited` warnings, a client too slow to keep up, no `hello` in time.
    case policyViolation = 1008
    /// A frame or message over the size limit.
    case tooBig = 1009
    /// The server failed.
    case internalError = 1011
    /// `server_full`: try again later.
    case tryAgainLater = 1013
    /// Authentication failed; clients do not reconnect automatically.
    case authenticationFailed = 4001

}
