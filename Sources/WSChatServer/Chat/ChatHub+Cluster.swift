import WSChatProtocol

extension ChatHub {
    /// Applies what happened on another node to this node's users.
    func apply(_ event: ClusterEvent) async {
        switch event {
        case .resynchronize:
            for key in rooms.keys { await catchUp(roomKey: key) }
        case .notice(.message(let roomKey, _, let message)):
            guard rooms[roomKey] != nil else { return }
            if let message { deliver(message, roomKey: roomKey) }
            if message == nil || rooms[roomKey]?.hasGap == true { await catchUp(roomKey: roomKey) }
        case .notice(.direct(let toKey, _, _, let message)):
            guard let message, let recipient = nickOwners[toKey] else { return }
            send(.dm(message), to: recipient)
        case .notice(.presence(let roomKey, let nick, let presence, let reason)):
            guard let room = rooms[roomKey] else { return }
            broadcast(
                .presence(.init(room: room.name, nick: nick, event: presence, reason: reason)), to: room.members)
        case .notice(.nick(let old, let new, let roomKeys)):
            let audience = Set(roomKeys.flatMap { rooms[$0]?.members ?? [] })
            broadcast(.nick(old: old, new: new), to: audience)
        case .notice(.topic(let roomKey, let topic, let by)):
            guard var room = rooms[roomKey] else { return }
            room.topic = topic
            rooms[roomKey] = room
            broadcast(.topic(.init(room: room.name, topic: topic, by: by)), to: room.members)
        }
    }

    /// Reads the room's committed messages past what its members have been handed and
    /// delivers them: fills a gap left by a notice that is late or was missed. Concurrent
    /// calls for one room coalesce into one more pass.
    func catchUp(roomKey: String) async {
        guard catchingUp.insert(roomKey).inserted else {
            catchUpAgain.insert(roomKey)
            return
        }
        defer { catchingUp.remove(roomKey) }
        repeat {
            catchUpAgain.remove(roomKey)
            var more = true
            while more, let room = rooms[roomKey], let name = try? RoomName(validating: room.name) {
                do {
                    let page = try await store.messages(
                        in: name, after: room.deliveredThrough, limit: configuration.historyPage)
                    for message in page.messages { deliver(message, roomKey: roomKey) }
                    more = page.more
                } catch {
                    logger.error(
                        "could not catch up on a room", metadata: ["room": "\(name.name)", "error": "\(error)"])
                    return
                }
            }
        } while catchUpAgain.contains(roomKey)
    }
}
