import Foundation
import Synchronization

/// The built `wschat-server` executable, run as a child process.
final class ServerProcess: Sendable {
    private let process: Process
    private let errorOutput = Mutex("")

    /// The folder holding the executables SwiftPM built next to this test bundle.
    static var productsDirectory: URL {
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

    static func launch(arguments: [String]) throws -> ServerProcess {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("wschat-server")
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let server = ServerProcess(process: process)
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                server.errorOutput.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
        try process.run()
        return server
    }

    private init(process: Process) {
        self.process = process
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var standardError: String { errorOutput.withLock { $0 } }

    /// The port from the "listening" log line.
    func port(timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let range = standardError.range(of: #"ws://127\.0\.0\.1:(\d+)/ws"#, options: .regularExpression) {
                let url = standardError[range]
                if let port = Int(url.split(separator: ":").last?.split(separator: "/").first ?? "") { return port }
            }
            guard process.isRunning else { throw TestFailure("wschat-server exited: \(standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("wschat-server did not say where it listens: \(standardError)")
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("wschat-server still running after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }
}
