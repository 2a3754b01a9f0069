import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WSChatApp
import WSChatClient
import WSChatServer
import WSChatTUI

/// `wschat`: parses flags into a client configuration and runs a front end on the engine.
@main
struct WSChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wschat",
        abstract: "Chat over WebSocket from a terminal.",
        discussion: """
            Connects to a wschat server (ws://localhost:8080/ws unless told otherwise), says \
            hello with your nick and joins your rooms, in a full-screen terminal UI. With \
            --host it first starts a server inside the same process, for others to join too. The connection survives server restarts \
            and network loss: it reconnects with backoff, resumes every room where you left \
            off and resends what you typed while offline, so nothing is lost or doubled.

            With --plain, wschat reads lines from standard input (/join ROOM, /part ROOM, \
            /msg NICK TEXT, /nick NICK, /quit, or text for the last joined room) and prints \
            one line per event; --json makes each line a JSON object.

            Settings can live in $XDG_CONFIG_HOME/wschat/config.toml (~/.config/wschat/); \
            flags override them. Example:

            \(ConfigFile.example)
            """)

    @Argument(help: "Server URLs (ws:// or wss://), tried in turn when one fails.")
    var urls: [String] = []

    @Option(help: "Your nick (default: the config file's, else $USER).")
    var nick: String?

    @Option(name: .customLong("room"), help: "A room to join at start; repeat it (default: general).")
    var rooms: [String] = []

    @Option(help: "A file whose first line is the server's password.")
    var passwordFile: String?

    @Flag(help: "Accept any TLS certificate (self-signed development servers only).")
    var insecure = false

    @Option(help: "A PEM file of certificate authorities to trust for wss:// besides the system's (a private CA).")
    var caFile: String?

    @Flag(help: "Start a chat server in this process (on --port, all interfaces; history in memory) and connect to it.")
    var host = false

    @Option(help: "With --host: the port to serve on.")
    var port = 8080

    @Option(
        help: "With --host: the address to listen on (default: all interfaces; 127.0.0.1 keeps it to this machine).")
    var bind: String?

    @Option(help: "The colour theme: default, light, solarized-dark, mono, or one of yours.")
    var theme: String?

    @Option(help: "Where the log goes (default: $XDG_STATE_HOME/wschat/wschat.log).")
    var logFile: String?

    @Flag(help: "Do not log buffers to $XDG_DATA_HOME/wschat/logs/SERVER/ROOM.log (chat_logs = false in config.toml).")
    var noChatLogs = false

    @Option(help: "A config file to read instead of $XDG_CONFIG_HOME/wschat/config.toml.")
    var config: String?

    @Flag(help: "Line mode: read commands and text from stdin, print events to stdout.")
    var plain = false

    @Flag(help: "With --plain: print every event as one JSON object per line.")
    var json = false

    @Option(help: "With --plain: seconds to wait at end of input for undelivered messages.")
    var drainTimeout: Double = 10

    @Option(help: "Seconds between keepalive pings (default 15).")
    var pingInterval: Double?

    @Option(help: "Seconds without an answer to a ping before the connection counts as dead (default 10).")
    var pingTimeout: Double?

    @Option(help: "Seconds: the first reconnect delay ceiling, doubled after every failure (default 1).")
    var backoffBase: Double?

    @Option(help: "Seconds: the largest reconnect delay ceiling (default 30).")
    var backoffCap: Double?

    @Option(help: "Log level (the log file, or stderr in --plain mode).")
    var logLevel: Logger.Level = .info

    func validate() throws {
        for (flag, value) in [
            ("--ping-interval", pingInterval), ("--ping-timeout", pingTimeout), ("--backoff-base", backoffBase),
            ("--backoff-cap", backoffCap), ("--drain-timeout", drainTimeout),
        ] where value.map({ !($0 > 0) }) ?? false {
            throw ValidationError("\(flag) must be a positive number of seconds")
        }
        if json && !plain { throw ValidationError("--json goes with --plain") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configPath = config.map { URL(fileURLWithPath: $0) } ?? ConfigFile.path(environment: environment)
        let file: ConfigFile
        do {
            file = try ConfigFile.load(from: configPath) ?? ConfigFile()
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        var configuration: ClientConfiguration
        do {
            configuration = try settings.makeConfiguration(file: file, environment: environment)
        } catch {
            throw ValidationError(error.description)
        }

        if plain {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
        } else {
            guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
                throw ValidationError("the terminal UI needs a terminal; for pipes and scripts use --plain")
            }
            let path =
                logFile ?? file.logFile.map(ClientSettings.expandTilde)
                ?? ClientSettings.defaultLogPath(environment: environment)
            let sink: FileLogHandler.Sink
            do {
                sink = try FileLogHandler.Sink(path: path)
            } catch {
                throw ValidationError("cannot open the log file \(path): \(error.localizedDescription)")
            }
            LoggingSystem.bootstrap { [logLevel] label in FileLogHandler(label: label, sink: sink, logLevel: logLevel) }
        }

        let themes = ThemeLibrary.standard(
            configDirectory: ConfigFile.configDirectory(environment: environment), environment: environment,
            executable: URL(fileURLWithPath: CommandLine.arguments[0]))
        let chosenTheme = theme ?? file.theme ?? "default"
        if !plain {
            do {
                _ = try themes.load(chosenTheme)
            } catch {
                let source = theme != nil ? "--theme" : "theme in \(configPath.path)"
                throw ValidationError("\(source): \(error)")
            }
        }

        var embedded: ServiceGroup?
        var serverTask: Task<Void, any Error>?
        if host {
            ServerThreads.fitToAllowedCPUs()
            let (group, running, port) = try await Self.startServer(host: bind ?? "0.0.0.0", port: port)
            embedded = group
            serverTask = running
            if urls.isEmpty { configuration.urls = ["ws://127.0.0.1:\(port)/ws"] }
        }
        defer { serverTask?.cancel() }
        var notices = settings.notices(file: file, environment: environment)
        if let server = configuration.urls.first {
            do {
                configuration.secret = try SecretFile.secret(
                    for: server, root: SecretFile.defaultRoot(environment: environment))
            } catch {
                notices.append("your direct messages cannot be read back later: \(error)")
            }
        }
        for notice in notices where plain {
            StandardError.write("wschat: \(notice)")
        }

        let status: Int32
        if plain {
            status = await PlainFrontEnd(configuration: configuration, json: json, drainTimeout: .seconds(drainTimeout))
                .run()
        } else {
            status = await runTerminalUI(
                configuration, theme: chosenTheme, themes: themes, environment: environment,
                notices: notices,
                chatLogs: !noChatLogs && (file.chatLogs ?? true), file: file, configPath: configPath)
        }
        if let embedded {
            await embedded.triggerGracefulShutdown()
            _ = try? await serverTask?.value
        }
        if status != 0 { throw ExitCode(status) }
    }

    private func runTerminalUI(
        _ configuration: ClientConfiguration, theme: String, themes: ThemeLibrary, environment: [String: String],
        notices: [String], chatLogs: Bool, file: ConfigFile, configPath: URL
    ) async -> Int32 {
        let engine = ChatEngine(configuration: configuration)
        let engineTask = Task { await engine.run() }
        var options = TerminalApp.Options(
            nick: configuration.nick, server: configuration.urls.first ?? "", theme: theme, themes: themes,
            noColor: environment["NO_COLOR"].map { !$0.isEmpty } ?? false, tlsUnverified: configuration.insecureTLS)
        options.notices = notices
        options.rooms = configuration.rooms
        options.highlights = file.highlights ?? []
        options.notifications = file.notifications ?? .osc9
        options.timeFormat = file.timeFormat ?? .standard
        options.scrollback = file.scrollback ?? ChatBuffer.defaultMaxLines
        options.ignored = file.ignore ?? []
        options.hyperlinks = file.hyperlinks ?? true
        options.saveIgnored = { nicks in
            do {
                try ConfigFile.save(ignore: nicks, to: configPath)
                return nil
            } catch {
                return "\(error)"
            }
        }
        if chatLogs, let server = configuration.urls.first {
            let logs = ChatLogs(root: ChatLogs.defaultRoot(environment: environment), url: server)
            options.record = { logs.record($0) }
        }
        let undelivered = await TerminalApp(engine: engine, options: options).run()
        await engineTask.value
        guard undelivered.isEmpty else {
            FileHandle.standardError.write(Data("wschat: \(undelivered.count) message(s) were not delivered:\n".utf8))
            for message in undelivered { FileHandle.standardError.write(Data("  \(message.text)\n".utf8)) }
            return 1
        }
        return 0
    }

    /// The chat server library, in this process (on all interfaces unless told: others can
    /// join). Returns once it listens, with the port; if it cannot, says why.
    private static func startServer(host: String, port: Int) async throws -> (
        ServiceGroup, Task<Void, any Error>, Int
    ) {
        var settings = ChatServerConfiguration()
        settings.host = host
        settings.port = port
        let server = ChatServer(configuration: settings, logger: Logger(label: "wschat-server"))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let group = try server.makeServiceGroup(signals: []) { port in portSink.yield(port) }
        let running = Task {
            defer { portSink.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        if let bound = await iterator.next() { return (group, running, bound) }
        do {
            try await running.value
        } catch {
            throw ValidationError(
                ChatServer.explain(startFailure: error, host: host, port: port)
                    ?? "cannot start the server on port \(port): \(error)")
        }
        throw ValidationError("the server stopped before it listened on port \(port)")
    }

    /// The flags that shape the engine's configuration.
    var settings: ClientSettings {
        var settings = ClientSettings()
        settings.urls = urls
        settings.nick = nick
        settings.rooms = rooms
        settings.passwordFile = passwordFile
        settings.insecure = insecure
        settings.caFile = caFile
        settings.pingInterval = pingInterval
        settings.pingTimeout = pingTimeout
        settings.backoffBase = backoffBase
        settings.backoffCap = backoffCap
        return settings
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
