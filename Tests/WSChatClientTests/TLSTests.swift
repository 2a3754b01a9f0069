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
}
