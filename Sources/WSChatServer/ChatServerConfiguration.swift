import WSChatProtocol

/// Everything a `wschat-server` can be told: address, limits, timeouts and access rules.
///
/// The defaults are the ones the protocol announces and `wschat-server --help` documents.
public struct ChatServerConfiguration: Sendable {
    public var host = "0.0.0.0"
    /// 0 picks a free port (tests); `ChatServer.port` tells which.
    public var port = 8080
    /// The name the server gives in `welcome.server` and on its page.
    public var serverName = "wschat-server"
    /// A message of the day sent in `welcome`.
    public var motd: String?
    /// When set, `hello` must carry this password (else `auth_failed`, close 4001).
    public var password: String?
    /// When set, the server speaks TLS only (`wss://`, `https://`).
    public var tls: TLSFiles?

    /// Users (sessions past `hello`) at once; one more gets `server_full` and close 1013.
    public var maxUsers = 1000
    /// Open WebSocket connections at once; more are refused with HTTP 503.
    public var maxConnections = 2000
    /// Open WebSocket connections from one address; more are refused with HTTP 503.
    public var maxConnectionsPerAddress = 20

    /// The largest `text`, in UTF-8 bytes (`too_large` above it).
    public var maxMessageBytes = 4096
    /// Token bucket refill rate in messages per second; 0 turns rate limiting off.
    public var rate: Double = 10
    /// Token bucket size.
    public var burst = 20
    /// The `ping` token bucket's refill rate per second, apart from the messages' bucket; 0 turns it off.
    public var pingRate: Double = 10
    /// The `ping` token bucket's size.
    public var pingBurst = 20
    /// Consecutive `rate_limited` answers after which a connection is closed with 1008.
    public var floodTolerance = 20

    /// The largest WebSocket frame or message accepted (close 1009 above it).
    public var maxFrameSize = 64 * 1024
    /// The largest message after permessage-deflate decompression.
    public var maxDecompressedSize = 64 * 1024
    /// Rooms one connection may be in at once (`too_many_rooms` past it).
    public var maxRoomsPerConnection = 100
    /// Bytes queued for one client before it counts as too slow (close 1008); replies to its
    /// own requests count too.
    public var sendQueueBytes = 1 << 20

    /// Time allowed to complete the upgrade and then to send `hello`.
    public var handshakeTimeout: Duration = .seconds(10)
    /// WebSocket ping period; a client that has not answered by the next ping is dropped.
    public var pingInterval: Duration = .seconds(30)
    /// How long to wait for the peer's close frame after sending ours.
    public var closeTimeout: Duration = .seconds(2)
    /// How long a plain HTTP keep-alive connection may sit idle.
    public var httpIdleTimeout: Duration = .seconds(30)

    /// Origins (e.g. `https://chat.example`) allowed besides the server's own; `*` allows any.
    public var allowedOrigins: [String] = []
    /// Serve `/echo`, an echo endpoint on the same WebSocket stack, for conformance tests.
    public var echoEndpoint = false

    /// How much history to keep; pruned every `pruneInterval`.
    public var retention = RetentionPolicy()
    public var pruneInterval: Duration = .seconds(600)

    /// History sent on a `join` without `since`.
    public var recentHistory = 50
    /// History sent at most on a `join` with `since`.
    public var historyPage = 1000
    /// The most message bytes one `joined` carries; past it the page is cut (`more: true`),
    /// so no frame outgrows a client's send queue, however large the history.
    public var historyPageBytes = 256 * 1024

    public init() {}

    /// `ws` or `wss`: the scheme clients use to reach this server.
    public var webSocketScheme: String { tls == nil ? "ws" : "wss" }

    /// The limits announced in `welcome`.
    public var limits: Limits {
        Limits(maxMessageBytes: maxMessageBytes, rate: rate, burst: burst)
    }
}

/// PEM files for TLS: the certificate chain (leaf first) and its private key.
public struct TLSFiles: Sendable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}
