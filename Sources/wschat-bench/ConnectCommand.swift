import ArgumentParser
import Foundation

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
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<parallel {
                group.addTask {
                    var failures = 0
                    var index = worker
                    while ContinuousClock.now < deadline {
                        do {
                            let connection = try await generator.open(
                                index: index, role: .listener, purpose: .handshakeOnly)
                            try await connection.channel.closeFuture.get()
                        } catch {
                            failures += 1
                        }
                        index += parallel
                    }
                    return failures
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - start
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
}
