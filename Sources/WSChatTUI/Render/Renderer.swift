import Foundation
import WSChatClient
import WSChatProtocol

/// Draws a `ChatModel` into a `CellGrid`: the only place that knows what the screen looks
/// like. Every pane is clipped to its own rectangle.
public enum Renderer {
    public struct Frame: Equatable, Sendable {
        public var grid: CellGrid
        /// Where the hardware cursor goes: the input caret (input methods draw there).
        public var cursorX: Int
        public var cursorY: Int
        /// The links on screen, for the terminal to make hyperlinks of.
        public var links: [Link] = []
    }

    /// Cells that show (part of) a link: `text` from column `x` of row `y`.
    public struct Link: Equatable, Sendable {
        public var x: Int
        public var y: Int
        public var text: String
        public var url: String
    }

    public static func render(_ model: ChatModel, now: ContinuousClock.Instant, timeZone: TimeZone = .current) -> Frame
    {
        let layout = model.layout
        var grid = CellGrid(width: layout.width, height: layout.height)
        guard layout.height >= 3 else {
            return Frame(grid: grid, cursorX: 0, cursorY: 0)
        }
        drawTitle(model, layout, &grid)
        drawChannels(model, layout, &grid)
        let links = drawMessages(model, layout, &grid, timeZone: timeZone)
        drawNickList(model, layout, &grid)
        drawStatus(model, layout, &grid, now: now)
        let cursor = drawInput(model, layout, &grid)
        return Frame(grid: grid, cursorX: cursor, cursorY: layout.inputRow, links: links)
    }

    // MARK: Panes

    static func drawTitle(_ model: ChatModel, _ layout: Layout, _ grid: inout CellGrid) {
        let buffer = model.currentBuffer
        var title: String
        switch buffer.kind {
        case .server: title = " \(buffer.name)"
        case .room: title = " #\(buffer.name)" + (buffer.topic.isEmpty ? "" : " — \(buffer.topic)")
        case .direct: title = " \(buffer.name) (direct messages)"
        }
        title = TerminalText.singleLine(title)
        grid.fill(y: 0, from: 0, to: layout.width, style: .key(.title))
        grid.put(title, x: 0, y: 0, style: .key(.title))
    }

    static func drawChannels(_ model: ChatModel, _ layout: Layout, _ grid: inout CellGrid) {
        let width = layout.channelWidth
        guard width > 0 else { return }
        for row in 0..<layout.messageRows {
            grid.fill(y: row + 1, from: 0, to: width - 1, style: .key(.channels))
            grid.put("│", x: width - 1, y: row + 1, style: .key(.border))
        }
        for (index, buffer) in model.buffers.enumerated() where index < layout.messageRows {
            let style: StyleKey
            if index == model.current {
                style = .channelsCurrent
            } else if buffer.highlighted {
                style = .channelsMention
            } else if buffer.unread > 0 {
                style = .channelsUnread
            } else if case .direct = buffer.kind {
                style = .channelsDM
            } else {
                style = .channels
            }
            let y = index + 1
            let mark: String
            switch buffer.kind {
            case .server: mark = ""
            case .room: mark = "#"
            case .direct: mark = "@"
            }
            let count =
                buffer.unread > 0
                ? (buffer.highlighted ? " !\(buffer.unread)" : " \(buffer.unread)") : (buffer.highlighted ? " !" : "")
            // Numbered for Alt-1…9, Alt-0, Alt-J NN and /buffer N; two columns once there are ten.
            let digits = model.buffers.count >= 10 ? 2 : 1
            let label = String(index + 1)
            let number = String(repeating: " ", count: max(0, digits - label.count)) + label + " "
            let room = width - 1 - TextWidth.of(number) - TextWidth.of(count)
            let name = String(TextWidth.prefix(of: TerminalText.singleLine(mark + buffer.name), fitting: max(0, room)))
            grid.fill(y: y, from: 0, to: width - 1, style: .key(style))
            grid.put(number + name, x: 0, y: y, limit: width - 1, style: .key(style))
            grid.put(count, x: width - 1 - TextWidth.of(count), y: y, limit: width - 1, style: .key(style))
        }
    }

    /// The message text's first column and width, right of the channel list's border.
    static func messageText(_ layout: Layout) -> (x: Int, width: Int) {
        let x = layout.messageX + (layout.channelWidth > 0 ? 1 : 0)
        return (x, max(1, layout.nickListX - x))
    }

