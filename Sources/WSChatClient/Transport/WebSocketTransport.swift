import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import WSChatProtocol
import WSClient
import WSCompression

/// How the client speaks WebSocket: one configuration for the engine and the conformance
/// client, so that what Autobahn tests is what users run.
public enum WebSocketTransport {
    public static func configuration(maxMessageSize: Int, offerSubprotocol: Bool = true) -> WebSocketClientConfiguration
    {
        var headers = HTTPFields()
        if offerSubprotocol { headers[.secWebSocketProtocol] = WireProtocol.subprotocol }
        return WebSocketClientConfiguration(
            maxFrameSize: maxMessageSize,
            additionalHeaders: headers,
            // Offer to let the server cap our window and turn off our context takeover, so a
            // busy server can bound its inflate memory per connection. Our own messages are
            // few; what the server sends keeps its context (and compresses to about 30 %).
            extensions: [
                .perMessageDeflate(
                    clientMaxWindow: 15, clientNoContextTakeover: true, maxDecompressedFrameSize: maxMessageSize,
                    minFrameSizeToCompress: 0)
            ],
            closeTimeout: .seconds(2),
            // The engine runs its own keepalive (see Keepalive) and answers the server's pings.
            autoPing: .disabled,
            validateUTF8: true)
    }

    /// TLS for `wss://`: the system trust store and the authorities in `caFile`, or no
    /// verification at all when `insecure`.
    public static func tlsConfiguration(insecure: Bool, caFile: String? = nil) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure { tls.certificateVerification = .none }
        if let caFile { tls.additionalTrustRoots = [.file(caFile)] }
        return tls
    }

    /// Checks that `path` holds at least one PEM certificate, so that a wrong `--ca-file` is
    /// reported at start rather than as an untrusted server later.
    public static func checkCAFile(_ path: String) throws(TLSFileError) {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSFileError(description: "cannot read the CA file \(path): \(error)")
        }
        guard !certificates.isEmpty else {
            throw TLSFileError(description: "the CA file \(path) holds no PEM certificate")
        }
    }
}

/// A TLS file the client was given that it cannot use.
public struct TLSFileError: Error, CustomStringConvertible {
    public let description: String
}
