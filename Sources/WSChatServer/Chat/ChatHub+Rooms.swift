import WSChatProtocol

extension ChatHub {
    func join(_ join: ClientMessage.Join, from id: ConnectionID) async throws {
        guard let nick = nick(of: id) else { return }
        let name = try RoomName(validating: join.room)
        if let session = sessions[id], !session.rooms.contains(name.key),
            session.rooms.count >= configuration.maxRoomsPerConnection
        {
            throw ProtocolError(
                .tooManyRooms,
                "you are in \(session.rooms.count) rooms, the most this server allows; part one to join \(name.name)")
        }
        if rooms[name.key] == nil {
            if let lookalike = name.skeletons.lazy.compactMap({ self.roomKeysBySkeleton[$0] }).first.flatMap({
                self.rooms[$0]
            }) {
                throw ProtocolError(
                    .badRoom, "\(name.name) looks like the room \(lookalike.name); join that one or pick another name")
            }
            var record: RoomRecord
            repeat {
                while let pending = forgetting[name.key] { await pending.task.value }
                record = try await store.openRoom(name)
                // A record deleted by a forget that began while it was read must be opened anew.
            } while forgetting[name.key] != nil && rooms[name.key] == nil
            guard sessions[id] != nil else { return }
            if rooms[name.key] == nil {
                rooms[name.key] = Room(record: record)
                for skeleton in name.skeletons { roomKeysBySkeleton[skeleton] = name.key }
                metrics.rooms.record(rooms.count)
            }
        }
        guard var room = rooms[name.key] else { return }
        let isNew = room.beginJoin(id)
        let others = room.members.filter { $0 != id }
        rooms[name.key] = room
        sessions[id]?.rooms.insert(name.key)
        if isNew {
            broadcast(.presence(.init(room: room.name, nick: nick.name, event: .join)), to: others)
            cluster?.post(.joined(room: name, nick: nick))
        }

        let page: HistoryPage
        var reset: Bool?
        var paging = false
        // The id the member's history starts after (what it says it has, in this epoch).
        var resumedFrom: Int64 = 0
        // A page never outgrows what the member's send queue may hold.
        let budget = min(configuration.historyPageBytes, configuration.sendQueueBytes / 2)
        if let since = join.since, join.epoch == nil || join.epoch == room.epoch {
            page = try await store.messages(in: name, after: since, limit: configuration.historyPage)
                .bounded(toBytes: budget, keepingNewest: false)
            paging = page.more
            resumedFrom = since
        } else {
            page = try await store.recentMessages(in: name, limit: configuration.recentHistory)
                .bounded(toBytes: budget, keepingNewest: true)
            reset = join.since != nil ? true : nil
        }

        // The member may have parted or gone while the history was read.
        let remoteMembers = try await cluster?.remoteMembers(of: name) ?? []
        guard var current = rooms[name.key], current.contains(id) else { return }
        // With an empty page the member has what it resumed from, but never more than this
        // node has seen: a `since` past the room's newest id must not hold back live messages.
        let historyEnd = page.messages.last?.id ?? min(resumedFrom, current.deliveredThrough)
        let live = current.finishJoin(id, historyEnd: historyEnd, paging: paging)
        rooms[name.key] = current
        send(
            .joined(
                .init(
                    room: current.name, epoch: current.epoch, topic: current.topic,
                    members: memberNicks(current) + remoteMembers, history: page.messages, more: page.more,
                    reset: reset)),
            to: id)
        for message in live {
            send(.message(message), to: id)
        }
    }

    func part(_ raw: String, from id: ConnectionID) throws(ProtocolError) {
        guard let nick = nick(of: id) else { return }
        let name = try RoomName(validating: raw)
        guard let room = rooms[name.key], room.contains(id) else {
            throw ProtocolError(.notJoined, "you are not in \(name.name)")
        }
        sessions[id]?.rooms.remove(name.key)
        send(.parted(room: room.name), to: id)
        leave(
            roomKey: name.key, member: id, nick: nick,
            presence: .init(room: room.name, nick: nick.name, event: .part))
    }

    /// Removes a member and tells the others with `presence` (its `room` is filled in here).
    func leave(roomKey: String, member id: ConnectionID, nick: Nick, presence: ServerMessage.Presence) {
        guard var room = rooms[roomKey] else { return }
        room.remove(id)
        cluster?.post(.left(roomKey: roomKey, nick: nick, event: presence.event, reason: presence.reason))
        if room.isEmpty {
            rooms[roomKey] = nil
            metrics.rooms.record(rooms.count)
            forgetIfUnused(room)
            return
        }
        rooms[roomKey] = room
        var presence = presence
        presence.room = room.name
        broadcast(.presence(presence), to: room.members)
    }

