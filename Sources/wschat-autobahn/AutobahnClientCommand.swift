import ArgumentParser
import Logging
import WSChatClient
import WSClient

/// `wschat-autobahn`: runs every case of an Autobahn fuzzing server against the client's
/// WebSocket transport (the same configuration the engine uses), echoing what it receives.
@main
struct AutobahnClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wschat-autobahn",
        abstract: "Run the Autobahn TestSuite's client cases against wschat's WebSocket transport.",
        discussion: "Start the fuzzing server first, e.g. `kosoku -m fuzzingserver 127.0.0.1:9001`.")

    @Argument(help: "The fuzzing server's base URL.")
    var server = "ws://127.0.0.1:9001"

    @Option(help: "The agent name the reports are filed under.")
    var agent = "wschat"

    func run() async throws {
        var logger = Logger(label: "wschat-autobahn")
        logger.logLevel = .critical
        let configuration = WebSocketTransport.configuration(maxMessageSize: 16 << 20, offerSubprotocol: false)
        let maxSize = configuration.maxFrameSize

        let (answers, answer) = AsyncStream.makeStream(of: String.self)
        try await WebSocketClient.connect(url: "\(server)/getCaseCount", configuration: configuration, logger: logger) {
            inbound, _, _ in
            for try await message in inbound.messages(maxSize: 64) {
                if case .text(let text) = message { answer.yield(text) }
            }
        }
        answer.finish()
        var replies = answers.makeAsyncIterator()
        let count = await replies.next().flatMap { Int($0) } ?? 0
        guard count > 0 else { throw ValidationError("\(server) did not say how many cases it has") }
        print("running \(count) cases against \(server)")

        for index in 1...count {
            // A case may end the connection in any way it likes: that is what is under test.
            _ = try? await WebSocketClient.connect(
                url: "\(server)/runCase?case=\(index)&agent=\(agent)", configuration: configuration, logger: logger
            ) { inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: maxSize) {
                    switch message {
                    case .text(let text): try await outbound.write(.text(text))
                    case .binary(let bytes): try await outbound.write(.binary(bytes))
                    }
                }
            }
            if index % 50 == 0 { print("\(index) of \(count)") }
        }
        try await WebSocketClient.connect(
            url: "\(server)/updateReports?agent=\(agent)", configuration: configuration, logger: logger
        ) {
            _, _, _ in
        }
        print("done: \(count) cases")
    }
}
