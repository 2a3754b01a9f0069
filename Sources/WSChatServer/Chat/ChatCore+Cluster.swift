import WSChatProtocol

extension ChatCore {
    /// Applies what happened on another node to this node's users.
    mutating func apply(_ event: ClusterEvent, into actions: inout [Action]) {
        switch event {
        case .resynchronize:
            for key in rooms.keys { catchUp(roomKey: key, into: &actions) }
        case .notice(.message(let roomKey, _, let message)):
            guard rooms[roomKey] != nil else { return }
            if let message { deliver(message, roomKey: roomKey, into: &actions) }
            if message == nil || rooms[roomKey]?.hasGap == true { catchUp(roomKey: roomKey, into: &actions) }
        case .notice(.direct(let toKey, _, _, let message)):
            guard let message, let recipient = nickOwners[toKey] else { return }
            send(.dm(message), to: recipient, into: &actions)
        case .notice(.presence(let roomKey, let nick, let presence, let reason)):
            guard let room = rooms[roomKey] else { return }
            broadcast(
                .presence(.init(room: room.name, nick: nick, event: presence, reason: reason)), to: room.members,
                into: &actions)
        case .notice(.nick(let old, let new, let roomKeys)):
            let audience = Set(roomKeys.flatMap { rooms[$0]?.members ?? [] })
            broadcast(.nick(old: old, new: new), to: audience, into: &actions)
        case .notice(.topic(let roomKey, let topic, let by)):
            guard var room = rooms[roomKey] else { return }
            room.topic = topic
            rooms[roomKey] = room
            broadcast(.topic(.init(room: room.name, topic: topic, by: by)), to: room.members, into: &actions)
        }
    }

    /// Reads the room's committed messages past what its members have been handed and
    /// delivers them: fills a gap left by a notice that is late or was missed. A catch-up
    /// asked for while one runs for the same room makes it read once more when it ends.
    mutating func catchUp(roomKey: String, into actions: inout [Action]) {
        guard catchingUp.insert(roomKey).inserted else {
            catchUpAgain.insert(roomKey)
            return
        }
        readOn(roomKey, into: &actions)
    }

    mutating func caughtUpPage(_ roomKey: String, _ page: HistoryPage, into actions: inout [Action]) {
        for message in page.messages { deliver(message, roomKey: roomKey, into: &actions) }
        if page.more || catchUpAgain.remove(roomKey) != nil {
            readOn(roomKey, into: &actions)
        } else {
            catchingUp.remove(roomKey)
        }
    }

    /// Asks for the next page past what the room's members have; ends the catch-up when
    /// the room has gone.
    private mutating func readOn(_ roomKey: String, into actions: inout [Action]) {
        guard let room = rooms[roomKey], let name = try? RoomName(validating: room.name) else {
            catchingUp.remove(roomKey)
            catchUpAgain.remove(roomKey)
            return
        }
        actions.append(.io(.catchUp(roomKey: roomKey, name, after: room.deliveredThrough)))
    }
}
