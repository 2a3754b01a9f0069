import WSChatClient
import WSChatProtocol

extension ChatModel {
    /// Folds one engine event into the model; returns `[.bell]` when it deserves one.
    mutating func apply(_ event: EngineEvent) -> [Effect] {
        switch event {
        case .state(let state):
            let previous = connection
            connection = state
            switch (previous, state) {
            case (_, .offline(let reason)) where reason != "quit":
                note(.error("offline: \(reason)"), in: 0)
            case (.connected, .reconnecting(_, _, let error)):
                // The countdown belongs to the status bar, drawn with the time of each frame: a
                // line in the scrollback cannot keep one true.
                note(.error("disconnected: \(error); reconnecting (see the status bar)"))
            case (.connecting(attempt: 0), .reconnecting(_, _, let error)) where !everConnected:
                explainUnreachable(error)
            default:
                break
            }
            return []
        case .notice(let text):
            note(.notice(text))
            return []
        case .olderHistoryNotShown(let room):
            note(.notice(EngineEvent.olderHistoryNotice(room: room)), in: roomBuffer(room))
            return []
        case .pending(let message):
            let index = bufferIndex(for: message.target)
            pendingCIDs.insert(message.cid)
            append(
                BufferLine(
                    time: nil, content: .pending(text: message.text, action: message.action, cid: message.cid),
                    isOwn: true), to: index)
            return []
        case .failed(let message, let error):
            settle(message, as: .failed(text: message.text, reason: "\(error.code.rawValue): \(error.message)"))
            return []
        case .undelivered(let message):
            settle(message, as: .failed(text: message.text, reason: "not delivered"))
            return []
        case .server(let message, _):
            return apply(message)
        }
    }

