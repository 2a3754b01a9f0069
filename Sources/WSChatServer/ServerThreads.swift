import Foundation
import NIOCore

/// How many event loops a server process runs: one per CPU the process may run on.
///
/// NIO sizes its shared event-loop group from the machine's CPUs and cgroup quotas, not from
/// the process's affinity mask, so a server started with `taskset -c 1` (or in a cpuset that
/// NIO does not read) ran two loops on one core and paid a thread switch for every connection
/// the accepting loop handed to the other: about a fifth of the server's CPU per handshake.
public enum ServerThreads {
    /// Sizes NIO's shared group; call before anything uses it.
    public static func fitToAllowedCPUs() {
        NIOSingletons.groupLoopCountSuggestion = max(1, min(System.coreCount, allowedCPUs ?? System.coreCount))
    }

    /// The CPUs in the process's affinity mask, where the system says.
    static var allowedCPUs: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return allowedCPUs(inStatus: status)
    }

    /// The CPUs in the `Cpus_allowed` mask (hexadecimal, in comma-separated groups) of a
    /// `/proc/PID/status` text; nil when it has none.
    static func allowedCPUs(inStatus status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else {
            return nil
        }
        let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { count, digit in
            count + (digit.hexDigitValue?.nonzeroBitCount ?? 0)
        }
        return count > 0 ? count : nil
    }
}
