import WSChatClient

/// Tab completion: nicks (with `: ` at the start of a line), `/commands` and `#rooms`.
/// Repeated Tabs cycle through the candidates.
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
        if word.hasPrefix("/"), atLineStart {
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

    var current: String { candidates[index] }
}
