import Foundation
import Testing
import WSChatProtocol
import WSChatServer
import WSChatTestSupport

@Suite("Defences against abuse within the protocol", .timeLimit(.minutes(2)))
struct AbuseDefenceTests {
    @Test func aConnectionMayBeInAHundredRoomsAndNoMore() async throws {
        let server = try await TestServer.start()
        let hoarder = try await server.user("hoarder")
        for index in 0..<100 { _ = try await hoarder.join("room\(index)") }
        let refused = try await hoarder.error(after: .join(.init(room: "one-more")))
        #expect(refused.code == .tooManyRooms)
        #expect(refused.message.contains("part one"))
        _ = try await hoarder.join("room7")  // a room it is in may be joined again
        try await hoarder.send(.part(room: "room0"))
        _ = try await hoarder.next { if case .parted = $0 { true } else { nil } }
        _ = try await hoarder.join("one-more")
        try await server.stop()
    }

    @Test func wrongPasswordsAreSlowedDownAndLoggedWithoutThePassword() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-pw-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let passwordFile = directory.appendingPathComponent("password").path
        try "open sesame\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let server = try await ServerProcess.start(["--memory", "--password-file", passwordFile])

        var sentAt: [ContinuousClock.Instant] = []
        var answeredAt: [ContinuousClock.Instant] = []
        for attempt in 0..<6 {
            let guesser = try await server.connect()
            sentAt.append(.now)
            try await guesser.send(
                .hello(.init(nick: "evil\n2026-12-01 fake line \(attempt)", password: "guess\(attempt)")))
            guard case .error(let error) = try await guesser.next() else { throw TestFailure("no auth_failed") }
            answeredAt.append(.now)
            #expect(error.code == .authFailed)
            #expect(try await guesser.closed().code == 4001)
        }
        // Three typos are free; after the fifth wrong password the next waits 500 ms after it.
        // Measured from when the fifth was sent, which is before the server counted it: the
        // test may read the fifth answer late on a busy machine, never the sixth early.
        let gap = answeredAt[5] - sentAt[4]
        #expect(gap >= .milliseconds(450), "the sixth guess was answered \(gap) after the fifth was sent")

        // The right password from the same address is slowed too, then let in.
        let owner = try await server.user("owner", password: "open sesame")
        _ = owner
        let log = server.process.standardError
        #expect(log.contains("wrong password in hello"))
        #expect(log.contains("address=127.0.0.1"))
        #expect(log.contains("evil\\u{A}2026-12-01 fake line"), "the nick is escaped: \(log)")
        #expect(!log.contains("\n2026-12-01 fake line"), "no forged log line")
        #expect(!log.contains("guess"), "the password is never logged")
        try await server.stop()
    }

    @Test func tlsFilesThatDoNotMatchStopTheServerBeforeItTouchesItsStore() async throws {
        let first = try SelfSignedCertificate.generate()
        let second = try SelfSignedCertificate.generate()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-tls-data-\(UUID())")
            .path
        let server = try ProductProcess.launch(arguments: [
            "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory,
            "--tls-cert", first.certificateChain, "--tls-key", second.privateKey,
        ])
        #expect(try await server.waitForExit(timeout: .seconds(20)) != 0)
        let error = server.standardError
        #expect(error.contains(second.privateKey), "\(error)")
        #expect(error.contains(first.certificateChain), "\(error)")
        #expect(error.contains("does not belong to the certificate"), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: dataDirectory), "the history store was not opened")

        let missing = try ProductProcess.launch(arguments: [
            "--host", "127.0.0.1", "--port", "0", "--memory", "--tls-cert", "/nonexistent/cert.pem", "--tls-key",
            first.privateKey,
        ])
        #expect(try await missing.waitForExit(timeout: .seconds(20)) != 0)
        #expect(missing.standardError.contains("/nonexistent/cert.pem"))
    }
}
