import Foundation
import WSChatProtocol

/// The secret `wschat` says in `hello` to a server, so that the server reads the user's direct
/// messages back to them and to nobody who takes their nick later: one per server (a server
/// must not learn what to say to another), in `$XDG_DATA_HOME/wschat/secrets/HOST_PORT`,
/// made on first use from 32 random bytes and readable by the user only.
public enum SecretFile {
    /// Where the secrets are unless told: `$XDG_DATA_HOME/wschat/secrets`.
    public static func defaultRoot(environment: [String: String]) -> URL {
        let data =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/share")
        return URL(fileURLWithPath: data).appendingPathComponent("wschat/secrets")
    }

    /// The secret for the server at `url`, made and stored under `root` if there is none yet.
    public static func secret(for url: String, root: URL) throws(SettingsError) -> String {
        let file = root.appendingPathComponent(ChatLogs.folderName(for: url))
        if let stored = try? String(contentsOf: file, encoding: .utf8) { return try parse(stored, from: file) }
        return try create(file)
    }

    private static func parse(_ stored: String, from file: URL) throws(SettingsError) -> String {
        let secret = stored.trimmingCharacters(in: .whitespacesAndNewlines)
        guard ClientMessage.isValidSecret(secret) else {
            throw SettingsError(
                "\(file.path) is not a wschat secret (64 hex digits); move it away to have a new one made "
                    + "(direct messages sent under the old one cannot be read back then)")
        }
        return secret
    }

    private static func create(_ file: URL) throws(SettingsError) -> String {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw SettingsError("cannot create \(file.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        // Created readable by the user only, and never over a file another wschat just made.
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            if errno == EEXIST, let stored = try? String(contentsOf: file, encoding: .utf8) {
                return try parse(stored, from: file)
            }
            throw SettingsError("cannot create \(file.path): \(reason)")
        }
        defer { close(descriptor) }
        let bytes = Array((secret + "\n").utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else {
            let reason = String(cString: strerror(errno))
            unlink(file.path)
            throw SettingsError("cannot write \(file.path): \(reason)")
        }
        return secret
    }
}
