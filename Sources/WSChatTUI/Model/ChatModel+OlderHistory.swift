import WSChatClient
import WSChatProtocol

/// Scrolling back past what a room's or a DM's buffer holds: the next page of older messages
/// is asked of the server (`history`, `dm_history`), with a "loading" line at the top until it
/// comes, and a "beginning" line once the first kept message is in. A DM buffer asks for its
/// latest page as soon as it opens (a room's comes with its join).
extension ChatModel {
    static let loadingOlderLine = BufferLine.Content.event("loading older messages…")

    static func beginningLine(of room: String) -> BufferLine.Content {
        .event("── beginning of #\(room) ──")
    }

    static func beginningLine(with peer: String) -> BufferLine.Content {
        .event("── beginning of your direct messages with \(peer) ──")
    }

    /// The view reached the top of a buffer: asks for the page before its oldest message,
    /// unless a page is on its way or the beginning is already shown.
    mutating func reachedTop() -> [Effect] {
        askOlder(in: current, before: currentBuffer.lines.lazy.compactMap(\.id).first)
    }

    /// Asks for the page of the room or conversation in buffer `index` before `before` (the
    /// newest when nil), shown by a loading line until it comes.
    mutating func askOlder(in index: Int, before: Int64?) -> [Effect] {
        guard buffers[index].olderHistory == .more else { return [] }
        let name = buffers[index].name
        let command: UserCommand
        switch buffers[index].kind {
        case .room: command = .olderHistory(room: name, before: before)
        case .direct where serverKeepsConversations: command = .olderDirectMessages(with: name, before: before)
        default: return []
        }
        buffers[index].olderHistory = .loading
        buffers[index].prepend([BufferLine(time: nil, content: Self.loadingOlderLine)])
        return [.perform(command)]
    }

    /// A page of a room's older messages: goes above what the buffer holds, where the loading
    /// line was; the view stays on the lines the user was reading.
    mutating func showOlder(_ page: ServerMessage.History) {
        guard let index = index(of: .room(key: Self.key(room: page.room))) else { return }
        putAbove(page.messages.map(messageLine), more: page.more, in: index, beginning: Self.beginningLine(of:))
    }

    /// A page of the user's older direct messages with someone, as `showOlder` for a room.
    mutating func showOlder(_ page: ServerMessage.DirectHistory) {
        guard let index = index(of: .direct(key: Self.key(nick: page.with))) else { return }
        putAbove(page.messages.map(directLine), more: page.more, in: index, beginning: Self.beginningLine(with:))
    }

    private mutating func putAbove(
        _ page: [BufferLine], more: Bool, in index: Int, beginning: (String) -> BufferLine.Content
    ) {
        removeLoadingLine(in: index)
        // A page that crossed a reconnect may overlap what the buffer got since.
        let oldest = buffers[index].lines.lazy.compactMap(\.id).first ?? .max
        let days = DayChange(timeZone: timeZone)
        let older = page.filter { line in
            guard let id = line.id, id < oldest else { return false }
            if case .message(let from, _, _, _) = line.content { return !isIgnored(from) }
            return true
        }
        var (lines, lastDay) = days.inserting(into: older, after: nil)
        // Between the page and what the buffer held: a day line if they differ.
        if let lastDay, let next = buffers[index].lines.first(where: { $0.time != nil })?.time, !lastDay.contains(next)
        {
            lines.append(days.line(for: next))
        }
        if more {
            buffers[index].olderHistory = .more
        } else {
            lines.insert(BufferLine(time: nil, content: beginning(buffers[index].name)), at: 0)
            buffers[index].olderHistory = .beginning
        }
        buffers[index].prepend(lines)
    }

    /// The server refused a `history` (`conversation` false) or `dm_history` request: a server
    /// older than the request says so once and is not asked again, nor is a server that keeps
    /// no direct messages for this client; after any other error, scrolling up asks again.
    mutating func olderHistoryRefused(_ error: ProtocolError, conversation: Bool) {
        let unsupported = error.code == .unknownType || (conversation && error.code == .badRequest)
        if conversation && unsupported { serverKeepsConversations = false }
        for index in buffers.indices where buffers[index].olderHistory == .loading {
            let isDirect = if case .direct = buffers[index].kind { true } else { false }
            guard isDirect == conversation else { continue }
            removeLoadingLine(in: index)
            if unsupported {
                buffers[index].olderHistory = .unsupported
                let what = conversation ? "earlier direct messages" : "older messages"
                let why =
                    error.code == .unknownType
                    ? "it predates the \(conversation ? "dm_history" : "history") request" : error.message
                note(.notice("this server cannot send \(what) (\(why))"), in: index)
            } else {
                buffers[index].olderHistory = .more
            }
        }
    }

