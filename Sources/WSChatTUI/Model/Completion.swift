import WSChatClient

/// Tab completion: nicks (with `: ` at the start of a line), `/commands`, `#rooms`, and a
/// command's first argument by what it names (`SlashCommand.argument`: rooms joined or seen in
/// `/list`, nicks, commands, themes). Repeated Tabs cycle through the candidates.
struct Completion: Equatable, Sendable {
    let range: Range<Int>
    let candidates: [String]
    var index = 0

    static var commandNames: [String] {
        SlashCommand.all.map(\.name).sorted()
    }

    /// Candidates for the word before the caret, or nil when there is nothing to complete.
    static func start(for editor: LineEditor, in model: ChatModel) -> Completion? {
        let (range, word) = editor.wordBeforeCaret
        let atLineStart = range.lowerBound == 0
        var candidates: [String]
        if let kind = argumentKind(before: range.lowerBound, in: editor) {
            // A room typed with its `#` keeps it.
            let hash = word.hasPrefix("#") ? "#" : ""
            let stem = word.dropFirst(hash.count).lowercased()
            candidates = names(of: kind, in: model).filter { $0.lowercased().hasPrefix(stem) }.map { "\(hash)\($0) " }
        } else if word.hasPrefix("/"), atLineStart {
            let stem = word.dropFirst().lowercased()
            candidates = commandNames.filter { $0.hasPrefix(stem) }.map { "/\($0) " }
        } else if word.hasPrefix("#") {
            let stem = word.dropFirst().lowercased()
            candidates = model.buffers.compactMap { buffer in
                if case .room = buffer.kind, buffer.name.lowercased().hasPrefix(stem) {
                    "#\(buffer.name) "
                } else {
                    nil
                }
            }
        } else {
            guard !word.isEmpty else { return nil }
            let stem = word.lowercased()
            var nicks = model.currentBuffer.members
            for buffer in model.buffers { if case .direct = buffer.kind { nicks.append(buffer.name) } }
            candidates = Array(Set(nicks.filter { $0.lowercased().hasPrefix(stem) && $0 != model.nick }))
                .sorted { $0.lowercased() < $1.lowercased() }
                .map { atLineStart ? "\($0): " : "\($0) " }
        }
        guard !candidates.isEmpty else { return nil }
        return Completion(range: range, candidates: candidates)
    }

    /// What the word starting at `start` names, when it is the first argument of a command.
    private static func argumentKind(before start: Int, in editor: LineEditor) -> SlashCommand.ArgumentKind? {
        let before = editor.text.prefix(start)
        guard before.hasPrefix("/"), before.hasSuffix(" ") else { return nil }
        let words = before.split(separator: " ")
        guard words.count == 1 else { return nil }
        return SlashCommand.named(String(words[0].dropFirst()))?.argument
    }

    private static func names(of kind: SlashCommand.ArgumentKind, in model: ChatModel) -> [String] {
        switch kind {
        case .command: return commandNames
        case .theme: return model.themeNames
        case .room:
            var rooms = model.knownRooms
            for buffer in model.buffers { if case .room = buffer.kind { rooms.append(buffer.name) } }
            return Array(Set(rooms)).sorted { $0.lowercased() < $1.lowercased() }
        case .nick:
            var nicks = model.currentBuffer.members
            for buffer in model.buffers { if case .direct = buffer.kind { nicks.append(buffer.name) } }
            return Array(Set(nicks.filter { $0 != model.nick })).sorted { $0.lowercased() < $1.lowercased() }
        case .ignoredNick:
            return model.ignored
        }
    }

    var current: String { candidates[index] }
}
