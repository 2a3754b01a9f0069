import ArgumentParser
import Foundation
import Logging
import WSChatClient

/// `wschat`: parses flags into a client configuration and runs a front end on the engine.
@main
struct WSChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wschat",
        abstract: "Chat over WebSocket from a terminal.",
        discussion: """
            Connects to a wschat server (ws://localhost:8080/ws unless told otherwise), says \
            hello with your nick and joins your rooms. The connection survives server restarts \
            and network loss: it reconnects with backoff, resumes every room where you left \
            off and resends what you typed while offline, so nothing is lost or doubled.

            With --plain, wschat reads lines from standard input (/join ROOM, /part ROOM, \
            /msg NICK TEXT, /nick NICK, /quit, or text for the last joined room) and prints \
            one line per event; --json makes each line a JSON object.
            """)

    @Argument(help: "Server URLs (ws:// or wss://), tried in turn when one fails.")
    var urls: [String] = []

    @Option(help: "Your nick (default: $USER).")
    var nick: String?

    @Option(name: .customLong("room"), help: "A room to join at start; repeat it (default: general).")
    var rooms: [String] = []

    @Option(help: "A file whose first line is the server's password.")
    var passwordFile: String?

    @Flag(help: "Accept any TLS certificate (self-signed development servers only).")
    var insecure = false

    @Flag(help: "Line mode: read commands and text from stdin, print events to stdout.")
    var plain = false

    @Flag(help: "With --plain: print every event as one JSON object per line.")
    var json = false

    @Option(help: "With --plain: seconds to wait at end of input for undelivered messages.")
    var drainTimeout: Double = 10

    @Option(help: "Seconds between keepalive pings.")
    var pingInterval: Double = 15

    @Option(help: "Seconds without an answer to a ping before the connection counts as dead.")
    var pingTimeout: Double = 10

    @Option(help: "Seconds: the first reconnect delay ceiling, doubled after every failure.")
    var backoffBase: Double = 1

    @Option(help: "Seconds: the largest reconnect delay ceiling.")
    var backoffCap: Double = 30

    @Option(help: "Log level for the engine's log (stderr in --plain mode).")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        for (flag, value) in [
            ("--ping-interval", pingInterval), ("--ping-timeout", pingTimeout), ("--backoff-base", backoffBase),
            ("--backoff-cap", backoffCap), ("--drain-timeout", drainTimeout),
        ] where !(value > 0) {
            throw ValidationError("\(flag) must be a positive number of seconds")
        }
        if json && !plain { throw ValidationError("--json goes with --plain") }
        for url in urls where !(url.hasPrefix("ws://") || url.hasPrefix("wss://")) {
            throw ValidationError("\(url) is not a WebSocket URL: use ws://HOST:PORT/ws or wss://…")
        }
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        guard plain else {
            throw ValidationError("the terminal UI is not part of this build yet; run with --plain")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let status = await PlainFrontEnd(configuration: configuration, json: json, drainTimeout: .seconds(drainTimeout))
            .run()
        if status != 0 { throw ExitCode(status) }
    }

    func makeConfiguration() throws -> ClientConfiguration {
        let nick = nick ?? ProcessInfo.processInfo.environment["USER"] ?? "guest"
        var configuration = ClientConfiguration(
            urls: urls.isEmpty ? ["ws://localhost:8080/ws"] : urls, nick: nick,
            password: try passwordFile.map(Self.readPassword), rooms: rooms.isEmpty ? ["general"] : rooms)
        configuration.insecureTLS = insecure
        configuration.keepalive = KeepalivePolicy(interval: .seconds(pingInterval), timeout: .seconds(pingTimeout))
        configuration.reconnect = ReconnectPolicy(base: .seconds(backoffBase), cap: .seconds(backoffCap))
        return configuration
    }

    static func readPassword(from path: String) throws -> String {
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8),
            let password = contents.split(whereSeparator: \.isNewline).first, !password.isEmpty
        else {
            throw ValidationError("cannot read a password from --password-file \(path)")
        }
        return String(password)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