    /// A request cut off by a lost connection is never answered: scrolling up asks again.
    mutating func forgetOlderHistoryRequests() {
        for index in buffers.indices where buffers[index].olderHistory == .loading {
            removeLoadingLine(in: index)
            buffers[index].olderHistory = .more
        }
    }

    private mutating func removeLoadingLine(in index: Int) {
        guard buffers[index].lines.first?.content == Self.loadingOlderLine else { return }
        buffers[index].removeFirstLine()
    }

    /// A direct message as a buffer line.
    func directLine(_ message: DirectMessage) -> BufferLine {
        var line = BufferLine(
            time: message.ts,
            content: .message(from: message.from, text: message.text, action: false, cid: message.cid),
            isOwn: Self.key(nick: message.from) == Self.key(nick: nick))
        line.id = message.id
        return line
    }

    /// A room message as a buffer line, its nick's mention marked.
    func messageLine(_ message: ChatMessage) -> BufferLine {
        let own = Self.key(nick: message.from) == Self.key(nick: nick)
        var line = BufferLine(
            time: message.ts,
            content: .message(from: message.from, text: message.text, action: message.action == true, cid: message.cid),
            isOwn: own)
        line.id = message.id
        line.mentions = !own && highlights(message.text)
        return line
    }
}

/// `/goto N`: a search match shown where it was said, in its room's buffer: scrolled to if
/// the buffer holds it, else the pages between the buffer's oldest message and it are
/// fetched first (as scrolling up would), as far back as the buffer's scrollback reaches.
extension ChatModel {
    /// Lines shown under the match, so that it is read with what followed it.
    static let jumpContext = 5

    mutating func goToMatch(number: Int) -> [Effect] {
        guard searchMatches.indices.contains(number - 1) else {
            note(
                .error(
                    searchMatches.isEmpty
                        ? "no search to go to: /search TEXT lists numbered matches first"
                        : "no match \(number): the last search found \(searchMatches.count)"))
            return []
        }
        let match = searchMatches[number - 1]
        guard let index = index(of: .room(key: Self.key(room: match.room))) else {
            note(.error("match \(number) is in #\(match.room): /join \(match.room), then /goto \(number) again"))
            return []
        }
        switchTo(index)
        return jump(to: Jump(roomKey: Self.key(room: match.room), id: match.id), in: index)
    }

    /// A page of older messages came: the jump waiting for it goes on.
    mutating func continueJump(after page: ServerMessage.History) -> [Effect] {
        guard let jump = pendingJump, jump.roomKey == Self.key(room: page.room),
            let index = index(of: .room(key: jump.roomKey))
        else { return [] }
        return self.jump(to: jump, in: index)
    }

    private mutating func jump(to jump: Jump, in index: Int) -> [Effect] {
        pendingJump = nil
        let lines = buffers[index].lines
        if let position = lines.lastIndex(where: { $0.id == jump.id }) {
            buffers[index].jumpTarget = jump.id
            buffers[index].scrollBack = max(0, lines.count - 1 - position - Self.jumpContext)
            return []
        }
        guard let oldest = lines.lazy.compactMap(\.id).first, jump.id < oldest else {
            note(
                .error(
                    "that message is no longer in #\(buffers[index].name) (deleted, or the room's history was pruned)"))
            return []
        }
        let distance = oldest - jump.id
        guard Int(distance) + lines.count <= buffers[index].maxLines else {
            note(
                .error(
                    "that message is about \(distance) messages before what #\(buffers[index].name) shows, and "
                        + "the buffer keeps \(buffers[index].maxLines) lines: raise scrollback in config.toml to go there"
                ))
            return []
        }
        switch buffers[index].olderHistory {
        case .beginning:
            note(.error("that message is no longer in #\(buffers[index].name) (the room's history was pruned)"))
            return []
        case .unsupported:
            note(.error("this server cannot send older messages, so the match cannot be shown in its room"))
            return []
        case .loading:
            pendingJump = jump  // the page on its way is looked at first
            return []
        case .more:
            pendingJump = jump
            buffers[index].olderHistory = .loading
            buffers[index].prepend([BufferLine(time: nil, content: Self.loadingOlderLine)])
            let limit = min(ClientMessage.maxHistoryLimit, Int(distance) + Self.jumpContext * 4)
            return [.perform(.olderHistory(room: buffers[index].name, before: oldest, limit: limit))]
        }
    }
}
