import Crypto
import Foundation
import NIOHTTP1

/// The RFC 6455 §4.2.1 rules for an opening handshake that the upgrade library leaves to
/// its callers: a request that breaks one is refused with the status the RFC gives it.
enum WebSocketHandshake {
    static let version = "13"
    /// What the server appends to the client's key before hashing it (§1.3).
    static let keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Why `head`, an upgrade to WebSocket, cannot be accepted; nil when it can.
    static func problem(with head: HTTPRequestHead) -> UpgradeGate.Refusal? {
        guard head.method == .GET else {
            return .init(status: .badRequest, explanation: "A WebSocket upgrade must be a GET request.")
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

    /// `Sec-WebSocket-Accept` for a client's key: the SHA-1 of the key and `keyGUID`, in
    /// base64 (§4.2.2).
    static func acceptValue(forKey key: String) -> String {
        let trimmed = key.trimmingHTTPWhitespace()
        return Data(Insecure.SHA1.hash(data: Data((trimmed + keyGUID).utf8))).base64EncodedString()
    }
}