    private mutating func apply(_ message: ServerMessage) -> [Effect] {
        switch message {
        case .welcome(let welcome):
            everConnected = true
            forgetOlderHistoryRequests()
            serverKeepsConversations = true
            maxMessageBytes = welcome.limits.maxMessageBytes
            nick = welcome.nick
            server = welcome.server
            buffers[0].name = welcome.server
            note(.notice("connected to \(welcome.server) as \(welcome.nick)"), in: 0)
            if let motd = welcome.motd { note(.notice(motd), in: 0) }
        case .joined(let joined):
            roomsToJoin = []
            let index = roomBuffer(joined.room)
            buffers[index].name = joined.room
            buffers[index].topic = joined.topic
            buffers[index].members = joined.members
            buffers[index].away = Set((joined.away ?? []).map { Self.key(nick: $0) })
            for message in joined.history where !isIgnored(message.from) { _ = show(message, in: index, live: false) }
            if let wanted = switchToRoom, Self.key(room: wanted) == Self.key(room: joined.room) {
                switchToRoom = nil
                switchTo(index)
            } else if case .server = currentBuffer.kind {
                switchTo(index)  // at start, show the first room rather than the server buffer
            }
        case .parted(let room):
            if let index = index(of: .room(key: Self.key(room: room))) {
                if current >= index { current = max(0, current - 1) }
                buffers.remove(at: index)
            }
        case .message(let chat):
            guard !isIgnored(chat.from), show(chat, in: roomBuffer(chat.room), live: true) else { return [] }
            return Self.alert(title: "\(chat.from) in #\(chat.room)", body: chat.text)
        case .dm(let dm):
            if isIgnored(dm.from) { return [] }
            let own = Self.key(nick: dm.from) == Self.key(nick: nick)
            let peer = own ? dm.to : dm.from
            let opened = index(of: .direct(key: Self.key(nick: peer))) == nil
            let index = directBuffer(peer)
            rememberLinks(in: dm.text, from: dm.from, place: own ? "a DM to \(dm.to)" : "a DM")
            if replacePending(
                cid: dm.cid, in: index, with: dm.from, text: dm.text, action: false, time: dm.ts, id: dm.id)
            {
                return []
            }
            let ring = append(directLine(dm), to: index, highlight: !own)
            // What was said before this message, for a conversation that opens with it.
            let earlier = opened ? askOlder(in: index, before: dm.id) : []
            return earlier + (ring ? Self.alert(title: "\(dm.from) (direct message)", body: dm.text) : [])
        case .presence(let presence):
            guard let index = index(of: .room(key: Self.key(room: presence.room))) else { return [] }
            let reason = presence.reason.map { " (\($0))" } ?? ""
            switch presence.event {
            case .join:
                if !buffers[index].members.contains(presence.nick) { buffers[index].members.append(presence.nick) }
                append(BufferLine(time: nil, content: .event("\(presence.nick) joined")), to: index)
            case .part, .quit:
                buffers[index].members.removeAll { Self.key(nick: $0) == Self.key(nick: presence.nick) }
                buffers[index].away.remove(Self.key(nick: presence.nick))
                let verb = presence.event == .part ? "left" : "quit"
                append(BufferLine(time: nil, content: .event("\(presence.nick) \(verb)\(reason)")), to: index)
            }
        case .nick(let old, let new):
            let oldKey = Self.key(nick: old)
            if oldKey == Self.key(nick: nick) { nick = new }
            for index in buffers.indices {
                switch buffers[index].kind {
                case .room:
                    guard let position = buffers[index].members.firstIndex(where: { Self.key(nick: $0) == oldKey })
                    else { continue }
                    buffers[index].members[position] = new
                    if buffers[index].away.remove(oldKey) != nil { buffers[index].away.insert(Self.key(nick: new)) }
                    append(BufferLine(time: nil, content: .event("\(old) is now \(new)")), to: index)
                case .direct(let key) where key == oldKey:
                    buffers[index] = renamed(buffers[index], to: new)
                default:
                    continue
                }
            }
        case .topic(let change):
            guard let index = index(of: .room(key: Self.key(room: change.room))) else { return [] }
            buffers[index].topic = change.topic
            let text =
                change.topic.isEmpty ? "\(change.by) cleared the topic" : "\(change.by) set the topic: \(change.topic)"
            append(BufferLine(time: nil, content: .event(text)), to: index)
        case .rooms(let rooms):
            knownRooms = rooms.map(\.room)
            note(.notice(rooms.isEmpty ? "no rooms have members" : "rooms:"))
            for room in rooms {
                note(.notice("  #\(room.room) (\(room.members))\(room.topic.isEmpty ? "" : " — \(room.topic)")"))
            }
        case .members(let room, let members, let away):
            if let index = index(of: .room(key: Self.key(room: room))) {
                buffers[index].members = members
                buffers[index].away = Set((away ?? []).map { Self.key(nick: $0) })
            }
            note(.notice("#\(room): \(PresenceText.members(members, away: away))"))
        case .away(let away):
            markAway(away)
        case .whois(let whois):
            for line in PresenceText.whois(whois, timeZone: timeZone) { note(.notice(line)) }
        case .pong:
            break
        case .history(let page):
            showOlder(page)
            return continueJump(after: page)
        case .directHistory(let page):
            showOlder(page)
        case .found(let found):
            let scope = found.room.map { "#\($0)" } ?? "every room"
            let count = found.matches.isEmpty ? "nothing found" : "\(found.matches.count)\(found.more ? "+" : "") found"
            note(
                .notice(
                    "search \"\(found.text)\" in \(scope): \(count)\(found.matches.isEmpty ? "" : ", newest first")"))
            // A listing, not the buffer's own chronology: no day lines, no unread count.
            searchMatches = found.matches
            for (number, match) in found.matches.enumerated() {
                let content = BufferLine.Content.match(
                    number: number + 1, room: match.room, from: match.from, text: match.text)
                buffers[current].append(BufferLine(time: match.ts, content: content))
            }
            if found.more { note(.notice("more messages match: search for a longer text to narrow it")) }
            if !found.matches.isEmpty { note(.notice("/goto N shows match N where it was said")) }
        case .error(let error):
            if error.ref == "history" || error.ref == "dm_history" {
                olderHistoryRefused(error, conversation: error.ref == "dm_history")
            }
            note(.error("\(error.code.rawValue): \(error.message)"))
        }
        return []
    }

