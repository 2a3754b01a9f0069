import ArgumentParser
import Foundation
import NIOCore

/// `wschat-bench connect`: WebSocket handshakes followed at once by a close, P at a time; the
/// server's CPU per handshake and close.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect", abstract: "Open and close WebSocket connections and measure the server's CPU for each.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Handshakes in flight at once.")
    var parallel = 32

    @Option(help: "Seconds to run (at most 120).")
    var duration = 10.0

    func run() async throws {
        guard (1...1000).contains(parallel), duration > 0, duration <= 120 else {
            throw ValidationError("--parallel is 1 to 1000 and --duration 0 to 120 seconds")
        }
        let generator = try LoadGenerator(url: common.url, protocol: try common.protocolKind(), threads: common.threads)
        let serverBefore = try common.serverStats()
        let ownBefore = try ProcessStats.read(pid: nil)
        let start = ContinuousClock.now
        let deadline = start + .seconds(duration)
        // Each of the P in flight opens the next connection when its last one has closed, in
        // callbacks on the generator's event loop: no task or thread switch per handshake,
        // which would cost the generator more than the server.
        let cycles = (0..<parallel).map { worker in
            let done = generator.group.next().makePromise(of: Void.self)
            Self.cycle(generator, index: worker, step: parallel, until: deadline, done: done)
            return done.futureResult
        }
        for cycle in cycles { try await cycle.get() }
        let elapsed = ContinuousClock.now - start
        let failures = generator.counters.failedHandshakes.load(ordering: .relaxed)
        let serverAfter = try common.serverStats()
        let ownAfter = try ProcessStats.read(pid: nil)
        let handshakes = generator.counters.handshakes.load(ordering: .relaxed)
        try await generator.shutdown()

        var report = Report(scenario: "connect", label: common.label, protocol: common.protocol)
        report["parallel"] = .int(parallel)
        report["handshakes"] = .int(handshakes)
        report["handshakesPerSecond"] = .double(Double(handshakes) / elapsed.seconds)
        report["failures"] = .int(failures)
        report.addCPU(
            server: (serverBefore, serverAfter), own: (ownBefore, ownAfter), per: handshakes, unit: "handshake")
        report.print(summary: [
            "\(handshakes) handshakes + closes in \(String(format: "%.1f", elapsed.seconds)) s"
                + " (\(String(format: "%.0f", Double(handshakes) / elapsed.seconds))/s, \(parallel) in flight), \(failures) failed"
        ])
    }

    /// Opens connection `index`, waits for it to close, and goes on with `index + step` until
    /// `deadline`.
    private static func cycle(
        _ generator: LoadGenerator, index: Int, step: Int, until deadline: ContinuousClock.Instant,
        done: EventLoopPromise<Void>
    ) {
        guard ContinuousClock.now < deadline else { return done.succeed() }
        let handler = generator.makeHandler(index: index, role: .listener, purpose: .handshakeOnly)
        generator.connect(handler).flatMap { channel in channel.closeFuture }.whenComplete { result in
            if case .failure = result { generator.counters.failedHandshakes.add(1, ordering: .relaxed) }
            cycle(generator, index: index + step, step: step, until: deadline, done: done)
        }
    }
}
