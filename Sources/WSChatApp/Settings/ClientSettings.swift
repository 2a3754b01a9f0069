import Foundation
import WSChatClient
import WSChatProtocol

/// What `wschat` was told on its command line, and how that, the config file and the
/// environment become the engine's configuration: a flag wins over the file, the file over
/// the defaults. Every mistake is a `SettingsError` that says what to change.
public struct ClientSettings: Sendable {
    public var urls: [String] = []
    public var nick: String?
    public var rooms: [String] = []
    public var passwordFile: String?
    public var insecure = false
    public var caFile: String?
    public var pingInterval: Double?
    public var pingTimeout: Double?
    public var backoffBase: Double?
    public var backoffCap: Double?

    public init() {}

    public func makeConfiguration(file: ConfigFile, environment: [String: String]) throws(SettingsError)
        -> ClientConfiguration
    {
        let nick = try chosenNick(file: file, environment: environment)
        let servers: [String]
        do throws(ServerURLError) {
            servers = try urls.isEmpty ? (file.servers ?? ["ws://localhost:8080/ws"]) : urls.map(ServerURL.check)
        } catch {
            throw SettingsError(error.description)
        }
        let passwordPath = passwordFile ?? file.passwordFile.map(Self.expandTilde)
        var configuration = ClientConfiguration(
            urls: servers, nick: nick, password: try passwordPath.map(Self.readPassword),
            rooms: rooms.isEmpty ? (file.rooms ?? ["general"]) : rooms)
        configuration.insecureTLS = insecure || (file.insecure ?? false)
        configuration.caFile = caFile ?? file.caFile.map(Self.expandTilde)
        if let caFile = configuration.caFile {
            do {
                try WebSocketTransport.checkCAFile(caFile)
            } catch {
                throw SettingsError(error.description)
            }
        }
        configuration.keepalive = KeepalivePolicy(
            interval: .seconds(pingInterval ?? file.pingInterval ?? 15),
            timeout: .seconds(pingTimeout ?? file.pingTimeout ?? 10))
        configuration.reconnect = ReconnectPolicy(
            base: .seconds(backoffBase ?? file.backoffBase ?? 1), cap: .seconds(backoffCap ?? file.backoffCap ?? 30))
        return configuration
    }

    /// The nick to use: the flag's or the config file's, which must be valid, else one made
    /// from the login name.
    func chosenNick(file: ConfigFile, environment: [String: String]) throws(SettingsError) -> String {
        if let given = nick ?? file.nick {
            do throws(ProtocolError) {
                return try Nick(validating: given).name
            } catch {
                let source = nick != nil ? "--nick" : "nick in the config file"
                throw SettingsError("\(source) '\(given)' is not a valid nick: \(error.message)")
            }
        }
        guard let login = environment["USER"], !login.isEmpty else { return "guest" }
        return Nick.derived(from: login)?.name ?? "guest"
    }

    /// What the user should know before the chat starts (a nick made from the login name).
    public func notices(file: ConfigFile, environment: [String: String]) -> [String] {
        guard nick == nil, file.nick == nil, let login = environment["USER"], !login.isEmpty,
            (try? Nick(validating: login)) == nil
        else { return [] }
        let derived = Nick.derived(from: login)?.name ?? "guest"
        return [
            "your login name \(login) is not a valid nick, so you are \(derived); choose one with --nick "
                + "or nick = \"…\" in config.toml"
        ]
    }

    /// Where the log goes unless told: `$XDG_STATE_HOME/wschat/wschat.log`.
    public static func defaultLogPath(environment: [String: String]) -> String {
        let state =
            environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
        return state + "/wschat/wschat.log"
    }

    public static func expandTilde(_ path: String) -> String {
        path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst() : path
    }

    static func readPassword(from path: String) throws(SettingsError) -> String {
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8),
            let password = contents.split(whereSeparator: \.isNewline).first, !password.isEmpty
        else {
            throw SettingsError("cannot read a password from --password-file \(path)")
        }
        return String(password)
    }
}

/// A setting that cannot work, with what to change.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
