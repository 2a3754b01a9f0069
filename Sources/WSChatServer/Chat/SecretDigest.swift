import Crypto

/// What the server keeps of a `hello`'s secret: its SHA-256, in hex. Stored with each direct
/// message sent or received under it, so that reading a conversation back needs the secret
/// itself, and a copy of the database does not hand out secrets to say. A secret is random
/// (clients send 32 random bytes), so one unsalted hash is enough.
enum SecretDigest {
    static func of(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
    }
}
