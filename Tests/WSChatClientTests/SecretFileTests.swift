import Foundation
import Testing
import WSChatProtocol

@testable import WSChatApp

@Suite("The secret said to each server")
struct SecretFileTests {
    @Test func eachServerGetsItsOwnSecretKeptPrivateAndReused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try SecretFile.secret(for: "ws://127.0.0.1:8080/ws", root: root)
        #expect(first.count == 64 && first.allSatisfy(\.isHexDigit) && ClientMessage.isValidSecret(first))
        #expect(try SecretFile.secret(for: "ws://127.0.0.1:8080/ws", root: root) == first, "kept, not made again")
        #expect(try SecretFile.secret(for: "wss://chat.example:443/ws", root: root) != first, "one per server")

        let file = root.appendingPathComponent("127.0.0.1_8080")
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "readable by the user only")

        // A file that is not a secret is reported, and left for the user to look at.
        try "not one".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: SettingsError.self) { try SecretFile.secret(for: "ws://127.0.0.1:8080/ws", root: root) }
        #expect(try String(contentsOf: file, encoding: .utf8) == "not one")
    }
}
