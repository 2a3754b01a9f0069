import WSChatProtocol

extension ChatCore {
    /// A join opens the room's record when the room has no members here, then reads the
    /// member's history; live messages for the member are held back until it has that page.
    mutating func join(_ join: ClientMessage.Join, from id: ConnectionID, into actions: inout [Action])
        throws(ProtocolError)
    {
        guard let session = sessions[id], session.nick != nil else { return }
        let name = try RoomName(validating: join.room)
        if !session.rooms.contains(name.key), session.rooms.count >= configuration.maxRoomsPerConnection {
            throw ProtocolError(
                .tooManyRooms,
                "you are in \(session.rooms.count) rooms, the most this server allows; part one to join \(name.name)")
        }
        let request = JoinRequest(
            member: id, name: name, since: join.since, epoch: join.epoch, forgetsStarted: forgetsStarted)
        guard rooms[name.key] == nil else {
            enter(request, into: &actions)
            return
        }
        if let lookalike = name.skeletons.compactMap({ roomKeysBySkeleton[$0] }).first.flatMap({ rooms[$0] }) {
            throw ProtocolError(
                .badRoom, "\(name.name) looks like the room \(lookalike.name); join that one or pick another name")
        }
        actions.append(.io(.openRoom(request)))
    }

    mutating func roomOpened(_ request: JoinRequest, _ record: RoomRecord, into actions: inout [Action]) {
        let key = request.name.key
        guard sessions[request.member] != nil else { return }
        if rooms[key] == nil {
            // A record read while a forget of the room ran may be gone: read it again (the
            // hub starts the read once the forget is over).
            guard request.forgetsStarted == forgetsStarted else {
                actions.append(
                    .io(
                        .openRoom(
                            JoinRequest(
                                member: request.member, name: request.name, since: request.since, epoch: request.epoch,
                                forgetsStarted: forgetsStarted))))
                return
            }
            rooms[key] = Room(record: record)
            for skeleton in request.name.skeletons { roomKeysBySkeleton[skeleton] = key }
        }
        enter(request, into: &actions)
    }

    /// Makes the connection a member (fetching its history) and asks for that history.
    private mutating func enter(_ request: JoinRequest, into actions: inout [Action]) {
        let id = request.member
        let key = request.name.key
        guard var room = rooms[key], let nick = sessions[id]?.nick else { return }
        let isNew = room.beginJoin(id)
        let others = room.members.filter { $0 != id }
        rooms[key] = room
        sessions[id]?.rooms.insert(key)
        if isNew {
            broadcast(.presence(.init(room: room.name, nick: nick.name, event: .join)), to: others, into: &actions)
            post(.joined(room: request.name, nick: nick), into: &actions)
        }
        var request = request
        if let since = request.since, request.epoch == nil || request.epoch == room.epoch {
            request.resumeFrom = since
        } else {
            request.reset = request.since != nil ? true : nil
        }
        actions.append(.io(.readJoinHistory(request, remoteMembers: clustered)))
    }

    /// What one page of a join's history may take in a frame: never more than the member's
    /// send queue may hold. The store is asked for no more text than this.
    var historyPageBudget: Int { min(configuration.historyPageBytes, configuration.sendQueueBytes / 2) }

    /// The history page of a join (oldest first after `resumeFrom`, else the newest), as read
    /// from the store, before it is cut to its byte budget.
    mutating func joinHistoryRead(
        _ request: JoinRequest, _ read: HistoryPage, remoteMembers: [String], into actions: inout [Action]
    ) {
        let id = request.member
        // The member may have parted or gone while the history was read.
        guard var room = rooms[request.name.key], room.contains(id) else { return }
        let page = read.bounded(toBytes: historyPageBudget, keepingNewest: request.resumeFrom == nil)
        // With an empty page the member has what it resumed from, but never more than this
        // node has seen: a `since` past the room's newest id must not hold back live messages.
        let historyEnd = page.messages.last?.id ?? min(request.resumeFrom ?? 0, room.deliveredThrough)
        let live = room.finishJoin(id, historyEnd: historyEnd, paging: request.resumeFrom != nil && page.more)
        rooms[request.name.key] = room
        send(
            .joined(
                .init(
                    room: room.name, epoch: room.epoch, topic: room.topic,
                    members: memberNicks(room) + remoteMembers, history: page.messages, more: page.more,
                    reset: request.reset, away: awayNicks(room))),
            to: id, into: &actions)
        for message in live {
            send(.message(message), to: id, into: &actions)
        }
    }

