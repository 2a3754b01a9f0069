import Crypto
import Foundation
import NIOHTTP1

/// The RFC 6455 §4.2 rules for an opening handshake: a request that breaks one is refused
/// with the status the RFC gives it, and one that keeps them all is answered with 101.
enum WebSocketHandshake {
    static let version = "13"
    /// What the server appends to the client's key before hashing it (§1.3).
    static let keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Whether `head` asks for an upgrade to WebSocket (rather than to another protocol or
    /// none, which are plain HTTP).
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        lists("websocket", in: "upgrade", of: head)
    }

    /// Whether the comma-separated header `name` of `head` holds `token`, in any case.
    private static func lists(_ token: String, in name: String, of head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: name].contains { $0.lowercased() == token }
    }

    /// Why `head`, an upgrade to WebSocket, cannot be accepted; nil when it can.
    static func problem(with head: HTTPRequestHead) -> UpgradeGate.Refusal? {
        guard head.method == .GET else {
            return .init(status: .badRequest, explanation: "A WebSocket upgrade must be a GET request.")
        }
        // Without it the HTTP parser does not stop at the request's end, and would read the
        // first WebSocket frames as HTTP.
        guard lists("upgrade", in: "connection", of: head) else {
            return .init(
                status: .badRequest, explanation: "A WebSocket upgrade must say \"Connection: Upgrade\".")
        }
        let versions = head.headers[canonicalForm: "sec-websocket-version"]
        guard versions.count == 1, versions.first == Substring(version) else {
            return .init(
                status: .upgradeRequired,
                explanation:
                    "This server speaks WebSocket version \(version) only (Sec-WebSocket-Version: \(version)).",
                headers: [("sec-websocket-version", version)])
        }
        let keys = head.headers["sec-websocket-key"]
        guard keys.count == 1, isValidKey(keys[0]) else {
            return .init(
                status: .badRequest,
                explanation: "Sec-WebSocket-Key must be one base64-encoded 16-byte value (RFC 6455 section 4.1).")
        }
        return nil
    }

    /// A key is 16 random bytes in base64: 24 characters, ending in `==`.
    static func isValidKey(_ key: String) -> Bool {
        let trimmed = key.trimmingHTTPWhitespace()
        guard trimmed.utf8.count == 24, let bytes = Data(base64Encoded: String(trimmed)) else { return false }
        return bytes.count == 16
    }

    /// The 101 response to `head`, an upgrade that keeps every rule (`problem(with:)` is nil),
    /// with the endpoint's own headers (subprotocol, extensions) after the RFC's.
    static func acceptance(of head: HTTPRequestHead, with endpointHeaders: HTTPHeaders) -> HTTPResponseHead {
        var headers: HTTPHeaders = [
            "upgrade": "websocket", "connection": "upgrade",
            "sec-websocket-accept": acceptValue(forKey: head.headers.first(name: "sec-websocket-key") ?? ""),
        ]
        headers.add(contentsOf: endpointHeaders)
        return HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)
    }

    /// `Sec-WebSocket-Accept` for a client's key: the SHA-1 of the key and `keyGUID`, in
    /// base64 (§4.2.2).
    static func acceptValue(forKey key: String) -> String {
        let trimmed = key.trimmingHTTPWhitespace()
        return Data(Insecure.SHA1.hash(data: Data((trimmed + keyGUID).utf8))).base64EncodedString()
    }
}