    /// How far the current buffer can scroll back: until its first line is at the top of the
    /// pane (under it, the "more below" row), and no further.
    static func scrollLimit(_ model: ChatModel) -> Int {
        let layout = model.layout
        let width = messageText(layout).width
        let lines = model.currentBuffer.lines
        let times = TimeColumn(model.timeFormat, timeZone: .current)
        var rows = 0
        for (index, line) in lines.enumerated() {
            rows += format(line, nick: model.nick, width: width, times: times).count
            if rows >= layout.messageRows - 1 { return lines.count - 1 - index }
        }
        return 0
    }

    /// Draws the current buffer's newest rows (above the scroll position); returns where links are.
    static func drawMessages(_ model: ChatModel, _ layout: Layout, _ grid: inout CellGrid, timeZone: TimeZone) -> [Link]
    {
        let buffer = model.currentBuffer
        let (x, width) = messageText(layout)
        let rows = layout.messageRows
        guard rows > 0 else { return [] }

        // Build rows bottom-up until the pane is full; skip `scrollBack` lines first.
        var pane: [[Wrapping.Segment]] = []
        var lineIndex = buffer.lines.count - 1 - buffer.scrollBack
        let showMarker = buffer.readMarker.map { $0 > 0 && $0 < buffer.lines.count } ?? false
        let times = TimeColumn(model.timeFormat, timeZone: timeZone)
        while lineIndex >= 0 && pane.count < rows {
            let formatted = format(
                buffer.lines[lineIndex], nick: model.nick, width: width, times: times, target: buffer.jumpTarget)
            pane.insert(contentsOf: formatted, at: 0)
            if showMarker, lineIndex == buffer.readMarker {
                let rule = String(repeating: "─", count: max(0, (width - 5) / 2))
                pane.insert([(rule + " new " + rule, .key(.chatMarker))], at: 0)
            }
            lineIndex -= 1
        }
        if pane.count > rows { pane.removeFirst(pane.count - rows) }
        if buffer.scrollBack > 0 {
            let below = "── \(buffer.scrollBack) more below ──"
            if pane.count == rows { pane.removeLast() }
            pane.append([(below, .key(.chatMore))])
        }
        var links: [Link] = []
        for (row, segments) in pane.enumerated() {
            var column = x
            for segment in segments {
                let start = column
                column = grid.put(segment.text, x: column, y: row + 1, limit: layout.nickListX, style: segment.style)
                if case .link(let url) = segment.style, column > start {
                    // Only what was drawn: the terminal gets it again, and must not get more.
                    let drawn = String(TextWidth.prefix(of: segment.text, fitting: column - start))
                    links.append(Link(x: start, y: row + 1, text: drawn, url: url))
                }
            }
        }
        return links
    }

    /// The room's members, right of the messages: a count, then the nicks in alphabetical
    /// order (yours first), each in its colour (dimmed while away); what does not fit is
    /// counted on the last row.
    static func drawNickList(_ model: ChatModel, _ layout: Layout, _ grid: inout CellGrid) {
        guard layout.nickListWidth > 0, layout.messageRows > 0 else { return }
        let x = layout.nickListX
        let width = layout.nickListWidth - 1
        for row in 0..<layout.messageRows {
            grid.fill(y: row + 1, from: x, to: layout.width, style: .key(.channels))
            grid.put("│", x: x, y: row + 1, style: .key(.border))
        }
        let ownKey = ChatModel.key(nick: model.nick)
        let members = model.currentBuffer.members.sorted { a, b in
            let (aKey, bKey) = (ChatModel.key(nick: a), ChatModel.key(nick: b))
            return aKey == ownKey || (bKey != ownKey && aKey < bKey)
        }
        let count = members.count == 1 ? "1 nick" : "\(members.count) nicks"
        grid.put(count, x: x + 1, y: 1, limit: layout.width, style: .key(.chatEvent))
        let rows = layout.messageRows - 1
        for (index, nick) in members.enumerated() where index < rows {
            let y = index + 2
            if index == rows - 1, members.count > rows {
                grid.put(
                    "+\(members.count - rows + 1) more", x: x + 1, y: y, limit: layout.width, style: .key(.chatEvent))
                break
            }
            let style: Style =
                ChatModel.key(nick: nick) == ownKey ? .key(.chatNickSelf) : .nick(NickColor.index(for: nick))
            let name = TextWidth.prefix(of: TerminalText.singleLine(nick), fitting: width)
            grid.put(String(name), x: x + 1, y: y, limit: layout.width, style: style)
        }
    }

