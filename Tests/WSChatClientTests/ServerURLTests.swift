import Testing
import WSChatClient

@Suite("Server URLs are checked before anything connects")
struct ServerURLTests {
    @Test func goodURLsPassAndAPathDefaultsToWS() throws {
        #expect(try ServerURL.check("ws://localhost:8080/ws") == "ws://localhost:8080/ws")
        #expect(try ServerURL.check("wss://chat.example/chat") == "wss://chat.example/chat")
        #expect(try ServerURL.check("ws://127.0.0.1:9000") == "ws://127.0.0.1:9000/ws")
        #expect(try ServerURL.check("ws://[::1]:9000/ws") == "ws://[::1]:9000/ws")
    }

    @Test(arguments: [
        ("ws://", "names no host"),
        ("ws://host:99999/ws", "the port must be between 1 and 65535"),
        ("wss://127.0.0.1:8443/ws", "an IP address cannot be sent"),
        ("wss://[::1]:8443/ws", "an IP address cannot be sent"),
        ("http://x", "is not a WebSocket URL"),
        ("localhost:8080", "is not a WebSocket URL"),
    ])
    func urlsThatCanNeverWorkAreRefusedWithTheReason(_ example: (String, String)) {
        do {
            _ = try ServerURL.check(example.0)
            Issue.record("accepted \(example.0)")
        } catch {
            #expect(error.description.contains(example.1), "\(error)")
        }
    }
}
