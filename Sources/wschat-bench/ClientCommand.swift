import ArgumentParser
import Foundation
import WSChatClient
import WSChatProtocol
import WSChatTUI

/// `wschat-bench client`: the terminal client's own costs, with no server and no terminal
/// (issue #14's goals): how fast the engine and the TUI model take in a flood of chat frames,
/// how long the renderer takes to draw a busy room on a large screen, and what the scrollback
/// costs in memory. Frames are made ahead of each timed batch, so only the client is timed.
struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Measure the terminal client headless: ingest rate, redraw time, scrollback memory.")

    @Option(help: "Chat messages to feed in (at most 2000000).")
    var messages = 100_000

    @Option(help: "Rooms they are spread over (the first is on screen).")
    var rooms = 5

    @Option(help: "Screen width for the redraw measurement.")
    var width = 200

    @Option(help: "Screen height for the redraw measurement.")
    var height = 60

    @Option(help: "Redraws to time.")
    var redraws = 500

    @Option(help: "Lines kept per buffer (the scrollback setting).")
    var scrollback = ChatBuffer.defaultMaxLines

    @Option(help: "A label for this run in the JSON line.")
    var label = ""

    static let batch = 10_000
    static let nick = "watcher"

    func run() throws {
        guard (1...2_000_000).contains(messages) else { throw ValidationError("--messages is 1 to 2000000") }
        guard (1...100).contains(rooms) else { throw ValidationError("--rooms is 1 to 100") }
        guard width >= 20, height >= 5 else { throw ValidationError("the screen is at least 20×5") }
        let roomNames = (1...rooms).map { "room\($0)" }
        var client = HeadlessClient(rooms: roomNames, width: width, height: height, scrollback: scrollback)
        let rssBefore = try ProcessStats.read(pid: nil).residentBytes

        var ingestCPU = Duration.zero
        let ingestWall = ContinuousClock().measure {
            var fed = 0
            while fed < messages {
                let frames = (fed..<min(messages, fed + Self.batch)).map { Self.frame(number: $0, rooms: roomNames) }
                let started = processCPU()
                for frame in frames { client.receive(frame) }
                ingestCPU += processCPU() - started
                fed += frames.count
            }
        }
        let rssAfter = try ProcessStats.read(pid: nil).residentBytes
        let shown = client.model.buffers.reduce(0) { $0 + $1.lines.count }

        var redrawTimes: [Duration] = []
        let clock = ContinuousClock()
        var checksum = 0
        for _ in 0..<redraws {
            let started = clock.now
            let frame = Renderer.render(client.model, now: started)
            redrawTimes.append(clock.now - started)
            checksum &+= frame.cursorX
        }
        redrawTimes.sort()

        let perSecond = Double(messages) / ingestCPU.seconds
        let median = redrawTimes[redrawTimes.count / 2]
        let p99 = redrawTimes[min(redrawTimes.count - 1, redrawTimes.count * 99 / 100)]
        var report = Report(scenario: "client", label: label, protocol: "wschat")
        report["messages"] = .int(messages)
        report["rooms"] = .int(rooms)
        report["ingestCPUSeconds"] = .double(ingestCPU.seconds)
        report["ingestWallSeconds"] = .double(ingestWall.seconds)
        report["ingestMessagesPerSecond"] = .double(perSecond)
        report["ingestMicrosecondsPerMessage"] = .double(ingestCPU.microseconds / Double(messages))
        report["linesKept"] = .int(shown)
        report["scrollbackMiB"] = .double(Double(rssAfter - rssBefore) / 1_048_576)
        report["residentMiB"] = .double(Double(rssAfter) / 1_048_576)
        report["redrawMedianMilliseconds"] = .double(median.microseconds / 1000)
        report["redrawP99Milliseconds"] = .double(p99.microseconds / 1000)
        report.print(summary: [
            "ingest: \(messages) messages over \(rooms) rooms in \(format(ingestCPU.seconds)) s of CPU"
                + " = \(Int(perSecond)) messages/s (\(format(ingestCPU.microseconds / Double(messages))) µs each)",
            "scrollback: \(shown) lines kept (\(scrollback) per buffer); resident"
                + " \(rssBefore >> 20) → \(rssAfter >> 20) MiB",
            "redraw of \(width)×\(height) with the busy room on screen: median \(format(median.microseconds / 1000)) ms,"
                + " p99 \(format(p99.microseconds / 1000)) ms over \(redraws) (checksum \(checksum % 10))",
        ])
    }

    /// Message `number` of the flood: senders, rooms and texts vary as in a busy server (CJK,
    /// emoji, a URL, a mention of the watcher now and then), ids rise per room.
    static func frame(number: Int, rooms: [String]) -> String {
        let room = rooms[number % rooms.count]
        let id = number / rooms.count + 1
        let sender = "user\(number % 50)"
        let texts = [
            "message \(number): the build is green again, shipping after lunch",
            "\(number) 今日は新しいリリースの準備をしています。よろしくお願いします",
            "\(number) 🎉🎉 release notes at https://example.com/releases/\(number) — have a look",
            "\(nick): can you review \(number) before the end of the day?",
            "\(number) 我们明天再讨论这个问题吧，谢谢大家",
            "\(number) a longer line that wraps on a narrow screen because it goes on and on about the weather",
        ]
        let message = ChatMessage(
            room: room, id: Int64(id), ts: 1_764_000_000_000 + Int64(number) * 10, from: sender,
            text: texts[number % texts.count], cid: "c\(number)")
        return ServerMessage.message(message).encoded()
    }

    private func format(_ number: Double) -> String { String(format: "%.2f", number) }
}

/// The engine and the TUI model wired as the terminal app wires them, minus the socket and
/// the screen: frames in, the model updated.
struct HeadlessClient {
    var engine: EngineCore<SystemRandomNumberGenerator>
    var model: ChatModel

    init(rooms: [String], width: Int, height: Int, scrollback: Int) {
        let configuration = ClientConfiguration(
            urls: ["ws://127.0.0.1:1/ws"], nick: ClientCommand.nick, rooms: rooms)
        engine = EngineCore(configuration: configuration, random: SystemRandomNumberGenerator())
        model = ChatModel(nick: ClientCommand.nick, server: "bench", width: width, height: height)
        model.maxLinesPerBuffer = scrollback
        feed(.start)
        feed(.transportOpened)
        let welcome = ServerMessage.Welcome(
            nick: ClientCommand.nick, session: "s", server: "bench", limits: Limits())
        receive(ServerMessage.welcome(welcome).encoded())
        for room in rooms {
            let joined = ServerMessage.Joined(
                room: room, epoch: "e", topic: "", members: [ClientCommand.nick] + (0..<50).map { "user\($0)" },
                history: [], more: false)
            receive(ServerMessage.joined(joined).encoded())
        }
        _ = model.handle(.key(.alt("2")))  // the first room, not the server buffer
    }

    mutating func receive(_ frame: String) {
        feed(.received(frame))
    }

    private mutating func feed(_ input: EngineCore<SystemRandomNumberGenerator>.Input) {
        for action in engine.handle(input, at: .now) {
            if case .emit(let event) = action { _ = model.handle(.engine(event)) }
        }
    }
}

/// CPU time of this process so far (clock_gettime: finer than /proc's ticks).
func processCPU() -> Duration {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
}
