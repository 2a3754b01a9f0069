import ArgumentParser
import Foundation

/// `wschat-bench`: measures a chat server the way issue #11's goals are stated (fan-out CPU per
/// delivery and latency, memory per idle connection, CPU per handshake, attacks within the
/// limits), against wschat or a plain broadcast server, on loopback only, bounded in time and
/// count.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wschat-bench",
        abstract: "Load a wschat (or plain broadcast) server on this machine and measure it.",
        discussion: """
            Each run prints one JSON line (for scripts) and a summary. Pin the server and the \
            benchmark to different cores (taskset -c 1 SERVER, taskset -c 0 wschat-bench) and give \
            --server-pid so its CPU and memory are read from /proc. docs/PERFORMANCE.md has the \
            scenarios and the numbers.
            """,
        subcommands: [
            FanoutCommand.self, IdleCommand.self, ConnectCommand.self, AttackCommand.self, ClientCommand.self,
        ])
}

/// Options every scenario shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "The server's WebSocket URL (loopback only).")
    var url = "ws://127.0.0.1:8080/ws"

    @Option(help: "wschat (hello, join, say) or raw (a plain broadcast server).")
    var `protocol`: String = "wschat"

    @Option(help: "The server's process id: its CPU and memory are read from /proc.")
    var serverPid: Int32?

    @Option(help: "Event-loop threads of the benchmark itself.")
    var threads = 1

    @Option(help: "A label for this run in the JSON line (which server, which build).")
    var label = ""

    func protocolKind() throws -> BenchProtocol {
        guard let kind = BenchProtocol(rawValue: `protocol`) else {
            throw ValidationError("--protocol is wschat or raw, not \(`protocol`)")
        }
        return kind
    }

    func serverStats() throws -> ProcessStats? {
        try serverPid.map { try ProcessStats.read(pid: $0) }
    }
}