    /// Someone is away or back: marked in the rooms they share with the user (and said in
    /// them, and in a DM buffer with them); the user's own change is said where they are.
    private mutating func markAway(_ away: ServerMessage.Away) {
        let key = Self.key(nick: away.nick)
        if key == Self.key(nick: nick) {
            // Told again after each reconnect (the engine restores it): said only when it changes.
            if awayReason != away.reason { note(.notice(PresenceText.away(away, isOwn: true))) }
            awayReason = away.reason
            return
        }
        let line = BufferLine(time: nil, content: .event(PresenceText.away(away, isOwn: false)))
        for index in buffers.indices {
            switch buffers[index].kind {
            case .room where buffers[index].members.contains { Self.key(nick: $0) == key }:
                let changed =
                    away.reason == nil
                    ? buffers[index].away.remove(key) != nil : buffers[index].away.insert(key).inserted
                if changed || away.reason != nil { append(line, to: index) }
            case .direct(let peer) where peer == key:
                append(line, to: index)
            default:
                continue
            }
        }
    }

    /// A mention or direct message in a buffer the user is not looking at.
    static func alert(title: String, body: String) -> [Effect] {
        [.bell, .notify(title: title, body: body)]
    }

    /// The first connection failed: say where the client is trying to go, and how to get a
    /// server there, instead of leaving an empty screen.
    private mutating func explainUnreachable(_ error: String) {
        note(.error("cannot reach \(server): \(error)"), in: 0)
        note(
            .notice(
                "is a wschat server running there? `wschat --host` starts one in this terminal; or name another: "
                    + "wschat ws://HOST:PORT/ws (retrying meanwhile)"), in: 0)
    }

    /// Shows a room message: a pending line becomes the confirmed one in place. Returns
    /// whether it deserves the bell (a mention in a buffer not on screen).
    private mutating func show(_ message: ChatMessage, in index: Int, live: Bool) -> Bool {
        if replacePending(
            cid: message.cid, in: index, with: message.from, text: message.text, action: message.action == true,
            time: message.ts, id: message.id)
        {
            return false
        }
        rememberLinks(in: message.text, from: message.from, place: "#" + message.room)
        let line = messageLine(message)
        return append(line, to: index, highlight: line.mentions) && live
    }

    /// Keeps the links of a message shown, for `/url`.
    mutating func rememberLinks(in text: String, from: String, place: String) {
        let urls = Links.urls(in: text)
        guard !urls.isEmpty else { return }
        for url in urls {
            recentLinks.removeAll { $0.url == url }
            recentLinks.append(RecentLink(url: url, from: from, place: place))
        }
        if recentLinks.count > Self.maxRecentLinks { recentLinks.removeFirst(recentLinks.count - Self.maxRecentLinks) }
    }

    private mutating func replacePending(
        cid: String, in index: Int, with from: String, text: String, action: Bool, time: Int64, id: Int64? = nil
    ) -> Bool {
        guard pendingCIDs.remove(cid) != nil,
            let position = buffers[index].lines.lastIndex(where: {
                if case .pending(_, _, cid) = $0.content { true } else { false }
            })
        else {
            return false
        }
        buffers[index].lines[position] = BufferLine(
            time: time, content: .message(from: from, text: text, action: action, cid: cid), id: id, isOwn: true)
        return true
    }

    private mutating func settle(_ message: PendingMessage, as content: BufferLine.Content) {
        let index = bufferIndex(for: message.target)
        pendingCIDs.remove(message.cid)
        if let position = buffers[index].lines.lastIndex(where: {
            if case .pending(_, _, message.cid) = $0.content { true } else { false }
        }) {
            buffers[index].lines[position].content = content
        } else {
            append(BufferLine(time: nil, content: content, isOwn: true), to: index)
        }
    }

    private mutating func bufferIndex(for target: PendingMessage.Target) -> Int {
        switch target {
        case .room(let room): roomBuffer(room)
        case .nick(let peer): directBuffer(peer)
        }
    }

    private func renamed(_ buffer: ChatBuffer, to name: String) -> ChatBuffer {
        var copy = ChatBuffer(kind: .direct(key: Self.key(nick: name)), name: name)
        copy.lines = buffer.lines
        copy.unread = buffer.unread
        copy.highlighted = buffer.highlighted
        copy.readMarker = buffer.readMarker
        copy.maxLines = buffer.maxLines
        copy.history = buffer.history
        return copy
    }
}