    /// A page of a room's older messages, for a member scrolling back: read off the room's
    /// path (live delivery goes on meanwhile) and bounded in bytes like a join's page.
    func olderHistory(_ request: ClientMessage.HistoryRequest, from id: ConnectionID, into actions: inout [Action])
        throws(ProtocolError)
    {
        let name = try RoomName(validating: request.room)
        guard rooms[name.key]?.contains(id) == true else {
            throw ProtocolError(.notJoined, "join \(name.name) to read its history")
        }
        actions.append(
            .io(
                .readOlderHistory(
                    OlderHistoryRequest(
                        member: id, name: name, before: request.before,
                        limit: request.limit ?? ClientMessage.defaultHistoryLimit))))
    }

    func olderHistoryRead(_ request: OlderHistoryRequest, _ read: HistoryPage, into actions: inout [Action]) {
        let page = read.bounded(toBytes: historyPageBudget, keepingNewest: true)
        let room = rooms[request.name.key]?.name ?? request.name.name
        send(
            .history(.init(room: room, before: request.before, messages: page.messages, more: page.more)),
            to: request.member, into: &actions)
    }

    /// Rooms are open to anyone who joins, so any room's history may be searched; direct
    /// messages never are.
    func search(_ request: ClientMessage.SearchRequest, from id: ConnectionID, into actions: inout [Action])
        throws(ProtocolError)
    {
        let room = try request.room.map { raw throws(ProtocolError) in try RoomName(validating: raw) }
        actions.append(
            .io(
                .search(
                    SearchRequest(
                        asker: id, text: request.text, room: room,
                        limit: request.limit ?? ClientMessage.defaultSearchLimit))))
    }

    func searched(_ request: SearchRequest, _ read: HistoryPage, into actions: inout [Action]) {
        // Newest first: the bound keeps the newest matches.
        let page = read.bounded(toBytes: historyPageBudget, keepingNewest: false)
        send(
            .found(
                .init(
                    text: request.text, room: request.room.map { rooms[$0.key]?.name ?? $0.name },
                    matches: page.messages, more: page.more)),
            to: request.asker, into: &actions)
    }

    mutating func part(_ raw: String, from id: ConnectionID, into actions: inout [Action]) throws(ProtocolError) {
        guard let nick = nick(of: id) else { return }
        let name = try RoomName(validating: raw)
        guard let room = rooms[name.key], room.contains(id) else {
            throw ProtocolError(.notJoined, "you are not in \(name.name)")
        }
        sessions[id]?.rooms.remove(name.key)
        send(.parted(room: room.name), to: id, into: &actions)
        leave(
            roomKey: name.key, member: id, nick: nick,
            presence: .init(room: room.name, nick: nick.name, event: .part), into: &actions)
    }

    /// Removes a member and tells the others with `presence` (its `room` is filled in here).
    mutating func leave(
        roomKey: String, member id: ConnectionID, nick: Nick, presence: ServerMessage.Presence,
        into actions: inout [Action]
    ) {
        guard var room = rooms[roomKey] else { return }
        room.remove(id)
        post(.left(roomKey: roomKey, nick: nick, event: presence.event, reason: presence.reason), into: &actions)
        if room.isEmpty {
            rooms[roomKey] = nil
            forgetIfUnused(room, into: &actions)
            return
        }
        rooms[roomKey] = room
        var presence = presence
        presence.room = room.name
        broadcast(.presence(presence), to: room.members, into: &actions)
    }

    /// Asks the store to delete an emptied room's record if it never held anything.
    private mutating func forgetIfUnused(_ room: Room, into actions: inout [Action]) {
        guard let name = try? RoomName(validating: room.name) else { return }
        for skeleton in name.skeletons where roomKeysBySkeleton[skeleton] == name.key {
            roomKeysBySkeleton[skeleton] = nil
        }
        guard room.deliveredThrough == 0, room.topic.isEmpty else { return }
        forgetsStarted += 1
        actions.append(.forgetRoom(name))
    }

