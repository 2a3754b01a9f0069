import Foundation
import WSChatClient

/// `wschat --plain`: the engine with lines in (stdin) and lines out (stdout), for scripts,
/// bots and tests. End of input means: quit once everything typed is delivered, or after
/// `drainTimeout`, saying on stderr what was not.
public struct PlainFrontEnd {
    let configuration: ClientConfiguration
    let json: Bool
    let drainTimeout: Duration

    public init(configuration: ClientConfiguration, json: Bool, drainTimeout: Duration) {
        self.configuration = configuration
        self.json = json
        self.drainTimeout = drainTimeout
    }

    /// Runs until the engine stops; returns the process exit status.
    public func run() async -> Int32 {
        let engine = ChatEngine(configuration: configuration)
        let formatter = PlainFormatter(json: json)
        let engineTask = Task { await engine.run() }
        StandardInput.readLines(
            onLine: { line, room in Self.submit(line, room: room, to: engine) },
            initialRoom: configuration.rooms.last,
            onEnd: { [drainTimeout] in engine.perform(.quitWhenDelivered(within: drainTimeout)) })

        var undelivered: [PendingMessage] = []
        var status: Int32 = 0
        var connected = false
        var lastError: String?
        for await event in engine.events {
            switch event {
            case .undelivered(let message):
                undelivered.append(message)
            case .state(.connected):
                connected = true
            case .state(.reconnecting(_, _, let error)):
                lastError = error
            case .state(.offline(let reason)) where reason != "quit":
                StandardError.write("wschat: \(reason)")
                status = 1
            default:
                break
            }
            for line in formatter.lines(for: event, now: .now) { StandardOutput.write(line) }
        }
        await engineTask.value
        if !connected && status == 0 {
            let servers = configuration.urls.joined(separator: ", ")
            StandardError.write(
                "wschat: never connected to \(servers)\(lastError.map { ": \($0)" } ?? ""); is the server running? "
                    + "(wschat --host starts one)")
            status = 1
        }
        if !undelivered.isEmpty {
            StandardError.write("wschat: \(undelivered.count) message(s) were not delivered:")
            for message in undelivered { StandardError.write("  \(message.text)") }
            status = 1
        }
        return status
    }

    /// Hands one typed line to the engine; returns the room plain text goes to next.
    static func submit(_ line: String, room: String?, to engine: ChatEngine) -> String? {
        switch InputLine.parse(line, room: room) {
        case .command(let command):
            engine.perform(command)
            if case .join(let joined) = command { return joined }
            if case .part(let parted) = command, parted == room { return nil }
        case .local:
            let available = SlashCommand.all.filter { !$0.isLocal }.map { "/\($0.name)" }.joined(separator: " ")
            StandardError.write("wschat: \(line) works in the full-screen UI only (in --plain: \(available))")
        case .invalid(let message):
            StandardError.write("wschat: \(message)")
        case .empty:
            break
        }
        return room
    }
}

/// Reads standard input line by line on a thread of its own (reading blocks).
enum StandardInput {
    static func readLines(
        onLine: @escaping @Sendable (String, String?) -> String?, initialRoom: String?,
        onEnd: @escaping @Sendable () -> Void
    ) {
        let thread = Thread {
            var room = initialRoom
            while let line = readLine(strippingNewline: true) {
                room = onLine(line, room)
            }
            onEnd()
        }
        thread.start()
    }
}

enum StandardOutput {
    /// Writes one line straight to the file descriptor: no buffering, so a pipe sees it now.
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

public enum StandardError {
    public static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
