/// Decides whether a browser page from another site may open a WebSocket here.
///
/// The check exists to stop web pages of other sites from using a visitor's browser to chat
/// here, so only origins a browser sends for a page are judged: `http(s)://…` and `null`. A
/// request without `Origin`, or with another scheme (WebSocket libraries send `ws://host`),
/// comes from a program, which could claim any origin anyway, and is allowed. A page may
/// connect when it was served by this server (its origin names the `Host` it asks) or when its
/// origin is on the configured list (`*` allows any).
public struct OriginPolicy: Sendable {
    public let allowed: Set<String>

    public init(allowed: [String]) {
        self.allowed = Set(allowed.map { Self.normalise($0) })
    }

    public func permits(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        let normalised = Self.normalise(origin)
        if allowed.contains("*") || allowed.contains(normalised) { return true }
        let scheme = Self.scheme(of: normalised)
        guard normalised == "null" || scheme == "http" || scheme == "https" else { return true }
        guard let host, let authority = Self.authority(ofOrigin: normalised) else { return false }
        return authority == Self.stripDefaultPort(host.lowercased(), scheme: scheme)
    }

    /// `scheme://host[:port]`, lower-cased, without a default port or a trailing slash.
    static func normalise(_ origin: String) -> String {
        var value = origin.lowercased()
        while value.hasSuffix("/") { value.removeLast() }
        guard let authority = authority(ofOrigin: value), let scheme = scheme(of: value) else { return value }
        return scheme + "://" + stripDefaultPort(authority, scheme: scheme)
    }

    static func scheme(of origin: String) -> String? {
        origin.range(of: "://").map { String(origin[..<$0.lowerBound]) }
    }

    static func authority(ofOrigin origin: String) -> String? {
        origin.range(of: "://").map { String(origin[$0.upperBound...]) }
    }

    static func stripDefaultPort(_ authority: String, scheme: String?) -> String {
        let defaultPort = scheme == "https" || scheme == "wss" ? ":443" : ":80"
        return authority.hasSuffix(defaultPort) ? String(authority.dropLast(defaultPort.count)) : authority
    }
}
