import Foundation
import WSChatProtocol

/// The rules for a server's address, checked before anything connects: a URL that can never
/// work (no host, a port out of range, TLS to a bare IP address) is refused at start with
/// the reason, instead of being retried for ever.
public enum ServerURL {
    /// Returns the URL to connect to (`/ws` added when it has no path), or throws saying
    /// what is wrong and what a good one looks like.
    public static func check(_ raw: String) throws(ServerURLError) -> String {
        let example = "use ws://HOST:PORT/ws, or wss://HOST/ws for TLS"
        guard var components = URLComponents(string: raw), let scheme = components.scheme?.lowercased() else {
            throw ServerURLError("\(raw) is not a URL: \(example)")
        }
        guard scheme == "ws" || scheme == "wss" else {
            throw ServerURLError("\(raw) is not a WebSocket URL: \(example)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ServerURLError("\(raw) names no host: \(example)")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw ServerURLError("\(raw): the port must be between 1 and 65535")
        }
        if scheme == "wss", isIPAddress(host) {
            throw ServerURLError(
                "\(raw): TLS checks the server by the name on its certificate, and an IP address cannot be sent "
                    + "as that name; use the server's host name")
        }
        if components.path.isEmpty { components.path = WireProtocol.chatPath }
        return components.string ?? raw
    }

    static func isIPAddress(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return inet_pton(AF_INET, bare, &ipv4) == 1 || inet_pton(AF_INET6, bare, &ipv6) == 1
    }
}

public struct ServerURLError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
