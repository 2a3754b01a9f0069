import WSChatProtocol

extension ChatCore {
    /// Admits a connection under a nick, or says why not; on a node of a cluster, the nick is
    /// held here while the cluster is asked, so a second local `hello` cannot race it.
    mutating func hello(_ hello: ClientMessage.Hello, from id: ConnectionID, into actions: inout [Action]) {
        guard sessions[id] != nil else {
            actions.append(.helloSettled(id, .closed))
            return
        }
        if let password = configuration.password, hello.password != password {
            fail(id, ProtocolError(.authFailed, "wrong or missing password", ref: "hello"), into: &actions)
            actions.append(.close(id, .authenticationFailed, reason: "authentication failed"))
            actions.append(.helloSettled(id, .authFailed))
            return
        }
        let nick: Nick
        do {
            nick = try Nick(validating: hello.nick)
        } catch {
            fail(id, error.answering("hello"), into: &actions)
            actions.append(.helloSettled(id, .refused))
            return
        }
        if let taken = takenError(for: nick, by: id) {
            fail(id, taken.answering("hello"), into: &actions)
            actions.append(.helloSettled(id, .refused))
            return
        }
        guard nickOwners.count < configuration.maxUsers else {
            fail(
                id,
                ProtocolError(
                    .serverFull, "the server has \(configuration.maxUsers) users, its limit; try again later",
                    ref: "hello"), into: &actions)
            actions.append(.close(id, .tryAgainLater, reason: "server full"))
            actions.append(.helloSettled(id, .closed))
            return
        }
        claim(nick, for: id)
        let owner = hello.secret.map(SecretDigest.of)
        sessions[id]?.owner = owner
        if clustered {
            actions.append(.io(.claimNick(NickClaim(claimant: id, nick: nick, owner: owner, purpose: .hello))))
        } else {
            welcome(id, as: nick, into: &actions)
        }
    }

    private mutating func welcome(_ id: ConnectionID, as nick: Nick, into actions: inout [Action]) {
        send(
            .welcome(
                .init(
                    nick: nick.name, session: id.session, server: configuration.serverName,
                    motd: configuration.motd, limits: configuration.limits)),
            to: id, into: &actions)
        actions.append(.log(.info, "welcome", ["nick": "\(InertText.escaped(nick.name))", "session": "\(id)"]))
        actions.append(.helloSettled(id, .welcomed))
    }

    /// `away` with a reason marks the user away, without one back: the members of their
    /// rooms hear it once each, and so does the user (as the confirmation). On a cluster's
    /// node only its own users hear it; `whois` and `who` there show it.
    mutating func setAway(_ reason: String?, from id: ConnectionID, into actions: inout [Action]) {
        guard let nick = nick(of: id), let session = sessions[id] else { return }
        let notice = ServerMessage.away(.init(nick: nick.name, reason: reason))
        guard session.away != reason else { return send(notice, to: id, into: &actions) }
        sessions[id]?.away = reason
        var recipients: Set<ConnectionID> = [id]
        for key in session.rooms { recipients.formUnion(rooms[key]?.members ?? []) }
        broadcast(notice, to: recipients, into: &actions)
    }

    /// What this server knows of a connected nick: its rooms, whether it is away, since when
    /// it is connected and how long it has been quiet.
    func whois(_ raw: String, for id: ConnectionID, now: Int64, into actions: inout [Action]) throws(ProtocolError) {
        guard let wanted = try? Nick(validating: raw), let owner = nickOwners[wanted.key],
            let session = sessions[owner], let nick = session.nick
        else {
            let scope = clustered ? " to this node (whois sees the users of the node you are on)" : ""
            throw ProtocolError(.noSuchNick, "\(raw) is not connected\(scope)", ref: raw)
        }
        let roomNames = session.rooms.compactMap { rooms[$0]?.name }.sorted { $0.lowercased() < $1.lowercased() }
        send(
            .whois(
                .init(
                    nick: nick.name, rooms: roomNames, away: session.away, since: session.helloAt,
                    idle: max(0, now - session.lastActive) / 1000)),
            to: id, into: &actions)
    }

