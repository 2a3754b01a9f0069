import Foundation
import Testing
import WSChatClient
import WSChatProtocol
import WSChatServer
import WSChatTestSupport

@Suite("wss://", .timeLimit(.minutes(1)))
struct TLSTests {
    @Test func aSelfSignedServerIsRefusedUnlessInsecureIsAskedFor() async throws {
        let server = try await TestServer.start { $0.tls = try? SelfSignedCertificate.generate() }
        #expect(server.url.hasPrefix("wss://"))
        let url = "wss://localhost:\(server.port)/ws"

        let careful = RecordedEngine(RecordedEngine.configuration(url: url, nick: "careful"))
        try await careful.waitUntil("refused") { events in
            events.contains { event in
                if case .state(.reconnecting(_, _, let error)) = event {
                    error.contains("certificate is not trusted")
                } else {
                    false
                }
            }
        }
        #expect(!(await careful.events).contains(where: RecordedEngine.isConnected))

        var configuration = RecordedEngine.configuration(url: url, nick: "dev")
        configuration.insecureTLS = true
        let developer = RecordedEngine(configuration)
        try await developer.waitUntil("connected") { $0.contains(where: RecordedEngine.isConnected) }
        developer.say("over TLS 🔒")
        try await developer.waitUntil("echo") { RecordedEngine.conversation(in: $0).map(\.text) == ["over TLS 🔒"] }
        try await server.stop()
    }

    @Test func anIPAddressInAWSSURLIsExplained() async throws {
        let server = try await TestServer.start { $0.tls = try? SelfSignedCertificate.generate() }
        var configuration = RecordedEngine.configuration(url: server.url, nick: "ip")
        configuration.insecureTLS = true
        let client = RecordedEngine(configuration)
        try await client.waitUntil("explained") { events in
            events.contains { event in
                if case .state(.reconnecting(_, _, let error)) = event {
                    error.contains("needs the server's host name")
                } else {
                    false
                }
            }
        }
        try await server.stop()
    }

    @Test func aPrivateCAIsTrustedWithCAFileAndOnlyForTheRightHostName() async throws {
        let ca = try TestCertificateAuthority.make()
        let rightName = try ca.issue(for: "localhost")
        let server = try await TestServer.start { $0.tls = rightName }
        let url = "wss://localhost:\(server.port)/ws"

        var trusting = RecordedEngine.configuration(url: url, nick: "trusting")
        trusting.caFile = ca.certificateFile
        let client = RecordedEngine(trusting)
        try await client.waitUntil("connected") { $0.contains(where: RecordedEngine.isConnected) }
        client.say("signed by our own CA")
        try await client.waitUntil("echo") {
            RecordedEngine.conversation(in: $0).map(\.text) == ["signed by our own CA"]
        }

        let stranger = RecordedEngine(RecordedEngine.configuration(url: url, nick: "stranger"))
        try await stranger.waitUntil("an unknown CA refused") { events in
            Self.failures(in: events).contains { $0.contains("not trusted") && $0.contains("--ca-file") }
        }
        #expect(!(await stranger.events).contains(where: RecordedEngine.isConnected))
        try await server.stop()

        let wrongName = try await TestServer.start { $0.tls = try? ca.issue(for: "elsewhere.example") }
        var misdirected = RecordedEngine.configuration(url: "wss://localhost:\(wrongName.port)/ws", nick: "misdirected")
        misdirected.caFile = ca.certificateFile
        let fooled = RecordedEngine(misdirected)
        try await fooled.waitUntil("a wrong host name refused") { events in
            Self.failures(in: events).contains { $0.contains("for another host name") }
        }
        #expect(!(await fooled.events).contains(where: RecordedEngine.isConnected))
        try await wrongName.stop()
    }

    @Test func aCAFileThatHoldsNoCertificateIsRefusedAtStart() throws {
        #expect(throws: TLSFileError.self) { try WebSocketTransport.checkCAFile("/nonexistent/ca.pem") }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID()).pem").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data("not a certificate\n".utf8)))
        #expect(throws: TLSFileError.self) { try WebSocketTransport.checkCAFile(empty) }
        try WebSocketTransport.checkCAFile(try TestCertificateAuthority.make().certificateFile)
    }

    /// The reasons of the connection failures the engine reported.
    static func failures(in events: [EngineEvent]) -> [String] {
        events.compactMap { event in
            if case .state(.reconnecting(_, _, let error)) = event { error } else { nil }
        }
    }
}