    /// Asks the store to delete an emptied room's record if it never held anything; a join
    /// of the same room waits for that first, so it never opens a record being deleted.
    private func forgetIfUnused(_ room: Room) {
        guard let name = try? RoomName(validating: room.name) else { return }
        for skeleton in name.skeletons where roomKeysBySkeleton[skeleton] == name.key {
            roomKeysBySkeleton[skeleton] = nil
        }
        guard room.deliveredThrough == 0, room.topic.isEmpty else { return }
        let previous = forgetting[name.key]?.task
        forgetGeneration += 1
        let generation = forgetGeneration
        let task = Task { [store, logger] in
            await previous?.value
            do {
                try await store.forgetRoomIfUnused(name)
            } catch {
                logger.warning(
                    "could not delete an unused room", metadata: ["room": "\(name.key)", "error": "\(error)"])
            }
            self.forgot(name.key, generation: generation)
        }
        forgetting[name.key] = (generation, task)
    }

    private func forgot(_ key: String, generation: Int) {
        if forgetting[key]?.generation == generation { forgetting[key] = nil }
    }

    func say(_ say: ClientMessage.Say, from id: ConnectionID) async throws {
        guard let nick = nick(of: id) else { return }
        let name: RoomName
        do throws(ProtocolError) {
            name = try RoomName(validating: say.room)
            guard rooms[name.key]?.contains(id) == true else {
                throw ProtocolError(.notJoined, "join \(name.name) before saying something there")
            }
            try TextRules.validateMessage(say.text, maxBytes: configuration.maxMessageBytes)
        } catch {
            throw error.answering(say.cid)
        }
        let stored = try await store.append(
            NewMessage(room: name, from: nick.name, text: say.text, cid: say.cid, action: say.action, ts: Self.now()))
        switch stored {
        case .new(let message):
            metrics.chatMessages.increment()
            deliver(message, roomKey: name.key)
            if cluster != nil, rooms[name.key]?.hasGap == true {
                // A lower id was taken on another node and its notice has not arrived (yet).
                await catchUp(roomKey: name.key)
            }
        case .duplicate(let original):
            guard sentBy(id, from: original.from) else { throw Self.foreignCID(say.cid) }
            send(.message(original), to: id)
        }
    }

    /// Hands a stored message to the room, which releases messages in id order.
    func deliver(_ message: ChatMessage, roomKey: String) {
        guard var room = rooms[roomKey] else { return }
        let ready = room.accept(message)
        rooms[roomKey] = room
        for (message, recipients) in ready {
            broadcast(.message(message), to: recipients)
        }
    }

    func setTopic(_ topic: String, in raw: String, from id: ConnectionID) async throws {
        guard let nick = nick(of: id) else { return }
        let name = try RoomName(validating: raw)
        guard rooms[name.key]?.contains(id) == true else {
            throw ProtocolError(.notJoined, "join \(name.name) before setting its topic")
        }
        try TextRules.validateTopic(topic)
        try await store.setTopic(topic, in: name)
        guard var room = rooms[name.key] else { return }
        room.topic = topic
        rooms[name.key] = room
        broadcast(.topic(.init(room: room.name, topic: topic, by: nick.name)), to: room.members)
        cluster?.post(.topic(roomKey: name.key, topic: topic, by: nick.name))
    }

    func listRooms(for id: ConnectionID) async throws {
        var summaries: [String: ServerMessage.RoomSummary] = rooms.mapValues {
            ServerMessage.RoomSummary(room: $0.name, members: $0.members.count, topic: $0.topic)
        }
        for remote in try await cluster?.remoteRooms() ?? [] {
            summaries[remote.key, default: .init(room: remote.name, members: 0, topic: remote.topic)].members +=
                remote.members
        }
        send(.rooms(summaries.values.sorted { $0.room.lowercased() < $1.room.lowercased() }), to: id)
    }

    func who(_ raw: String, for id: ConnectionID) async throws {
        let name = try RoomName(validating: raw)
        let remoteMembers = try await cluster?.remoteMembers(of: name) ?? []
        let room = rooms[name.key]
        send(
            .members(room: room?.name ?? name.name, members: (room.map(memberNicks) ?? []) + remoteMembers), to: id)
    }

    func memberNicks(_ room: Room) -> [String] {
        room.members.compactMap { sessions[$0]?.nick?.name }
    }
}
