/// What the engine needs to know to keep a user connected: where, as whom, to which rooms,
/// and how patiently.
public struct ClientConfiguration: Sendable {
    /// Server URLs (`ws://` or `wss://`, path `/ws`); tried in turn when a connection fails.
    public var urls: [String]
    /// The nick asked for in `hello`; `_` is appended while it is taken.
    public var nick: String
    public var password: String?
    /// A secret kept for this server and said in every `hello`: the server stores the user's
    /// direct messages under it and reads them back only to whoever says it (`SecretFile`
    /// keeps one per server). Nil: direct messages cannot be read back later.
    public var secret: String?
    /// Rooms joined at start, in order.
    public var rooms: [String]
    /// What the engine calls itself in `hello.client`.
    public var clientName = "wschat/0.1"
    /// Accept any TLS certificate (self-signed development servers only).
    public var insecureTLS = false
    /// A PEM file of certificate authorities to trust besides the system's (a private CA).
    public var caFile: String?
    public var reconnect = ReconnectPolicy()
    public var keepalive = KeepalivePolicy()
    /// Time allowed to open a connection and then to be welcomed.
    public var connectTimeout: Duration = .seconds(10)
    /// The largest message accepted from the server (a `joined` with long history is large).
    public var maxMessageSize = 16 << 20

    public init(urls: [String], nick: String, password: String? = nil, rooms: [String] = []) {
        self.urls = urls
        self.nick = nick
        self.password = password
        self.rooms = rooms
    }
}

/// When to try again after a connection is lost: capped exponential backoff with full jitter.
public struct ReconnectPolicy: Sendable, Equatable {
    /// The delay ceiling of the first retry; it doubles with every failed attempt.
    public var base: Duration = .seconds(1)
    /// The largest delay ceiling.
    public var cap: Duration = .seconds(30)
    /// A connection that stayed up this long resets the attempt counter.
    public var stableAfter: Duration = .seconds(10)
    /// After close 1001 (server going away) the first retry comes within this.
    public var goingAwaySpread: Duration = .seconds(1)

    public init() {}

    public init(base: Duration, cap: Duration, stableAfter: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
        self.stableAfter = stableAfter
    }

    /// The delay ceiling for retry number `attempt` (0 for the first): min(cap, base × 2^attempt).
    public func ceiling(attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt, 0), 30)
        let uncapped = base * factor
        return uncapped < cap ? uncapped : cap
    }
}

/// How the engine notices a dead peer: a ping every `interval`; no answer within `timeout`
/// means the connection is dead (so a half-open one is noticed within interval + timeout).
public struct KeepalivePolicy: Sendable, Equatable {
    public var interval: Duration = .seconds(15)
    public var timeout: Duration = .seconds(10)

    public init() {}

    public init(interval: Duration, timeout: Duration) {
        self.interval = interval
        self.timeout = timeout
    }
}