    /// A buffer line as wrapped rows: `HH:MM nick text`, continuation rows indented.
    /// `target`: the message a `/goto` went to, its time drawn to stand out.
    static func format(
        _ line: BufferLine, nick: String, width: Int, times: TimeColumn, target: Int64? = nil
    ) -> [[Wrapping.Segment]] {
        let time = times.text(line.time) + " "
        let isTarget = target != nil && line.id == target
        var prefix: [Wrapping.Segment] = [(time, .key(isTarget ? .chatMore : .chatTime))]
        var body: [Wrapping.Segment] = []
        let textStyle: Style = line.mentions ? .key(.chatMention) : .key(.chatText)
        switch line.content {
        case .message(let from, let text, let action, _):
            let nickStyle: Style = line.isOwn ? .key(.chatNickSelf) : .nick(NickColor.index(for: from))
            if action {
                prefix.append(("* ", .key(.chatAction)))
                prefix.append((TerminalText.singleLine(from) + " ", nickStyle))
                body = inert(text, style: .key(.chatAction))
            } else {
                prefix.append((TerminalText.singleLine(from) + " ", nickStyle))
                body = inert(text, style: textStyle)
            }
        case .pending(let text, let action, _):
            prefix.append(((action ? "* " : "") + TerminalText.singleLine(nick) + " ", .key(.chatPending)))
            body = inert(text, style: .key(.chatPending))
            body.append((" (sending…)", .key(.chatPending)))
        case .failed(let text, let reason):
            prefix.append(("✗ ", .key(.chatError)))
            body = inert(text, style: .key(.chatError))
            body.append((" — \(reason)", .key(.chatError)))
        case .event(let text):
            prefix.append(("-- ", .key(.chatEvent)))
            body = inert(text, style: .key(.chatEvent))
        case .notice(let text):
            prefix.append(("-- ", .key(.chatNotice)))
            body = inert(text, style: .key(.chatNotice))
        case .error(let text):
            prefix.append(("!! ", .key(.chatError)))
            body = inert(text, style: .key(.chatError))
        case .match(let number, let room, let from, let text):
            prefix = [
                ("[\(number)] ", .key(.chatMarker)),
                (
                    (line.time.map { TimeFormat.isoDate.format($0, timeZone: times.timeZone) + " " } ?? "") + time,
                    .key(.chatTime)
                ),
                ("#" + TerminalText.singleLine(room) + " ", .key(.chatEvent)),
                (TerminalText.singleLine(from) + " ", .nick(NickColor.index(for: from))),
            ]
            body = inert(text, style: textStyle)
        }
        let indent = prefix.reduce(0) { $0 + TextWidth.of($1.text) }
        let longLink = body.contains {
            if case .link = $0.style { TextWidth.of($0.text) > width - indent } else { false }
        }
        if indent * 2 > width || longLink {
            // A narrow pane, or a link longer than the text column: the text flows from the
            // pane's edge, so that a link is never cut up by the indentation.
            return Wrapping.wrap(prefix + body, width: width)
        }
        let wrapped = Wrapping.wrap(body, width: width - indent)
        return wrapped.enumerated().map { index, row in
            (index == 0 ? prefix : [(String(repeating: " ", count: indent), .plain)]) + row
        }
    }

    /// Text as segments: control characters as inert pictures, links in the link style.
    static func inert(_ text: String, style: Style) -> [Wrapping.Segment] {
        var segments: [Wrapping.Segment] = []
        for run in TerminalText.runs(text) {
            guard !run.isControl else {
                segments.append((run.text, .key(.chatControl)))
                continue
            }
            var rest = run.text.startIndex
            for range in Links.ranges(in: run.text) {
                if rest < range.lowerBound { segments.append((String(run.text[rest..<range.lowerBound]), style)) }
                let url = String(run.text[range])
                segments.append((url, .link(url)))
                rest = range.upperBound
            }
            if rest < run.text.endIndex { segments.append((String(run.text[rest...]), style)) }
        }
        return segments
    }