    mutating func changeNick(to raw: String, from id: ConnectionID, into actions: inout [Action]) throws(ProtocolError)
    {
        guard let old = nick(of: id) else { return }
        let new = try Nick(validating: raw)
        if let taken = takenError(for: new, by: id) { throw taken }
        if clustered, new.key != old.key {
            actions.append(
                .io(
                    .claimNick(
                        NickClaim(claimant: id, nick: new, owner: sessions[id]?.owner, purpose: .change(from: old))))
            )
            return
        }
        rename(id, from: old, to: new, into: &actions)
    }

    /// The cluster's answer to a claim made for a `hello` or a nick change.
    mutating func nickClaimed(_ claim: NickClaim, _ claimed: Bool, into actions: inout [Action]) {
        let id = claim.claimant
        let nick = claim.nick
        switch claim.purpose {
        case .hello:
            guard sessions[id]?.nick == nick else {
                // The connection went while the cluster answered.
                if claimed { post(.released(nick), into: &actions) }
                actions.append(.helloSettled(id, .closed))
                return
            }
            guard claimed else {
                sessions[id]?.nick = nil
                release(nick)
                fail(
                    id, ProtocolError(.nickTaken, "the nick \(nick.name) is taken; choose another", ref: "hello"),
                    into: &actions)
                actions.append(.helloSettled(id, .refused))
                return
            }
            welcome(id, as: nick, into: &actions)
        case .change(let old):
            guard claimed else {
                fail(id, ProtocolError(.nickTaken, "the nick \(nick.name) is taken", ref: "nick"), into: &actions)
                return
            }
            // The user may have gone, or taken the nick locally, while the cluster answered.
            guard self.nick(of: id) == old, takenError(for: nick, by: id) == nil else {
                post(.released(nick), into: &actions)
                return
            }
            rename(id, from: old, to: nick, into: &actions)
        }
    }

    private mutating func rename(_ id: ConnectionID, from old: Nick, to new: Nick, into actions: inout [Action]) {
        release(old)
        claim(new, for: id)
        var audience: Set<ConnectionID> = [id]
        for key in sessions[id]?.rooms ?? [] {
            audience.formUnion(rooms[key]?.members ?? [])
        }
        broadcast(.nick(old: old.name, new: new.name), to: audience, into: &actions)
        post(.renamed(old: old, new: new, roomKeys: Array(sessions[id]?.rooms ?? [])), into: &actions)
    }

    mutating func directMessage(
        _ dm: ClientMessage.DirectSend, from id: ConnectionID, now: Int64, into actions: inout [Action]
    ) throws(ProtocolError) {
        guard let sender = nick(of: id) else { return }
        let recipient: Nick
        do {
            recipient = try Nick(validating: dm.to)
        } catch {
            throw ProtocolError(.noSuchNick, "\(dm.to) is not a valid nick", ref: dm.cid)
        }
        do throws(ProtocolError) {
            try TextRules.validateMessage(dm.text, maxBytes: configuration.maxMessageBytes)
        } catch {
            throw error.answering(dm.cid)
        }
        let request = DirectRequest(
            sender: id, from: NickHolder(nick: sender, owner: sessions[id]?.owner), to: dm.to, text: dm.text,
            cid: dm.cid, ts: now)
        if let local = nickOwners[recipient.key].flatMap({ sessions[$0] }), let nick = local.nick {
            actions.append(.io(.appendDirect(request, to: NickHolder(nick: nick, owner: local.owner))))
        } else if clustered {
            // On another node, which delivers it when the store's notice reaches it.
            actions.append(.io(.findRemoteRecipient(request)))
        } else {
            throw ProtocolError(.noSuchNick, "nobody is online as \(dm.to)", ref: dm.cid)
        }
    }

    mutating func remoteRecipientFound(_ request: DirectRequest, _ recipient: NickHolder?, into actions: inout [Action])
    {
        guard let recipient else {
            fail(
                request.sender, ProtocolError(.noSuchNick, "nobody is online as \(request.to)", ref: request.cid),
                into: &actions)
            return
        }
        actions.append(.io(.appendDirect(request, to: recipient)))
    }

