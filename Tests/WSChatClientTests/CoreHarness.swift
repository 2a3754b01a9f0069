import WSChatProtocol

@testable import WSChatClient

/// A deterministic random source, so a backoff schedule replays the same way every run.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Drives an `EngineCore` on a virtual clock: time only moves when the test says so.
struct CoreHarness {
    typealias Core = EngineCore<SeededRandom>
    var core: Core
    var now: ContinuousClock.Instant = .now
    /// Everything the core asked for since the harness was made.
    var log: [Core.Action] = []

    init(_ adjust: (inout ClientConfiguration) -> Void = { _ in }, seed: UInt64 = 42) {
        var configuration = ClientConfiguration(urls: ["ws://a/ws", "ws://b/ws"], nick: "alice", rooms: ["general"])
        adjust(&configuration)
        core = Core(configuration: configuration, random: SeededRandom(seed: seed))
    }

    @discardableResult
    mutating func handle(_ input: Core.Input) -> [Core.Action] {
        let actions = core.handle(input, at: now)
        log += actions
        return actions
    }

    mutating func advance(by duration: Duration) {
        now += duration
    }

    /// Advances to the core's next deadline (if it is within `limit`) and ticks.
    @discardableResult
    mutating func tickToNextDeadline(limit: Duration = .seconds(3600)) -> [Core.Action] {
        guard let deadline = core.nextDeadline, deadline <= now + limit else { return [] }
        if deadline > now { now = deadline }
        return handle(.tick)
    }

    @discardableResult
    mutating func receive(_ message: ServerMessage) -> [Core.Action] {
        handle(.received(message.encoded()))
    }

    /// Opens the transport and answers hello with welcome, as a server would.
    @discardableResult
    mutating func connectAndWelcome(nick: String = "alice", limits: Limits = Limits(rate: 0, burst: 20)) -> [Core
        .Action]
    {
        var actions = handle(.transportOpened)
        actions += receive(.welcome(.init(nick: nick, session: "s", server: "test", limits: limits)))
        return actions
    }

    static func sent(_ actions: [Core.Action]) -> [ClientMessage] {
        actions.compactMap { if case .send(let message) = $0 { message } else { nil } }
    }

    static func events(_ actions: [Core.Action]) -> [EngineEvent] {
        actions.compactMap { if case .emit(let event) = $0 { event } else { nil } }
    }

    static func connects(_ actions: [Core.Action]) -> [String] {
        actions.compactMap { if case .connect(let url) = $0 { url } else { nil } }
    }

    var retryDelay: Duration? {
        guard case .reconnecting(let retryAt, _, _) = core.state else { return nil }
        return now.duration(to: retryAt)
    }
}
