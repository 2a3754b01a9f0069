import ArgumentParser
import Foundation

/// `wschat-bench idle`: N connections past `hello`, doing nothing; what each costs the server
/// in resident memory.
///
/// What each costs is measured past a warm-up: the first connections also fault in the code
/// and library pages that serving any connection needs, and make the server's tables grow
/// from nothing, which is a cost of the process, not of each connection. The figure from
/// before the warm-up is reported beside it.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle", abstract: "Hold idle connections and measure the server's memory per connection.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Connections to hold, past the warm-up (at most 20000 in all).")
    var connections = 10_000

    @Option(help: "Connections opened first, and held, before the memory per connection is measured.")
    var warmup = 200

    @Option(help: "Seconds to let the server settle before measuring.")
    var settle = 2.0

    func run() async throws {
        guard connections >= 1, warmup >= 0, connections + warmup <= 20_000 else {
            throw ValidationError("--connections is at least 1, --warmup at least 0, and both together at most 20000")
        }
        guard common.serverPid != nil else { throw ValidationError("idle needs --server-pid to read its memory") }
        let generator = try LoadGenerator(url: common.url, protocol: try common.protocolKind(), threads: common.threads)
        let start = try common.serverStats()!
        let warm = try await generator.open(count: warmup, role: { _ in .listener }, purpose: .idle)
        try await generator.waitUntilReady(warmup)
        try await Task.sleep(for: .seconds(settle))
        let before = try common.serverStats()!
        let ownBefore = try ProcessStats.read(pid: nil)
        let open = try await generator.open(count: connections, from: warmup, role: { _ in .listener }, purpose: .idle)
        try await generator.waitUntilReady(warmup + connections)
        try await Task.sleep(for: .seconds(settle))
        let after = try common.serverStats()!
        let ownAfter = try ProcessStats.read(pid: nil)
        let perConnection = Double(after.residentBytes - before.residentBytes) / Double(connections)
        let perConnectionFromStart =
            Double(after.residentBytes - start.residentBytes) / Double(warmup + connections)
        for connection in warm + open { _ = try await connection.onLoop { $0.close() } }
        try await generator.shutdown()

        var report = Report(scenario: "idle", label: common.label, protocol: common.protocol)
        report["connections"] = .int(connections)
        report["warmup"] = .int(warmup)
        report["serverRSSStartMiB"] = .double(Double(start.residentBytes) / 1_048_576)
        report["serverRSSBeforeMiB"] = .double(Double(before.residentBytes) / 1_048_576)
        report["serverRSSAfterMiB"] = .double(Double(after.residentBytes) / 1_048_576)
        report["serverKiBPerConnection"] = .double(perConnection / 1024)
        report["serverKiBPerConnectionFromStart"] = .double(perConnectionFromStart / 1024)
        report["benchKiBPerConnection"] = .double(
            Double(ownAfter.residentBytes - ownBefore.residentBytes) / Double(connections) / 1024)
        report.print(summary: [
            "\(connections) idle connections after \(warmup) to warm up: server RSS \(before.residentBytes >> 20)"
                + " → \(after.residentBytes >> 20) MiB, \(String(format: "%.2f", perConnection / 1024)) KiB per connection"
                + " (\(String(format: "%.2f", perConnectionFromStart / 1024)) KiB counted from the server's start,"
                + " \(start.residentBytes >> 20) MiB)"
        ])
    }
}