    mutating func directAppended(
        _ request: DirectRequest, _ stored: Appended<DirectMessage>, into actions: inout [Action]
    ) {
        switch stored {
        case .new(let message):
            // Whoever holds the recipient's nick now (a reconnect may have changed the connection).
            let recipient = (try? Nick(validating: message.to)).flatMap { nickOwners[$0.key] }
            broadcast(.dm(message), to: Set([request.sender] + (recipient.map { [$0] } ?? [])), into: &actions)
        case .duplicate(let original):
            // A resend (perhaps under a new nick): only the sender gets it back, and only its own.
            guard sentBy(request.sender, from: original.from) else {
                fail(request.sender, Self.foreignCID(request.cid), into: &actions)
                return
            }
            send(.dm(original), to: request.sender, into: &actions)
        }
    }

    /// A page of the asker's direct messages with a nick, read back under the digest of the
    /// secret they said in `hello`: whoever held their nick before them (or holds it later)
    /// reads only their own.
    func conversation(
        _ request: ClientMessage.DirectHistoryRequest, from id: ConnectionID, into actions: inout [Action]
    )
        throws(ProtocolError)
    {
        guard let nick = nick(of: id) else { return }
        guard let owner = sessions[id]?.owner else {
            throw ProtocolError(
                .badRequest,
                "direct messages are read back only by the secret they were sent under; say hello with a secret")
        }
        let other: Nick
        do {
            other = try Nick(validating: request.with)
        } catch {
            throw ProtocolError(.noSuchNick, "\(request.with) is not a valid nick")
        }
        actions.append(
            .io(
                .readConversation(
                    ConversationRequest(
                        asker: id, nick: nick, other: other, owner: owner, before: request.before,
                        limit: request.limit ?? ClientMessage.defaultHistoryLimit))))
    }

    func conversationRead(_ request: ConversationRequest, _ read: DirectHistoryPage, into actions: inout [Action]) {
        let page = read.bounded(toBytes: historyPageBudget, keepingNewest: true)
        send(
            .directHistory(
                .init(with: request.other.name, before: request.before, messages: page.messages, more: page.more)),
            to: request.asker, into: &actions)
    }

    mutating func quit(_ id: ConnectionID, reason: String?, into actions: inout [Action]) {
        guard let session = sessions[id] else { return }
        // The nick and rooms go at once, so that `quit` is seen before the close.
        if let nick = session.nick {
            release(nick)
            sessions[id]?.nick = nil
            sessions[id]?.rooms = []
            for key in session.rooms {
                leave(
                    roomKey: key, member: id, nick: nick,
                    presence: .init(room: "", nick: nick.name, event: .quit, reason: reason.flatMap(Self.relayable)),
                    into: &actions)
            }
            post(.released(nick), into: &actions)
        }
        actions.append(.close(id, .normal, reason: "bye"))
    }

    /// A quit reason is relayed to others, so it follows the topic's rules; one that breaks
    /// them (control characters, say) is dropped rather than refused: the user is leaving.
    static func relayable(_ reason: String) -> String? {
        guard !reason.isEmpty, (try? TextRules.validateTopic(reason)) != nil else { return nil }
        return reason
    }

    /// Why `nick` cannot be had by `id`: someone else holds it, or a nick that looks the same.
    func takenError(for nick: Nick, by id: ConnectionID) -> ProtocolError? {
        if let owner = nickOwners[nick.key], owner != id {
            return ProtocolError(.nickTaken, "the nick \(nick.name) is taken; choose another")
        }
        if let owner = nick.skeletons.lazy.compactMap({ self.nickSkeletons[$0] }).first(where: { $0 != id }),
            let lookalike = sessions[owner]?.nick
        {
            return ProtocolError(
                .nickTaken, "the nick \(nick.name) looks like \(lookalike.name), who is online; choose another")
        }
        return nil
    }

    /// Gives `nick` to the session, in both indexes.
    private mutating func claim(_ nick: Nick, for id: ConnectionID) {
        if let held = sessions[id]?.nick, held.key != nick.key { sessions[id]?.earlierNicks.insert(held.key) }
        sessions[id]?.nick = nick
        nickOwners[nick.key] = id
        for skeleton in nick.skeletons { nickSkeletons[skeleton] = id }
    }

    /// Frees `nick` for others (the session's own `nick` field is left to the caller).
    mutating func release(_ nick: Nick) {
        let owner = nickOwners.removeValue(forKey: nick.key)
        for skeleton in nick.skeletons where owner != nil && nickSkeletons[skeleton] == owner {
            nickSkeletons[skeleton] = nil
        }
    }
}
