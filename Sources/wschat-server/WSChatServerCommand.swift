import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WSChatServer

/// `wschat-server`: parses flags into a configuration and runs the server until SIGINT/SIGTERM.
@main
struct WSChatServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wschat-server",
        abstract: "A chat server speaking the wschat protocol over WebSocket.",
        discussion: """
            Clients connect to ws://HOST:PORT/ws. The same port serves a page at /, \
            /healthz and Prometheus metrics at /metrics. SIGINT or SIGTERM closes every \
            client with 1001 and exits.
            """)

    @Option(help: "The address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "The port to listen on (0 picks a free one and prints it).")
    var port = 8080

    @Option(help: "The server's name, shown to clients in welcome and on its page.")
    var name = "wschat-server"

    @Option(help: "A message of the day sent to every user in welcome.")
    var motd: String?

    @Option(help: "A file whose first line is the password every client must send in hello.")
    var passwordFile: String?

    @Option(help: "A PEM certificate chain: serve wss:// and https:// only (needs --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Users at once; one more is refused with server_full (close 1013).")
    var maxUsers = 1000

    @Option(help: "Open WebSocket connections at once; more are refused with HTTP 503.")
    var maxConnections = 2000

    @Option(help: "Open WebSocket connections from one address; more are refused with HTTP 503.")
    var maxConnectionsPerAddress = 20

    @Option(help: "The largest message text in bytes (too_large above it).")
    var maxMessageBytes = 4096

    @Option(help: "Messages per second each connection may send; 0 turns rate limiting off.")
    var rate: Double = 10

    @Option(help: "How many messages a connection may send at once (token bucket size).")
    var burst = 20

    @Option(help: "Rate-limited frames in a row after which a flooding client is closed (1008).")
    var floodTolerance = 20

    @Option(help: "Pings per second each connection may send, apart from --rate; 0 turns the limit off.")
    var pingRate: Double = 10

    @Option(help: "How many pings a connection may send at once.")
    var pingBurst = 20

    @Option(help: "Rooms one connection may be in at once (too_many_rooms past it).")
    var maxRooms = 100

    @Option(help: "The largest WebSocket frame or message in bytes (close 1009 above it).")
    var maxFrameSize = 65536

    @Option(help: "The largest message after permessage-deflate decompression, in bytes.")
    var maxDecompressedSize = 65536

    @Option(help: "Bytes queued for one client (replies to it included) before it is dropped as too slow (close 1008).")
    var sendQueueBytes = 1 << 20

    @Option(help: "Seconds a client has to finish the WebSocket upgrade, and then to send hello.")
    var handshakeTimeout = 10

    @Option(help: "Seconds between WebSocket pings; a client silent for one period more is dropped.")
    var pingInterval = 30

    @Option(help: "An origin (scheme://host:port) whose pages may connect; repeat it; * allows any.")
    var allowOrigin: [String] = []

    @Option(help: "Where the SQLite history lives (default: $XDG_DATA_HOME/wschat-server).")
    var dataDir: String?

    @Flag(help: "Keep history in memory only: it is lost when the server stops.")
    var memory = false

    @Option(
        help: ArgumentHelp(
            "Keep history in PostgreSQL and share rooms with every node started with the same URL.",
            valueName: "postgres://user[:password]@host[:port]/database"))
    var database: String?

    @Option(help: "With --database: this node's name in the cluster (default: hostname:port).")
    var nodeName: String?

    @Option(help: "Days of history to keep; 0 keeps messages of any age.")
    var historyDays = 30

    @Option(help: "Messages to keep per room; 0 sets no count limit.")
    var historyPerRoom = 0

    @Flag(help: "Serve /echo, an echo endpoint on the same WebSocket stack (for conformance tests).")
    var echo = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard rate >= 0, pingRate >= 0 else { throw ValidationError("--rate and --ping-rate must be 0 (off) or more") }
        for (flag, value) in [
            ("--max-users", maxUsers), ("--max-connections", maxConnections),
            ("--max-connections-per-address", maxConnectionsPerAddress), ("--max-message-bytes", maxMessageBytes),
            ("--burst", burst), ("--ping-burst", pingBurst), ("--max-rooms", maxRooms),
            ("--max-frame-size", maxFrameSize), ("--max-decompressed-size", maxDecompressedSize),
            ("--send-queue-bytes", sendQueueBytes),
            ("--handshake-timeout", handshakeTimeout), ("--ping-interval", pingInterval),
        ] where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard [memory, database != nil, dataDir != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("choose one of --memory, --data-dir and --database")
        }
        guard nodeName == nil || database != nil else {
            throw ValidationError("--node-name names a node of a --database cluster")
        }
        guard historyDays >= 0, historyPerRoom >= 0 else {
            throw ValidationError("--history-days and --history-per-room must be 0 (no limit) or more")
        }
        guard maxMessageBytes < maxFrameSize else {
            throw ValidationError(
                "--max-message-bytes must be smaller than --max-frame-size, which also holds the JSON around the text")
        }
    }

    func run() async throws {
        ServerThreads.fitToAllowedCPUs()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "wschat-server")
        let configuration = try makeConfiguration()
        if let tls = configuration.tls {
            // Checked before the history store opens: a typo in a path must not wait for a database.
            do {
                try ChatServer.checkTLSFiles(tls)
            } catch let error as ChatServerError {
                throw ValidationError(error.description)
            }
        }
        let storage = try await openStorage(logger: logger)
        logger.notice("history", metadata: ["store": "\(storage.summary)"])
        let server = ChatServer(configuration: configuration, storage: storage, logger: logger)
        let group: ServiceGroup
        do {
            group = try server.makeServiceGroup { port in
                logger.notice(
                    "wschat-server listening",
                    metadata: ["url": "\(configuration.webSocketScheme)://\(host):\(port)/ws"])
            }
        } catch let error as ChatServerError {
            throw ValidationError(error.description)
        }
        do {
            try await group.run()
        } catch {
            guard let explained = ChatServer.explain(startFailure: error, host: host, port: port) else { throw error }
            throw ValidationError(explained)
        }
    }

    func openStorage(logger: Logger) async throws -> ChatStorage {
        if memory { return .memory() }
        if let database {
            // A restarted node keeps its name, so it can clear its old users at once; port 0
            // gives every start a new port, so there the name is new too.
            let suffix = port == 0 ? String(UUID().uuidString.prefix(8)).lowercased() : String(port)
            let node = nodeName ?? "\(ProcessInfo.processInfo.hostName):\(suffix)"
            return try await .postgres(url: database, node: node, logger: logger)
        }
        return try await .sqlite(directory: dataDir ?? ChatStorage.defaultDataDirectory, logger: logger)
    }

    func makeConfiguration() throws -> ChatServerConfiguration {
        var configuration = ChatServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.serverName = name
        configuration.motd = motd
        configuration.password = try passwordFile.map(Self.readPassword)
        if let tlsCert, let tlsKey {
            configuration.tls = TLSFiles(certificateChain: tlsCert, privateKey: tlsKey)
        }
        configuration.maxUsers = maxUsers
        configuration.maxConnections = maxConnections
        configuration.maxConnectionsPerAddress = maxConnectionsPerAddress
        configuration.maxMessageBytes = maxMessageBytes
        configuration.rate = rate
        configuration.burst = burst
        configuration.floodTolerance = floodTolerance
        configuration.pingRate = pingRate
        configuration.pingBurst = pingBurst
        configuration.maxRoomsPerConnection = maxRooms
        configuration.maxFrameSize = maxFrameSize
        configuration.maxDecompressedSize = maxDecompressedSize
        configuration.sendQueueBytes = sendQueueBytes
        configuration.handshakeTimeout = .seconds(handshakeTimeout)
        configuration.pingInterval = .seconds(pingInterval)
        configuration.allowedOrigins = allowOrigin
        configuration.echoEndpoint = echo
        configuration.retention = RetentionPolicy(
            maxAgeDays: historyDays == 0 ? nil : historyDays, maxPerRoom: historyPerRoom == 0 ? nil : historyPerRoom)
        return configuration
    }

    static func readPassword(from path: String) throws -> String {
        let contents: String
        do {
            contents = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read --password-file \(path): \(error.localizedDescription)")
        }
        let password = contents.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !password.isEmpty else {
            throw ValidationError("--password-file \(path) is empty: its first line is the password")
        }
        return password
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
