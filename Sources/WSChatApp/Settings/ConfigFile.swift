import Foundation
import TOMLKit
import WSChatClient
import WSChatProtocol

/// `$XDG_CONFIG_HOME/wschat/config.toml`: what a user sets once instead of on every start.
/// Flags override it. A bad file is reported with its line and key, never half-applied.
public struct ConfigFile: Equatable, Sendable {
    public var servers: [String]?
    public var nick: String?
    public var rooms: [String]?
    public var theme: String?
    public var logFile: String?
    public var passwordFile: String?
    public var insecure: Bool?
    public var caFile: String?
    public var pingInterval: Double?
    public var pingTimeout: Double?
    public var backoffBase: Double?
    public var backoffCap: Double?
    /// Whether every buffer is logged under `$XDG_DATA_HOME/wschat/logs` (default: yes).
    public var chatLogs: Bool?
    /// Words besides the nick that highlight a message.
    public var highlights: [String]?
    /// How a mention or DM in another buffer reaches the desktop: "osc9", "osc777" or "off".
    public var notifications: DesktopNotification?
    /// Whether links are sent to the terminal as OSC 8 hyperlinks (default: yes).
    public var hyperlinks: Bool?
    /// Nicks whose messages the terminal UI hides (`/ignore` writes it).
    public var ignore: [String]?
    /// How message times are shown in the terminal UI.
    public var timeFormat: TimeFormat?
    /// Lines each buffer keeps before its oldest are trimmed (fetched again on scroll).
    public var scrollback: Int?

    public static let scrollbackRange = 100...1_000_000

    public init() {}

    public static let example = """
        server = "ws://localhost:8080/ws"   # or servers = ["wss://a.example/ws", "wss://b.example/ws"]
        nick = "alice"
        rooms = ["general", "rust"]
        theme = "default"                    # default, light, solarized-dark, mono, or your own
        log_file = "~/.local/state/wschat/wschat.log"
        chat_logs = true                     # every buffer in ~/.local/share/wschat/logs/SERVER/ROOM.log
        highlights = ["deploy", "release"]   # words that highlight a message, besides your nick
        notifications = "osc9"               # mentions and DMs elsewhere: osc9, osc777 (urxvt, foot) or off
        time_format = "%H:%M"                # %H %M %S, %I %p (12-hour), %Y %m %d
        scrollback = 5000                    # lines kept per buffer; older ones are fetched again on scroll
        ignore = ["spammer"]                 # nicks whose messages are hidden (/ignore and /unignore edit it)
        hyperlinks = true                    # links are clickable (OSC 8); false for a terminal that shows the codes

        [keepalive]
        interval = 15                        # seconds between pings
        timeout = 10                         # seconds without an answer before reconnecting

        [reconnect]
        base = 1                             # seconds: first retry within this
        cap = 30                             # seconds: never wait longer than this
        """

    /// The config file's path for this environment.
    public static func path(environment: [String: String]) -> URL {
        configDirectory(environment: environment).appendingPathComponent("config.toml")
    }

