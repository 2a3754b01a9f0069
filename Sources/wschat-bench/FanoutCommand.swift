import ArgumentParser
import Foundation
import Histogram

/// `wschat-bench fanout`: C connections in one room, S of them sending; every message is
/// delivered to all C. Flood (each sender keeps W messages unacknowledged) or a fixed total rate.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "Broadcast into one room and measure deliveries, latency and CPU.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Connections in the room.")
    var clients = 1000

    @Option(help: "How many of them send.")
    var senders = 10

    @Option(help: "Flood: messages each sender keeps unacknowledged (its own echo acknowledges).")
    var window = 4

    @Option(help: "A fixed total rate in messages per second instead of a flood, spread evenly over the senders.")
    var rate: Double?

    @Option(help: "Seconds of sending (at most 120).")
    var duration = 10.0

    func validate() throws {
        guard (1...20_000).contains(clients), (1...clients).contains(senders) else {
            throw ValidationError("--clients is 1 to 20000 and --senders 1 to --clients")
        }
        guard duration > 0, duration <= 120 else { throw ValidationError("--duration is 0 to 120 seconds") }
        guard window >= 1, rate.map({ $0 > 0 && $0 <= 100_000 }) ?? true else {
            throw ValidationError("--window is at least 1; --rate is 0 to 100000 messages per second")
        }
    }

    func run() async throws {
        let generator = try LoadGenerator(
            url: common.url, protocol: try common.protocolKind(), threads: common.threads)
        let senders = senders
        let role: (Int) -> BenchConnection.Role = { [window, rate] index in
            guard index < senders else { return .listener }
            if let rate {
                let gap = 1e9 / rate
                return .paced(
                    interval: .nanoseconds(Int64(gap * Double(senders))),
                    phase: .nanoseconds(Int64(gap * Double(index))))
            }
            return .flooder(window: window)
        }
        let connections = try await generator.open(count: clients, role: role, purpose: .chat(room: "bench"))
        try await generator.waitUntilReady(clients)

        let serverBefore = try common.serverStats()
        let ownBefore = try ProcessStats.read(pid: nil)
        let start = ContinuousClock.now
        for connection in connections.prefix(senders) { _ = try await connection.onLoop { $0.startSending() } }
        try await Task.sleep(for: .seconds(duration))
        for connection in connections.prefix(senders) { _ = try await connection.onLoop { $0.stopSending() } }
        // Let what was sent arrive: until deliveries stop growing (at most 10 s).
        var last = -1
        var total = try await connections.asyncSum { $0.delivered }
        let drainDeadline = ContinuousClock.now + .seconds(10)
        while total != last, ContinuousClock.now < drainDeadline {
            last = total
            try await Task.sleep(for: .milliseconds(300))
            total = try await connections.asyncSum { $0.delivered }
        }
        let elapsed = ContinuousClock.now - start
        let serverAfter = try common.serverStats()
        let ownAfter = try ProcessStats.read(pid: nil)

        var latencies = BenchConnection.emptyHistogram()
        var sent = 0
        var errors = 0
        for connection in connections {
            let (histogram, sentHere, errorsHere) = try await connection.onLoop { ($0.latencies, $0.sent, $0.errors) }
            latencies.add(histogram)
            sent += sentHere
            errors += errorsHere
        }
        let dropped = generator.counters.dropped.load(ordering: .relaxed)
        for connection in connections { _ = try await connection.onLoop { $0.close() } }
        try await generator.shutdown()

        var report = Report(scenario: "fanout", label: common.label, protocol: common.protocol)
        report["clients"] = .int(clients)
        report["senders"] = .int(senders)
        report["mode"] = .string(rate.map { "rate \($0)/s" } ?? "flood, window \(window)")
        report["sent"] = .int(sent)
        report["delivered"] = .int(total)
        report["expected"] = .int(sent * clients)
        report["deliveredPerSecond"] = .double(Double(total) / elapsed.seconds)
        report["latencyMs"] = .latencies(latencies)
        report["dropped"] = .int(dropped)
        report["errors"] = .int(errors)
        report.addCPU(server: (serverBefore, serverAfter), own: (ownBefore, ownAfter), per: total, unit: "delivery")
        report.print(summary: [
            "\(clients) clients, \(senders) senders (\(rate.map { "\(Int($0)) msg/s" } ?? "flood, window \(window)")),"
                + " \(String(format: "%.1f", duration)) s",
            "delivered \(total) of \(sent * clients) (\(String(format: "%.0f", Double(total) / elapsed.seconds))/s);"
                + " dropped connections \(dropped), errors \(errors)",
            "latency ms: " + Report.describe(latencies),
        ])
    }
}
