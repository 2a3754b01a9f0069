import Foundation
import Synchronization
import WSChatClient
import WSChatProtocol

/// Every buffer of the terminal UI kept in a file, as IRC clients do:
/// `$XDG_DATA_HOME/wschat/logs/SERVER/ROOM.log` (a DM with bob: `@bob.log`), one line per
/// message or event, times in ISO 8601 (UTC). History the server shows again (after a
/// restart of the client, or a rejoin) is not written twice: a history message no newer
/// than the last message a file holds is left out. (Live messages are new by definition:
/// the engine never reports one twice.)
public final class ChatLogs: Sendable {
    private let directory: URL
    private let state = Mutex(State())

    private struct State {
        var nick = ""
        /// Per file: the time of the newest message written to it (read from the file when
        /// it is first used).
        var newest: [String: Date] = [:]
        /// The files written to, kept open: a busy room writes a line per message.
        var open: [String: FileHandle] = [:]
        /// Each buffer's file, named once.
        var files: [String: URL] = [:]
    }

    /// Files kept open at most; past it they are all closed, and reopened as they are written.
    static let maxOpenFiles = 64

    /// Logs for the server at `url` under `root` (`$XDG_DATA_HOME/wschat/logs`).
    public init(root: URL, url: String) {
        directory = root.appendingPathComponent(Self.folderName(for: url))
    }

    /// Where the logs go unless told: `$XDG_DATA_HOME/wschat/logs`.
    public static func defaultRoot(environment: [String: String]) -> URL {
        let data =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/share")
        return URL(fileURLWithPath: data).appendingPathComponent("wschat/logs")
    }

    /// Writes what `event` adds to buffers, each file opened once however many lines it gets
    /// (a join brings up to a thousand). Failures to write are not the chat's problem: the
    /// lines are dropped, the chat goes on.
    public func record(_ event: EngineEvent) {
        var byFile: [(url: URL, entries: [Entry])] = []
        for entry in state.withLock({ Self.lines(for: event, state: &$0) }) {
            let url = fileURL(for: entry.buffer)
            if let index = byFile.firstIndex(where: { $0.url == url }) {
                byFile[index].entries.append(entry)
            } else {
                byFile.append((url, [entry]))
            }
        }
        for file in byFile { append(file.entries, to: file.url) }
    }

    private func fileURL(for buffer: String) -> URL {
        state.withLock { state in
            if let url = state.files[buffer] { return url }
            let url = directory.appendingPathComponent(Self.fileName(for: buffer))
            if state.files.count >= 1000 { state.files = [:] }
            state.files[buffer] = url
            return url
        }
    }

    // MARK: Lines

    /// A line for a buffer's file; `time` is set for messages, and `isHistory` for those the
    /// server shows again on a join.
    struct Entry {
        let buffer: String
        let line: String
        var time: Date?
        var isHistory = false
    }

    /// A line for each buffer `event` touches.
    private static func lines(for event: EngineEvent, state: inout State) -> [Entry] {
        guard case .server(let message, _) = event else { return [] }
        let now = Date()
        switch message {
        case .welcome(let welcome):
            state.nick = welcome.nick
            return []
        case .joined(let joined):
            return joined.history.map {
                var entry = line(for: $0)
                entry.isHistory = true
                return entry
            }
        case .message(let chat):
            return [line(for: chat)]
        case .dm(let dm):
            let peer = Nick.same(dm.from, state.nick) ? dm.to : dm.from
            let time = date(dm.ts)
            let text = "\(stamp(time)) <\(TerminalText.singleLine(dm.from))> \(TerminalText.singleLine(dm.text))"
            return [Entry(buffer: "@" + peer, line: text, time: time)]
        case .presence(let presence):
            let verb =
                switch presence.event {
                case .join: "joined"
                case .part: "left"
                case .quit: "quit"
                }
            let reason = presence.reason.map { " (\(TerminalText.singleLine($0)))" } ?? ""
            return [
                Entry(
                    buffer: presence.room,
                    line: "\(stamp(now)) -- \(TerminalText.singleLine(presence.nick)) \(verb)\(reason)")
            ]
        case .topic(let change):
            return [
                Entry(
                    buffer: change.room,
                    line:
                        "\(stamp(now)) -- \(TerminalText.singleLine(change.by)) set the topic: \(TerminalText.singleLine(change.topic))"
                )
            ]
        case .nick(let old, let new):
            if Nick.same(old, state.nick) { state.nick = new }
            return []
        default:
            return []
        }
    }

    private static func line(for message: ChatMessage) -> Entry {
        let time = date(message.ts)
        let from = TerminalText.singleLine(message.from)
        let text = TerminalText.singleLine(message.text)
        let body = message.action == true ? "* \(from) \(text)" : "<\(from)> \(text)"
        return Entry(buffer: message.room, line: "\(stamp(time)) \(body)", time: time)
    }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func stamp(_ date: Date) -> String { date.formatted(timeStyle) }

    /// A folder name for a server URL: its host and port, with nothing a path could misread.
    static func folderName(for url: String) -> String {
        let components = URLComponents(string: url)
        let host = components?.host ?? url
        let name = components?.port.map { "\(host)_\($0)" } ?? host
        return String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// A file name for a buffer: the room's folded name, or `@` and the peer's.
    static func fileName(for buffer: String) -> String {
        let dm = buffer.hasPrefix("@")
        let name = dm ? String(buffer.dropFirst()) : buffer
        let key = dm ? Nick.key(of: name) : RoomName.key(of: name)
        let safe = String(key.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
        return (dm ? "@" : "") + (safe.hasPrefix(".") ? "_" + safe.dropFirst() : safe) + ".log"
    }

    // MARK: Files

    /// Appends `entries` to the log at `url`, leaving out history no newer than what the
    /// file held before.
    private func append(_ entries: [Entry], to url: URL) {
        let key = url.path
        state.withLock { state in
            let newestBefore = state.newest[key] ?? Self.newestMessage(in: url)
            var newest = newestBefore
            var text = ""
            for entry in entries {
                if let time = entry.time {
                    if entry.isHistory, let newestBefore, time <= newestBefore { continue }
                    newest = max(time, newest ?? time)
                }
                text += entry.line + "\n"
            }
            state.newest[key] = newest
            guard !text.isEmpty, let handle = openFile(url, in: &state) else { return }
            do {
                try handle.write(contentsOf: Data(text.utf8))
            } catch {
                // Reopened next time (the file may have been moved away, the disk full).
                try? handle.close()
                state.open[key] = nil
            }
        }
    }

    /// The open file for `url`, opened for appending (and created) when first written.
    private func openFile(_ url: URL, in state: inout State) -> FileHandle? {
        if let handle = state.open[url.path] { return handle }
        if state.open.count >= Self.maxOpenFiles {
            for handle in state.open.values { try? handle.close() }
            state.open = [:]
        }
        guard (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil
        else { return nil }
        // O_APPEND: two clients logging the same room add lines, never overwrite each other's.
        let descriptor = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        state.open[url.path] = handle
        return handle
    }

    /// The time of the last message line of a log (event lines start with the time too, but
    /// are followed by "--").
    static func newestMessage(in url: URL) -> Date? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 8192 ? size - 8192 : 0)
        guard let data = try? handle.readToEnd() else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").reversed() {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, parts[1] != "--", let date = try? timeStyle.parse(String(parts[0])) else {
                continue
            }
            return date
        }
        return nil
    }
}
