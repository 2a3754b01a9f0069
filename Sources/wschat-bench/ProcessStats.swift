import Foundation

/// CPU time and resident memory of a process, read from `/proc`: how a benchmark tells which
/// side was saturated and what a connection costs.
struct ProcessStats: Sendable {
    /// User plus system CPU time.
    let cpu: Duration
    /// Resident set size in bytes.
    let residentBytes: Int

    /// The stats of `pid` (`nil`: this process) now.
    static func read(pid: Int32?) throws -> ProcessStats {
        let path = pid.map { "/proc/\($0)" } ?? "/proc/self"
        let stat = try String(contentsOfFile: path + "/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses and may hold spaces.
        guard let close = stat.lastIndex(of: ")") else { throw BenchError("cannot parse \(path)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else {
            throw BenchError("cannot parse \(path)/stat")
        }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        let status = try String(contentsOfFile: path + "/status", encoding: .utf8)
        let rssKiB =
            status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 0
        return ProcessStats(
            cpu: .nanoseconds(Int64(user + system) * 1_000_000_000 / Int64(ticks)), residentBytes: rssKiB * 1024)
    }
}

/// A benchmark that cannot run, with the reason.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Double { seconds * 1e6 }
}
