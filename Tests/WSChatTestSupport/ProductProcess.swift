import Foundation
import Synchronization

/// One of the package's executables (`wschat-server`, `wschat`), run as a child process
/// with its standard input, output and error in the test's hands.
public final class ProductProcess: Sendable {
    private let process: Process
    private let input: FileHandle
    // Raw bytes: a read can end in the middle of a multi-byte character.
    private let output = Mutex(Data())
    private let errorOutput = Mutex(Data())
    /// How many of stdout and stderr have reached their end.
    private let streamsEnded = Mutex(0)

    /// The folder holding the executables SwiftPM built next to this test bundle.
    public static var productsDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["WSCHAT_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1,
            !FileManager.default.fileExists(atPath: url.appendingPathComponent("wschat-server").path)
        {
            url.deleteLastPathComponent()
        }
        return url
    }

    /// Starts `product`. Unless `environment` says otherwise, `XDG_DATA_HOME` is a new temporary
    /// folder, so that a server's default history database belongs to this launch alone.
    /// `executable` runs a copy of the product from elsewhere.
    public static func launch(
        _ product: String = "wschat-server", arguments: [String], environment: [String: String] = [:],
        executable: URL? = nil
    ) throws -> ProductProcess {
        let process = Process()
        process.executableURL = executable ?? productsDirectory.appendingPathComponent(product)
        process.arguments = arguments
        let dataHome = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-data-\(UUID())").path
        process.environment = ProcessInfo.processInfo.environment.merging(["XDG_DATA_HOME": dataHome]) { $1 }
            .merging(environment) { $1 }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let child = ProductProcess(process: process, input: stdin.fileHandleForWriting)
        Self.collect(stdout, ended: { child.streamsEnded.withLock { $0 += 1 } }) { data in
            child.output.withLock { $0.append(data) }
        }
        Self.collect(stderr, ended: { child.streamsEnded.withLock { $0 += 1 } }) { data in
            child.errorOutput.withLock { $0.append(data) }
        }
        try process.run()
        return child
    }

    /// Reads `pipe` to its end on a thread of its own, blocked in read(2). Not with a
    /// `readabilityHandler`: on Linux, a pipe torn down while its handler's dispatch source is
    /// still registered crashes libdispatch's event loop (`_dispatch_event_loop_drain`,
    /// swift-corelibs-foundation#5507), and that took a whole test run down in CI.
    private static func collect(
        _ pipe: Pipe, ended: @escaping @Sendable () -> Void, append: @escaping @Sendable (Data) -> Void
    ) {
        // The thread holds the handle, so its descriptor stays open until the end is read.
        let reading = pipe.fileHandleForReading
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(reading.fileDescriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    append(Data(buffer[..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            ended()
        }
    }

    private init(process: Process, input: FileHandle) {
        self.process = process
        self.input = input
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    public var standardOutput: String { output.withLock { String(decoding: $0, as: UTF8.self) } }
    public var standardError: String { errorOutput.withLock { String(decoding: $0, as: UTF8.self) } }
    public var outputLines: [String] { standardOutput.split(separator: "\n").map(String.init) }

    /// The resident memory of the running process, from `/proc/PID/status` (`VmRSS`), in bytes.
    public var residentBytes: Int {
        get throws {
            let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            else { throw TestFailure("no VmRSS in /proc/\(process.processIdentifier)/status") }
            return kib * 1024
        }
    }

    /// Types a line on the process's standard input.
    public func writeLine(_ line: String) {
        input.write(Data((line + "\n").utf8))
    }

    /// Ends standard input (as Ctrl-D or the end of a pipe would).
    public func closeInput() {
        try? input.close()
    }

    /// Waits until standard output holds a line for which `matches` is true.
    public func waitForOutput(timeout: Duration = .seconds(20), _ matches: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !outputLines.contains(where: matches) {
            guard ContinuousClock.now < deadline else {
                throw TestFailure(
                    "no expected line within \(timeout); stdout:\n\(standardOutput)\nstderr:\n\(standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The port from the server's "listening" log line.
    public func port(timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let range = standardError.range(of: #"ws://127\.0\.0\.1:(\d+)/ws"#, options: .regularExpression),
                let port = Int(standardError[range].split(separator: ":").last?.split(separator: "/").first ?? "")
            {
                return port
            }
            guard process.isRunning else { throw TestFailure("the server exited: \(standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("the server did not say where it listens: \(standardError)")
    }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// The exit status, once everything the process wrote has been read. The child is
    /// reaped here with waitpid: Foundation's own monitoring did not always notice an exit
    /// in a test process that also runs tmux.
    public func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        let status = try await reap(until: deadline)
        // Another process started meanwhile (by a test running in parallel) may have inherited
        // the pipes' write ends and hold them open: then what was read within 2 s is it.
        let drained = min(deadline, .now + .seconds(2))
        while streamsEnded.withLock({ $0 }) < 2 && ContinuousClock.now < drained {
            try await Task.sleep(for: .milliseconds(10))
        }
        return status
    }

    private func reap(until deadline: ContinuousClock.Instant) async throws -> Int32 {
        let timeout = ContinuousClock.now.duration(to: deadline)
        let pid = process.processIdentifier
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                let exitCode = (status >> 8) & 0xFF
                let signal = status & 0x7F
                return signal == 0 ? exitCode : 128 + signal
            }
            // Foundation reaped it; its `terminationStatus` traps until it has also recorded
            // the exit, which it does a moment later on another thread.
            if reaped == -1 && errno == ECHILD && !process.isRunning { return process.terminationStatus }
            guard ContinuousClock.now < deadline else { throw TestFailure("still running after \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
