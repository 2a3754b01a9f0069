import Foundation
import WSChatProtocol

extension EngineCore {
    mutating func perform(_ command: UserCommand, at now: ContinuousClock.Instant) {
        switch command {
        case .join(let room):
            guard let name = validRoom(room) else { return }
            if rooms[name.key] == nil {
                rooms[name.key] = RoomCursor(name: name.name)
                roomOrder.append(name.key)
            }
            if isWelcomed, let cursor = rooms[name.key] { sendQueue.append(.join(cursor.join)) }
        case .part(let room):
            guard let name = validRoom(room) else { return }
            rooms[name.key] = nil
            roomOrder.removeAll { $0 == name.key }
            if isWelcomed { sendQueue.append(.part(room: name.name)) }
        case .say(let room, let text, let action):
            let message = PendingMessage(cid: Self.newCID(), target: .room(room), text: text, action: action)
            if let name = try? RoomName(validating: room), rooms[name.key] == nil {
                actions.append(.emit(.failed(message, ProtocolError(.notJoined, "join #\(name.name) first"))))
                return
            }
            enqueue(message)
        case .directMessage(let to, let text):
            enqueue(PendingMessage(cid: Self.newCID(), target: .nick(to), text: text))
        case .nick(let new):
            do {
                _ = try Nick(validating: new)
            } catch {
                actions.append(.emit(.notice(error.message)))
                return
            }
            // Asked for after the next welcome if offline. The nick becomes the user's (and
            // the one reclaimed after a reconnect) only when the server confirms it: a
            // refused change is forgotten.
            sendQueue.append(.nick(new))
        case .topic(let room, let topic):
            sendQueue.append(.topic(room: room, topic: topic))
        case .list:
            sendQueue.append(.list)
        case .who(let room):
            sendQueue.append(.who(room: room))
        case .olderHistory(let room, let before, let limit):
            sendQueue.append(.history(.init(room: room, before: before, limit: limit)))
        case .olderDirectMessages(let nick, let before, let limit):
            sendQueue.append(.directHistory(.init(with: nick, before: before, limit: limit)))
        case .search(let text, let room):
            sendQueue.append(.search(.init(text: text, room: room)))
        case .away(let reason):
            awayReason = reason
            sendQueue.removeAll { if case .away = $0 { true } else { false } }
            sendQueue.append(.away(reason: reason))
        case .whois(let nick):
            sendQueue.append(.whois(nick: nick))
        case .reconnect:
            if transport != .none { actions.append(.disconnect) }
            transport = .none
            keepalive.stop()
            lifecycle.resetAttempts()
            connect(at: now)
        case .quit(let reason):
            quit(reason: reason, at: now)
        case .quitWhenDelivered(let within, let reason):
            deliveryDeadline = now + within
            deliveryQuitReason = reason
        }
    }

    mutating func quitIfDelivered(at now: ContinuousClock.Instant) {
        guard let deadline = deliveryDeadline else { return }
        // With nothing to deliver, the first connection attempt is still let finish, so that
        // a script learns whether the server was there at all.
        let firstAttemptUnsettled = lifecycle.lastError == nil && !isWelcomed && transport != .none
        guard (outbox.isEmpty && !firstAttemptUnsettled) || deadline <= now else { return }
        deliveryDeadline = nil
        // What has not left by now never will. What the server already has may still be
        // acknowledged before it answers quit, so the outbox is judged when the engine stops.
        sendQueue.removeAll { message in
            switch message {
            case .say, .dm: true
            default: false
            }
        }
        outbox.clearRetries()
        quit(reason: deliveryQuitReason, at: now)
    }

    /// The engine stops because the user quit: what the server never acknowledged is
    /// reported undelivered, never dropped in silence.
    mutating func stopAfterQuit() {
        lifecycle.stop(reason: "quit")
        for message in outbox.pending { actions.append(.emit(.undelivered(message))) }
    }

    mutating func quit(reason: String?, at now: ContinuousClock.Instant) {
        if isWelcomed {
            sendQueue.append(.quit(reason: reason))
            // The server answers quit by closing; don't wait for ever if it does not.
            quitDeadline = now + .seconds(2)
        } else {
            if transport != .none { actions.append(.disconnect) }
            transport = .none
            stopAfterQuit()
        }
    }

    /// Checks a typed message before it goes anywhere, queues it in the outbox and sends it
    /// when connected (else after the next welcome).
    mutating func enqueue(_ message: PendingMessage) {
        do throws(ProtocolError) {
            try TextRules.validateMessage(message.text, maxBytes: limits.maxMessageBytes)
            if case .nick(let nick) = message.target {
                do { _ = try Nick(validating: nick) } catch {
                    throw ProtocolError(.noSuchNick, "\(nick) is not a valid nick")
                }
            }
        } catch {
            actions.append(.emit(.failed(message, error)))
            return
        }
        outbox.add(message)
        actions.append(.emit(.pending(message)))
        if isWelcomed { sendQueue.append(message.clientMessage) }
    }

    mutating func validRoom(_ room: String) -> RoomName? {
        do {
            return try RoomName(validating: room)
        } catch {
            actions.append(.emit(.notice(error.message)))
            return nil
        }
    }

    static func newCID() -> String { UUID().uuidString.lowercased() }
}