    mutating func say(_ say: ClientMessage.Say, from id: ConnectionID, now: Int64, into actions: inout [Action])
        throws(ProtocolError)
    {
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
        actions.append(
            .io(
                .append(
                    SayRequest(
                        sender: id, roomKey: name.key,
                        message: NewMessage(
                            room: name, from: nick.name, text: say.text, cid: say.cid, action: say.action, ts: now)))))
    }

    mutating func appended(_ request: SayRequest, _ stored: Appended<ChatMessage>, into actions: inout [Action]) {
        switch stored {
        case .new(let message):
            deliver(message, roomKey: request.roomKey, into: &actions)
            if clustered, rooms[request.roomKey]?.hasGap == true {
                // A lower id was taken on another node and its notice has not arrived (yet).
                catchUp(roomKey: request.roomKey, into: &actions)
            }
        case .duplicate(let original):
            guard sentBy(request.sender, from: original.from) else {
                fail(request.sender, Self.foreignCID(request.message.cid), into: &actions)
                return
            }
            send(.message(original), to: request.sender, into: &actions)
        }
    }

    /// Hands a stored message to the room, which releases messages in id order.
    mutating func deliver(_ message: ChatMessage, roomKey: String, into actions: inout [Action]) {
        guard var room = rooms[roomKey] else { return }
        let ready = room.accept(message)
        rooms[roomKey] = room
        for (message, recipients) in ready {
            broadcast(.message(message), to: recipients, room: roomKey, into: &actions)
        }
    }

    mutating func setTopic(_ topic: String, in raw: String, from id: ConnectionID, into actions: inout [Action])
        throws(ProtocolError)
    {
        guard let nick = nick(of: id) else { return }
        let name = try RoomName(validating: raw)
        guard rooms[name.key]?.contains(id) == true else {
            throw ProtocolError(.notJoined, "join \(name.name) before setting its topic")
        }
        try TextRules.validateTopic(topic)
        actions.append(.io(.storeTopic(TopicRequest(setter: id, name: name, topic: topic, by: nick))))
    }

    mutating func topicStored(_ request: TopicRequest, into actions: inout [Action]) {
        let key = request.name.key
        guard var room = rooms[key] else { return }
        room.topic = request.topic
        rooms[key] = room
        broadcast(
            .topic(.init(room: room.name, topic: request.topic, by: request.by.name)), to: room.members, into: &actions)
        post(.topic(roomKey: key, topic: request.topic, by: request.by.name), into: &actions)
    }

    func listRooms(for id: ConnectionID, into actions: inout [Action]) {
        if clustered {
            actions.append(.io(.readRemoteRooms(id)))
        } else {
            answerList(for: id, remote: [], into: &actions)
        }
    }

    func answerList(for id: ConnectionID, remote: [RemoteRoom], into actions: inout [Action]) {
        var summaries: [String: ServerMessage.RoomSummary] = rooms.mapValues {
            ServerMessage.RoomSummary(room: $0.name, members: $0.members.count, topic: $0.topic)
        }
        for room in remote {
            summaries[room.key, default: .init(room: room.name, members: 0, topic: room.topic)].members += room.members
        }
        send(.rooms(summaries.values.sorted { $0.room.lowercased() < $1.room.lowercased() }), to: id, into: &actions)
    }

    func who(_ raw: String, for id: ConnectionID, into actions: inout [Action]) throws(ProtocolError) {
        let name = try RoomName(validating: raw)
        if clustered {
            actions.append(.io(.readRemoteMembers(id, name)))
        } else {
            answerWho(name, for: id, remote: [], into: &actions)
        }
    }

    func answerWho(_ name: RoomName, for id: ConnectionID, remote: [String], into actions: inout [Action]) {
        let room = rooms[name.key]
        send(
            .members(
                room: room?.name ?? name.name, members: (room.map(memberNicks) ?? []) + remote,
                away: room.flatMap(awayNicks)),
            to: id, into: &actions)
    }

    func memberNicks(_ room: Room) -> [String] {
        room.members.compactMap { sessions[$0]?.nick?.name }
    }

    /// The members marked away, or nil when none is (the field is then left out).
    func awayNicks(_ room: Room) -> [String]? {
        let away = room.members.compactMap { id in sessions[id].flatMap { $0.away != nil ? $0.nick?.name : nil } }
        return away.isEmpty ? nil : away
    }
}
