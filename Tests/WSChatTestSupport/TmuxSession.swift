import Foundation

/// A real terminal for end-to-end UI tests: a detached tmux session of a fixed size on a
/// private tmux server, typed into with send-keys and read with capture-pane.
public final class TmuxSession: Sendable {
    public let socket: String
    public let name = "wschat"

    /// Starts `command` in a new session, `width`×`height`, with `TERM=xterm-256color`.
    public static func start(
        _ command: [String], width: Int = 100, height: Int = 30, environment: [String: String] = [:]
    ) throws -> TmuxSession {
        let session = TmuxSession(socket: "wschat-test-\(UUID().uuidString.prefix(8))")
        let variables = ["TERM": "xterm-256color", "LANG": "C.UTF-8"].merging(environment) { $1 }
        let env = ["env"] + variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        try session.tmux(
            ["new-session", "-d", "-s", session.name, "-x", "\(width)", "-y", "\(height)"] + env + command)
        try session.tmux(["set-option", "-t", session.name, "remain-on-exit", "on"])
        return session
    }

    private init(socket: String) {
        self.socket = socket
    }

    deinit {
        _ = try? tmux(["kill-server"])
    }

    /// Types text literally (CJK and emoji included).
    public func type(_ text: String) throws {
        try tmux(["send-keys", "-t", name, "-l", text])
    }

    /// Presses keys by tmux name: `Enter`, `C-n`, `M-2`, `PageUp`, `Tab`.
    public func press(_ keys: String...) throws {
        try tmux(["send-keys", "-t", name] + keys)
    }

    /// Sends a bracketed paste, as a terminal does when the user pastes.
    public func paste(_ text: String) throws {
        try tmux(["set-buffer", "-b", "paste", text])
        try tmux(["paste-buffer", "-p", "-b", "paste", "-t", name])
    }

    public func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// The screen as text.
    public func screen() throws -> String {
        try tmux(["capture-pane", "-p", "-t", name])
    }

    /// The screen with its colours and attributes, as SGR escape sequences.
    public func screenWithColours() throws -> String {
        try tmux(["capture-pane", "-e", "-p", "-t", name])
    }

    /// A tmux format for the pane, e.g. `#{pane_title}` or `#{alternate_on}`.
    public func display(_ format: String) throws -> String {
        try tmux(["display-message", "-p", "-t", name, format]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits until the screen satisfies `condition`; fails with the screen if it never does.
    @discardableResult
    public func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), _ condition: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("\(what): not on screen within \(timeout). Screen:\n\(last)")
    }

    @discardableResult
    public func waitFor(_ text: String, timeout: Duration = .seconds(20)) async throws -> String {
        try await waitUntil("\"\(text)\"", timeout: timeout) { $0.contains(text) }
    }

    /// Runs a tmux command and returns what it printed. The first command forks the tmux
    /// server, which would inherit this thread's signal mask (a Swift test process blocks
    /// signals on its threads) and then never notice its panes' programs exit: so tmux is
    /// spawned with an empty mask and default handlers, and reaped here. Output goes to a
    /// file, since the server would hold a pipe open for as long as it lives.
    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let argv = ["tmux", "-u", "-f", "/dev/null", "-L", socket] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        cStrings.append(nil)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "tmux", &actions, &attributes, cStrings, environ)
        guard spawned == 0 else { throw TestFailure("cannot run tmux (\(spawned)): is it installed?") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestFailure("tmux \(arguments.joined(separator: " ")) failed (status \(status))")
        }
        return output
    }
}
