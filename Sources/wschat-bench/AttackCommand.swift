import ArgumentParser
import Foundation
import Histogram

/// `wschat-bench attack`: issue #11's two attacks that stay inside every limit, from one
/// address, while witnesses chat in a room of their own: how late the witnesses' messages
/// arrive, whether any was refused, and how the server's memory moves.
struct AttackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Attack a wschat server within its limits and measure what witnesses in another room notice.",
        discussion: """
            pullers: each attacker says 56 lines of 4 KB in room "big", then asks for its whole \
            history (join with since 0) every 110 ms. pingers: each attacker stops reading, then \
            sends 1100 pings of 400 bytes. Run the server at its default limits: the point is \
            what a client can do without breaking one.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case pullers
        case pingers
    }

    @OptionGroup var common: CommonOptions

    @Option(help: "pullers or pingers.")
    var kind: Kind

    @Option(help: "Attacking connections (with the witnesses, within the server's per-address cap).")
    var attackers = 18

    @Option(help: "Witnesses, chatting in a room of their own, one message every 200 ms each.")
    var witnesses = 2

    @Option(help: "Seconds of attack (at most 120).")
    var duration = 12.0

    @Option(help: "Seconds to wait after the attackers are gone before the server's memory is read again.")
    var settle = 2.0

    func validate() throws {
        guard (1...1000).contains(attackers), (1...100).contains(witnesses) else {
            throw ValidationError("--attackers is 1 to 1000 and --witnesses 1 to 100")
        }
        guard duration > 0, duration <= 120 else { throw ValidationError("--duration is 0 to 120 seconds") }
        guard common.serverPid != nil else { throw ValidationError("attack needs --server-pid to read its memory") }
        guard try common.protocolKind() == .wschat else {
            throw ValidationError("attack speaks --protocol wschat only")
        }
    }

    func run() async throws {
        // Two generators, so that attackers the server drops are not counted as witnesses.
        let witnessLoad = try LoadGenerator(url: common.url, protocol: .wschat, threads: 1)
        let attackLoad = try LoadGenerator(url: common.url, protocol: .wschat, threads: common.threads)
        let watching = try await witnessLoad.open(
            count: witnesses,
            role: { [witnesses] index in
                .paced(interval: .milliseconds(200), phase: .milliseconds(Int64(200 * index / witnesses)))
            }, purpose: .chat(room: "witness"))
        try await witnessLoad.waitUntilReady(witnesses)
        let attacking: [OpenConnection]
        switch kind {
        case .pullers:
            attacking = try await attackLoad.open(
                count: attackers, role: { _ in .puller(interval: .milliseconds(110), seedLines: 56, lineBytes: 4000) },
                purpose: .chat(room: "big"))
        case .pingers:
            attacking = try await attackLoad.open(
                count: attackers, role: { _ in .pinger(count: 1100, bytes: 400) }, purpose: .idle)
        }
        try await attackLoad.waitUntilReady(attackers)

        let before = try common.serverStats()!
        for connection in watching + attacking { _ = try await connection.onLoop { $0.startSending() } }
        var peak = before.residentBytes
        let end = ContinuousClock.now + .seconds(duration)
        while ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(50))
            peak = max(peak, try common.serverStats()!.residentBytes)
        }
        for connection in watching + attacking { _ = try await connection.onLoop { $0.stopSending() } }
        let pulls = try await attacking.asyncSum { $0.joins }
        for connection in attacking { _ = try await connection.onLoop { $0.close() } }
        try await attackLoad.shutdown()
        // The witnesses' last messages arrive meanwhile.
        try await Task.sleep(for: .seconds(settle))
        let after = try common.serverStats()!

        var latencies = BenchConnection.emptyHistogram()
        for connection in watching { latencies.add(try await connection.onLoop { $0.latencies }) }
        let sent = try await watching.asyncSum { $0.sent }
        let delivered = try await watching.asyncSum { $0.delivered }
        let refused = try await watching.asyncSum { $0.errors }
        let dropped = witnessLoad.counters.dropped.load(ordering: .relaxed)
        for connection in watching { _ = try await connection.onLoop { $0.close() } }
        try await witnessLoad.shutdown()

        var report = Report(scenario: "attack", label: common.label, protocol: common.protocol)
        report["kind"] = .string(kind.rawValue)
        report["attackers"] = .int(attackers)
        report["witnesses"] = .int(witnesses)
        report["witnessSent"] = .int(sent)
        report["witnessDelivered"] = .int(delivered)
        report["witnessExpected"] = .int(sent * witnesses)
        report["witnessErrors"] = .int(refused)
        report["witnessesDropped"] = .int(dropped)
        report["witnessLatencyMs"] = .latencies(latencies)
        if kind == .pullers { report["historyPulls"] = .int(pulls) }
        report["serverRSSBeforeMiB"] = .double(Double(before.residentBytes) / 1_048_576)
        report["serverRSSPeakMiB"] = .double(Double(peak) / 1_048_576)
        report["serverRSSAfterMiB"] = .double(Double(after.residentBytes) / 1_048_576)
        report.print(summary: [
            "\(attackers) \(kind.rawValue), \(witnesses) witnesses, \(String(format: "%.1f", duration)) s"
                + (kind == .pullers ? ", \(pulls) history pulls answered" : ""),
            "witnesses: delivered \(delivered) of \(sent * witnesses), errors \(refused), dropped \(dropped);"
                + " latency ms: " + Report.describe(latencies),
            "server RSS \(before.residentBytes >> 20) MiB, peak \(peak >> 20) MiB,"
                + " \(after.residentBytes >> 20) MiB once the attackers were gone",
        ])
    }
}

extension Array where Element == OpenConnection {
    /// The sum of `value` over the connections, each read on its own event loop.
    func asyncSum(_ value: @escaping @Sendable (BenchConnection) -> Int) async throws -> Int {
        var total = 0
        for connection in self { total += try await connection.onLoop(value) }
        return total
    }
}
