import WSChatClient
import WSChatProtocol

/// Scrolling back past what a room's buffer holds: the next page of older messages is asked
/// of the server (`history`), with a "loading" line at the top until it comes, and a
/// "beginning of #room" line once the room's first kept message is in.
extension ChatModel {
    static let loadingOlderLine = BufferLine.Content.event("loading older messages…")

    static func beginningLine(of room: String) -> BufferLine.Content {
        .event("── beginning of #\(room) ──")
    }

    /// The view reached the top of a room's buffer: asks for the page before its oldest
    /// message, unless a page is on its way or the beginning is already shown.
    mutating func reachedTop() -> [Effect] {
        guard case .room = currentBuffer.kind, currentBuffer.olderHistory == .more else { return [] }
        let before = currentBuffer.lines.lazy.compactMap(\.id).first
        buffers[current].olderHistory = .loading
        buffers[current].prepend([BufferLine(time: nil, content: Self.loadingOlderLine)])
        return [.perform(.olderHistory(room: currentBuffer.name, before: before))]
    }

    /// A page of older messages: goes above what the buffer holds, where the loading line was;
    /// the view stays on the lines the user was reading.
    mutating func showOlder(_ page: ServerMessage.History) {
        guard let index = index(of: .room(key: Self.key(room: page.room))) else { return }
        removeLoadingLine(in: index)
        // A page that crossed a reconnect may overlap what the buffer got since.
        let oldest = buffers[index].lines.lazy.compactMap(\.id).first ?? .max
        let days = DayChange(timeZone: timeZone)
        var (lines, lastDay) = days.inserting(
            into: page.messages.filter { $0.id < oldest && !isIgnored($0.from) }.map(messageLine), after: nil)
        // Between the page and what the buffer held: a day line if they differ.
        if let lastDay, let next = buffers[index].lines.first(where: { $0.time != nil })?.time, !lastDay.contains(next)
        {
            lines.append(days.line(for: next))
        }
        if page.more {
            buffers[index].olderHistory = .more
        } else {
            lines.insert(BufferLine(time: nil, content: Self.beginningLine(of: buffers[index].name)), at: 0)
            buffers[index].olderHistory = .beginning
        }
        buffers[index].prepend(lines)
    }

    /// The server refused a `history` request: a server older than the request says so once
    /// and is not asked again; after any other error, scrolling up asks again.
    mutating func olderHistoryRefused(_ error: ProtocolError) {
        for index in buffers.indices where buffers[index].olderHistory == .loading {
            removeLoadingLine(in: index)
            if error.code == .unknownType {
                buffers[index].olderHistory = .unsupported
                note(.notice("this server cannot send older messages (it predates the history request)"), in: index)
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