    /// Message times as the user formats them, and the blank that stands in their column on
    /// lines without one (events, notices).
    struct TimeColumn {
        let format: TimeFormat
        let timeZone: TimeZone
        let blank: String

        init(_ format: TimeFormat, timeZone: TimeZone) {
            self.format = format
            self.timeZone = timeZone
            blank = String(repeating: " ", count: TextWidth.of(format.format(0, timeZone: timeZone)))
        }

        func text(_ time: Int64?) -> String {
            time.map { format.format($0, timeZone: timeZone) } ?? blank
        }
    }

    static func drawStatus(_ model: ChatModel, _ layout: Layout, _ grid: inout CellGrid, now: ContinuousClock.Instant) {
        let y = layout.statusRow
        grid.fill(y: y, from: 0, to: layout.width, style: .key(.status))
        if let paste = model.pendingPaste {
            let lines = paste.split(separator: "\n", omittingEmptySubsequences: false).count
            grid.put(" Paste \(lines) lines as one message? [y/n]", x: 0, y: y, style: .key(.statusOffline))
            return
        }
        var segments: [(String, StyleKey)] = [
            (" [\(TerminalText.singleLine(model.nick))] \(TerminalText.singleLine(model.server)) · ", .status)
        ]
        if model.awayReason != nil { segments += [("away", .statusOffline), (" · ", .status)] }
        if model.tlsUnverified {
            segments += [("⚠ TLS unverified", .statusOffline), (" · ", .status)]
        }
        let stateStyle: StyleKey
        switch model.connection {
        case .connected: stateStyle = .statusLag
        case .connecting: stateStyle = .status
        case .reconnecting, .offline: stateStyle = .statusOffline
        }
        segments.append((model.connection.summary(now: now), stateStyle))
        if let jump = model.bufferJump {
            segments.append((" · buffer \(jump)_ (two digits)", .statusOffline))
        }
        let buffer = model.currentBuffer
        if case .room = buffer.kind {
            segments.append((" · #\(TerminalText.singleLine(buffer.name)) (\(buffer.members.count))", .status))
        }
        // What does not fit ends in "…", so that a cut is never mistaken for the whole.
        let fits = segments.reduce(0) { $0 + TextWidth.of($1.0) } <= layout.width
        let limit = fits ? layout.width : layout.width - 1
        var column = 0
        for (text, style) in segments { column = grid.put(text, x: column, y: y, limit: limit, style: .key(style)) }
        if !fits { grid.put("…", x: column, y: y, style: .key(.status)) }
    }

    /// Draws the prompt and the visible part of the input line; returns the caret column.
    static func drawInput(_ model: ChatModel, _ layout: Layout, _ grid: inout CellGrid) -> Int {
        let y = layout.inputRow
        grid.fill(y: y, from: 0, to: layout.width, style: .key(.input))
        let prompt: String
        switch model.currentBuffer.kind {
        case .room: prompt = "#\(TerminalText.singleLine(model.currentBuffer.name))› "
        case .direct: prompt = "@\(TerminalText.singleLine(model.currentBuffer.name))› "
        case .server: prompt = "› "
        }
        let promptEnd = grid.put(
            String(TextWidth.prefix(of: prompt, fitting: layout.width / 2)), x: 0, y: y, style: .key(.inputPrompt))
        let room = max(1, layout.width - promptEnd - 1)
        // What the user types is shown with its newlines (from a paste) as ↵.
        let characters = model.editor.characters.map {
            $0 == "\n" ? "↵" : Character(TerminalText.singleLine(String($0)))
        }
        let caret = model.editor.caret
        var start = 0
        while TextWidth.of(String(characters[start..<caret])) > room { start += 1 }
        let visible = String(characters[start...])
        grid.put(visible, x: promptEnd, y: y, limit: layout.width, style: .key(.input))
        return promptEnd + TextWidth.of(String(characters[start..<caret]))
    }
}

/// A nick's colour: a stable hash of its case-folded spelling, so it is the same in every
/// session and on every machine (Swift's own hashing is seeded per process).
public enum NickColor {
    public static let paletteSize = 12

    public static func index(for nick: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in nick.lowercased().utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return Int(hash % UInt32(paletteSize))
    }
}