    public static func configDirectory(environment: [String: String]) -> URL {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("wschat")
        }
        return URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config/wschat")
    }

    /// Reads the file if there is one.
    public static func load(from url: URL) throws -> ConfigFile? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return try parse(text, path: url.path)
    }

    static func parse(_ text: String, path: String) throws -> ConfigFile {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(path):\(error.source.begin.line): \(error.description)")
        }
        var config = ConfigFile()
        func fail(_ key: String, _ problem: String) -> ConfigError {
            ConfigError("\(path):\(line(of: key, in: text)): key \"\(key)\": \(problem)")
        }
        func string(_ key: String, _ value: any TOMLValueConvertible) throws -> String {
            guard let string = value.string else { throw fail(key, "must be a string") }
            return string
        }
        func number(_ key: String, _ value: any TOMLValueConvertible) throws -> Double {
            guard let number = value.double ?? value.int.map(Double.init), number > 0 else {
                throw fail(key, "must be a positive number of seconds")
            }
            return number
        }
        func url(_ key: String, _ raw: String) throws -> String {
            do throws(ServerURLError) {
                return try ServerURL.check(raw)
            } catch {
                throw fail(key, error.description)
            }
        }
        func strings(_ key: String, _ value: any TOMLValueConvertible) throws -> [String] {
            guard let array = value.array else { throw fail(key, "must be a list of strings") }
            return try array.map { element in
                guard let string = element.string else { throw fail(key, "must be a list of strings") }
                return string
            }
        }
        for (key, value) in table {
            switch key {
            case "server": config.servers = [try url(key, try string(key, value))]
            case "servers": config.servers = try strings(key, value).map { try url(key, $0) }
            case "nick": config.nick = try string(key, value)
            case "rooms": config.rooms = try strings(key, value)
            case "theme": config.theme = try string(key, value)
            case "log_file": config.logFile = try string(key, value)
            case "password_file": config.passwordFile = try string(key, value)
            case "ca_file": config.caFile = try string(key, value)
            case "chat_logs":
                guard let flag = value.bool else { throw fail(key, "must be true or false") }
                config.chatLogs = flag
            case "highlights": config.highlights = try strings(key, value)
            case "notifications":
                guard let style = DesktopNotification(rawValue: try string(key, value)) else {
                    let known = DesktopNotification.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    throw fail(key, "must be one of \(known)")
                }
                config.notifications = style
            case "ignore": config.ignore = try strings(key, value)
            case "hyperlinks":
                guard let flag = value.bool else { throw fail(key, "must be true or false") }
                config.hyperlinks = flag
            case "time_format":
                let pattern = try string(key, value)
                do throws(TimeFormatError) {
                    config.timeFormat = try TimeFormat(pattern)
                } catch {
                    throw fail(key, error.description)
                }
            case "scrollback":
                guard let lines = value.int, Self.scrollbackRange.contains(lines) else {
                    throw fail(
                        key,
                        "must be a number of lines from \(Self.scrollbackRange.lowerBound) to \(Self.scrollbackRange.upperBound)"
                    )
                }
                config.scrollback = lines
            case "insecure":
                guard let flag = value.bool else { throw fail(key, "must be true or false") }
                config.insecure = flag
            case "keepalive", "reconnect":
                guard let section = value.table else { throw fail(key, "must be a [\(key)] section") }
                for (inner, innerValue) in section {
                    switch (key, inner) {
                    case ("keepalive", "interval"): config.pingInterval = try number(inner, innerValue)
                    case ("keepalive", "timeout"): config.pingTimeout = try number(inner, innerValue)
                    case ("reconnect", "base"): config.backoffBase = try number(inner, innerValue)
                    case ("reconnect", "cap"): config.backoffCap = try number(inner, innerValue)
                    default: throw fail("\(key).\(inner)", "unknown key")
                    }
                }
            default:
                throw fail(
                    key,
                    "unknown key (known: server, servers, nick, rooms, theme, log_file, chat_logs, highlights, notifications, time_format, scrollback, ignore, hyperlinks, password_file, insecure, ca_file, [keepalive], [reconnect])"
                )
            }
        }
        return config
    }

    /// Writes `ignore = [...]` into the file at `url`, leaving every other line as the user
    /// wrote it: the key's line is replaced, or the key added before the first section. The
    /// result is read back before it replaces the file, so a file this cannot edit safely (the
    /// list written across lines, say) is left alone with an error saying so.
    public static func save(ignore nicks: [String], to url: URL) throws {
        let old = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let entry = "ignore = [" + nicks.map(tomlString).joined(separator: ", ") + "]"
        var lines = old.isEmpty ? [] : old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let firstSection = lines.firstIndex { $0.drop { $0 == " " || $0 == "\t" }.hasPrefix("[") } ?? lines.count
        if let existing = lines[..<firstSection].firstIndex(where: { isAssignment(of: "ignore", $0) }) {
            lines[existing] = entry
        } else {
            lines.insert(entry, at: firstSection)
        }
        let text = lines.joined(separator: "\n") + (lines.last == "" ? "" : "\n")
        let reread: ConfigFile
        do {
            reread = try parse(text, path: url.path)
        } catch {
            throw ConfigError("\(url.path) could not be updated (\(error)); set ignore = [...] there by hand")
        }
        guard reread.ignore ?? [] == nicks else {
            throw ConfigError("\(url.path) could not be updated safely; set ignore = [...] there by hand")
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    private static func isAssignment(of key: String, _ line: some StringProtocol) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return trimmed.hasPrefix(key) && trimmed.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix("=")
    }

    /// A TOML basic string.
    private static func tomlString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                quoted += String(format: "\\u%04X", scalar.value)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// The line where `key` is set (TOMLKit reports lines for syntax errors only).
    static func line(of key: String, in text: String) -> Int {
        let name = key.split(separator: ".").last.map(String.init) ?? key
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if isAssignment(of: name, line) { return number + 1 }
        }
        return 1
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
