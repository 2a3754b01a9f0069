import ArgumentParser
import Foundation

/// `wschat-bench idle`: N connections past `hello`, doing nothing; what each costs the server
/// in resident memory.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle", abstract: "Hold idle connections and measure the server's memory per connection.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Connections to hold (at most 20000).")
    var connections = 10_000

    @Option(help: "Seconds to let the server settle before measuring.")
    var settle = 2.0

    func run() async throws {
        guard (1...20_000).contains(connections) else { throw ValidationError("--connections is 1 to 20000") }
        guard common.serverPid != nil else { throw ValidationError("idle needs --server-pid to read its memory") }
        let generator = try LoadGenerator(url: common.url, protocol: try common.protocolKind(), threads: common.threads)
        let before = try common.serverStats()!
        let ownBefore = try ProcessStats.read(pid: nil)
        let open = try await generator.open(count: connections, role: { _ in .listener }, purpose: .idle)
        try await generator.waitUntilReady(connections)
        try await Task.sleep(for: .seconds(settle))
        let after = try common.serverStats()!
        let ownAfter = try ProcessStats.read(pid: nil)
        let perConnection = Double(after.residentBytes - before.residentBytes) / Double(connections)
        for connection in open { _ = try await connection.onLoop { $0.close() } }
        try await generator.shutdown()

        var report = Report(scenario: "idle", label: common.label, protocol: common.protocol)
        report["connections"] = .int(connections)
        report["serverRSSBeforeMiB"] = .double(Double(before.residentBytes) / 1_048_576)
        report["serverRSSAfterMiB"] = .double(Double(after.residentBytes) / 1_048_576)
        report["serverKiBPerConnection"] = .double(perConnection / 1024)
        report["benchKiBPerConnection"] = .double(
            Double(ownAfter.residentBytes - ownBefore.residentBytes) / Double(connections) / 1024)
        report.print(summary: [
            "\(connections) idle connections: server RSS \(before.residentBytes >> 20) → \(after.residentBytes >> 20) MiB,"
                + " \(String(format: "%.1f", perConnection / 1024)) KiB per connection"
        ])
    }
}
