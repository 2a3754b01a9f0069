/// The `code` of a protocol `error`: what went wrong, in a form a program can act on.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case unknownType = "unknown_type"
    case notJoined = "not_joined"
    case noSuchNick = "no_such_nick"
    case nickTaken = "nick_taken"
    case badNick = "bad_nick"
    case badRoom = "bad_room"
    case badText = "bad_text"
    case tooLarge = "too_large"
    case rateLimited = "rate_limited"
    case authFailed = "auth_failed"
    case serverFull = "server_full"
    /// The connection is in as many rooms as the server allows; part one first.
    case tooManyRooms = "too_many_rooms"
}

/// A protocol error: the `error` frame's code and message, and the `cid` or `type` it answers.
public struct ProtocolError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String
    public var ref: String?

    public init(_ code: ErrorCode, _ message: String, ref: String? = nil) {
        self.code = code
        self.message = message
        self.ref = ref
    }

    /// The same error, answering `ref`.
    public func answering(_ ref: String?) -> ProtocolError {
        ProtocolError(code, message, ref: ref)
    }
}
