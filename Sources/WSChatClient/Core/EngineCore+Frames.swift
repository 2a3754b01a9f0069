import WSChatProtocol

extension EngineCore {
    mutating func received(_ text: String, at now: ContinuousClock.Instant) {
        let message: ServerMessage
        do {
            message = try ServerMessage.decode(text)
        } catch is UnknownServerMessage {
            return  // a newer server's frame type: nothing this client can show
        } catch {
            actions.append(.emit(.notice("the server sent a frame this client cannot read: \(text.prefix(200))")))
            return
        }
        switch message {
        case .welcome(let welcome): welcomed(welcome, raw: text, at: now)
        case .error(let error): serverError(error, raw: text, at: now)
        case .joined(let joined): joinedRoom(joined, raw: text)
        case .message(let chat): roomMessage(chat, raw: text)
        case .dm(let dm): directMessage(dm, raw: text)
        case .pong(let t):
            if case .number(let sequence) = t, keepalive.pong(sequence: Int(sequence), at: now) != nil { return }
            emit(message, raw: text)
        case .nick(let old, let new):
            if Nick.same(old, nick) {
                nick = new
                desiredNick = new
            }
            emit(message, raw: text)
        case .parted(let room):
            if let key = try? RoomName(validating: room).key, rooms[key] != nil {
                rooms[key] = nil
                roomOrder.removeAll { $0 == key }
            }
            emit(message, raw: text)
        case .presence(let presence):
            // Our old session (from before a reconnect) is finally gone: take the nick back.
            if presence.event != .join, Nick.same(presence.nick, desiredNick), !Nick.same(nick, desiredNick) {
                sendQueue.append(.nick(desiredNick))
            }
            emit(message, raw: text)
        case .topic, .rooms, .members, .history, .found, .away, .whois, .directHistory:
            emit(message, raw: text)
        }
    }

    mutating func emit(_ message: ServerMessage, raw: String) {
        actions.append(.emit(.server(message, raw: raw)))
    }

    mutating func welcomed(_ welcome: ServerMessage.Welcome, raw: String, at now: ContinuousClock.Instant) {
        guard case .open(let since, welcomed: false) = transport else { return }
        transport = .open(since: since, welcomed: true)
        nick = welcome.nick
        limits = welcome.limits
        // Pace a little under the announced limit, so that network jitter never pushes the
        // server's bucket (which also paid for hello) over it.
        bucket = TokenBucket(rate: limits.rate * 0.9, burst: max(1, limits.burst - 2), now: now)
        lifecycle.welcomed(at: now)
        keepalive.start(at: now)
        emit(.welcome(welcome), raw: raw)
        if !Nick.same(nick, desiredNick) {
            actions.append(.emit(.notice("the nick \(desiredNick) is taken; you are \(nick) for now")))
        }
        resentDirectCIDs = Set(outbox.pending.filter { if case .nick = $0.target { true } else { false } }.map(\.cid))
        peerReturnDeadline = now + Self.peerReturnWindow
        // A new session is not away: the reason is told again (once, whatever was typed offline).
        let userCommands = sendQueue.filter { if case .away = $0 { false } else { true } }
        sendQueue = roomOrder.compactMap { rooms[$0].map { .join($0.join) } }
        sendQueue += outbox.pending.map(\.clientMessage)
        if let awayReason { sendQueue.append(.away(reason: awayReason)) }
        sendQueue += userCommands
    }

    mutating func serverError(_ error: ProtocolError, raw: String, at now: ContinuousClock.Instant) {
        if !isWelcomed, error.ref == "hello" {
            switch error.code {
            case .nickTaken:
                guard nick.count < Nick.maxLength else {
                    actions.append(.emit(.notice("every variant of the nick \(desiredNick) is taken; choose another")))
                    lifecycle.stop(reason: "nick taken")
                    actions.append(.disconnect)
                    transport = .none
                    return
                }
                nick += "_"
                sendQueue.insert(hello, at: 0)
                return
            case .badNick:
                emit(.error(error), raw: raw)
                lifecycle.stop(reason: "the server refused the nick \(nick): \(error.message)")
                actions.append(.disconnect)
                transport = .none
                return
            default:
                break  // auth_failed and server_full: the close that follows decides
            }
        }
        if let ref = error.ref, outbox.contains(cid: ref) {
            if error.code == .rateLimited {
                let wait = limits.rate > 0 ? Duration.seconds(1 / limits.rate) : .seconds(1)
                outbox.deferRetry(cid: ref, until: now + max(wait, .milliseconds(200)))
                return
            }
            if error.code == .noSuchNick, resentDirectCIDs.contains(ref), let deadline = peerReturnDeadline,
                now < deadline
            {
                outbox.deferRetry(cid: ref, until: min(deadline, now + Self.peerReturnRetry))
                return
            }
            if let message = outbox.remove(cid: ref) {
                actions.append(.emit(.failed(message, error)))
                return
            }
        }
        emit(.error(error), raw: raw)
    }

    mutating func joinedRoom(_ joined: ServerMessage.Joined, raw: String) {
        guard let key = try? RoomName(validating: joined.room).key else { return }
        var cursor = rooms[key] ?? RoomCursor(name: joined.room)
        if rooms[key] == nil { roomOrder.append(key) }
        let resumedFrom = cursor.lastID
        let reset = joined.reset == true
        var history = joined.history
        if let resumedFrom, !reset { history.removeAll { $0.id <= resumedFrom } }
        for message in history { outbox.remove(cid: message.cid) }
        cursor.name = joined.room
        cursor.epoch = joined.epoch
        cursor.lastID = history.last?.id ?? (reset ? 0 : resumedFrom ?? 0)
        let wasPaging = resumedFrom != nil && !reset && joined.more
        cursor.paging = wasPaging
        rooms[key] = cursor

        var shown = joined
        shown.history = history
        if reset {
            actions.append(
                .emit(
                    .notice("the server lost the earlier history of #\(joined.room); what you saw before is gone there")
                ))
        }
        if wasPaging {
            sendQueue.insert(.join(cursor.join), at: 0)
        } else if joined.more, resumedFrom == nil || reset {
            actions.append(.emit(.olderHistoryNotShown(room: joined.room)))
        }
        emit(.joined(shown), raw: history.count == joined.history.count ? raw : ServerMessage.joined(shown).encoded())
    }

    mutating func roomMessage(_ message: ChatMessage, raw: String) {
        outbox.remove(cid: message.cid)
        guard let key = try? RoomName(validating: message.room).key, var cursor = rooms[key] else { return }
        if let last = cursor.lastID, message.id <= last { return }  // seen before: never twice
        cursor.lastID = message.id
        rooms[key] = cursor
        emit(.message(message), raw: raw)
    }

    mutating func directMessage(_ message: DirectMessage, raw: String) {
        let wasPending = outbox.remove(cid: message.cid) != nil
        if !wasPending, seenDirectCIDs.contains(message.cid) { return }
        seenDirectCIDs.insert(message.cid)
        emit(.dm(message), raw: raw)
    }

}
