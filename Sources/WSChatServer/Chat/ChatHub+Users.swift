import WSChatProtocol

extension ChatHub {
    enum HelloOutcome: Equatable {
        case welcomed
        /// Answered with an error; the client may try again.
        case refused
        /// Answered with an error and a close.
        case closed
        /// The password was wrong: answered with `auth_failed` and close 4001.
        case authFailed
    }

    /// Admits a connection under a nick, or says why not.
    func hello(_ hello: ClientMessage.Hello, from id: ConnectionID) async -> HelloOutcome {
        guard let session = sessions[id] else { return .closed }
        if let password = configuration.password, hello.password != password {
            fail(id, ProtocolError(.authFailed, "wrong or missing password", ref: "hello"))
            session.delivery.close(.authenticationFailed, reason: "authentication failed")
            return .authFailed
        }
        let nick: Nick
        do {
            nick = try Nick(validating: hello.nick)
        } catch {
            fail(id, error.answering("hello"))
            return .refused
        }
        if let taken = takenError(for: nick, by: id) {
            fail(id, taken.answering("hello"))
            return .refused
        }
        guard nickOwners.count < configuration.maxUsers else {
            fail(
                id,
                ProtocolError(
                    .serverFull, "the server has \(configuration.maxUsers) users, its limit; try again later",
                    ref: "hello"))
            session.delivery.close(.tryAgainLater, reason: "server full")
            return .closed
        }
        claim(nick, for: id)
        if let cluster {
            // Held locally while the cluster is asked, so a second local hello cannot race it.
            let claimed: Bool?
            do {
                claimed = try await cluster.claimNick(nick)
            } catch {
                logger.error("could not claim a nick in the cluster", metadata: ["error": "\(error)"])
                claimed = nil
            }
            guard sessions[id]?.nick == nick else {
                // The connection went while the cluster answered.
                if claimed == true { cluster.post(.released(nick)) }
                return .closed
            }
            if claimed != true {
                sessions[id]?.nick = nil
                release(nick)
            }
            switch claimed {
            case true?: break
            case false?:
                fail(id, ProtocolError(.nickTaken, "the nick \(nick.name) is taken; choose another", ref: "hello"))
                return .refused
            case nil:
                session.delivery.close(.internalError, reason: "the server could not reach its database")
                return .closed
            }
        }
        send(
            .welcome(
                .init(
                    nick: nick.name, session: id.uuidString.lowercased(), server: configuration.serverName,
                    motd: configuration.motd, limits: configuration.limits)),
            to: id)
        logger.info("welcome", metadata: ["nick": "\(InertText.escaped(nick.name))", "session": "\(id)"])
        return .welcomed
    }

    func changeNick(to raw: String, from id: ConnectionID) async throws {
        guard let old = nick(of: id) else { return }
        let new = try Nick(validating: raw)
        if let taken = takenError(for: new, by: id) { throw taken }
        if let cluster, new.key != old.key {
            guard try await cluster.claimNick(new) else {
                throw ProtocolError(.nickTaken, "the nick \(new.name) is taken")
            }
            // The user may have gone, or taken the nick locally, while the cluster answered.
            guard nick(of: id) == old, takenError(for: new, by: id) == nil else {
                cluster.post(.released(new))
                return
            }
        }
        release(old)
        claim(new, for: id)
        var audience: Set<ConnectionID> = [id]
        for key in sessions[id]?.rooms ?? [] {
            audience.formUnion(rooms[key]?.members ?? [])
        }
        broadcast(.nick(old: old.name, new: new.name), to: audience)
        cluster?.post(.renamed(old: old, new: new, roomKeys: Array(sessions[id]?.rooms ?? [])))
    }

    func directMessage(_ dm: ClientMessage.DirectSend, from id: ConnectionID) async throws {
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
        let recipientID = nickOwners[recipient.key]
        let recipientNick: Nick
        if let recipientID, let local = nick(of: recipientID) {
            recipientNick = local
        } else if let cluster, let remote = try await cluster.remoteNick(recipient.key) {
            // On another node, which delivers it when the store's notice reaches it.
            recipientNick = remote
        } else {
            throw ProtocolError(.noSuchNick, "nobody is online as \(dm.to)", ref: dm.cid)
        }
        let stored = try await store.appendDirect(
            NewDirectMessage(from: sender, to: recipientNick, text: dm.text, cid: dm.cid, ts: Self.now()))
        switch stored {
        case .new(let message):
            metrics.chatMessages.increment()
            broadcast(.dm(message), to: Set([id] + (recipientID.map { [$0] } ?? [])))
        case .duplicate(let original):
            // A resend (perhaps under a new nick): only the sender gets it back, and only its own.
            guard sentBy(id, from: original.from) else { throw Self.foreignCID(dm.cid) }
            send(.dm(original), to: id)
        }
    }

    func quit(_ id: ConnectionID, reason: String?) {
        guard let delivery = sessions[id]?.delivery else { return }
        disconnectSession(id, reason: reason.flatMap(Self.relayable))
        delivery.close(.normal, reason: "bye")
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
    private func claim(_ nick: Nick, for id: ConnectionID) {
        sessions[id]?.nick = nick
        sessions[id]?.heldNicks.insert(nick.key)
        nickOwners[nick.key] = id
        for skeleton in nick.skeletons { nickSkeletons[skeleton] = id }
        metrics.users.record(nickOwners.count)
    }

    /// Frees `nick` for others (the session's own `nick` field is left to the caller).
    func release(_ nick: Nick) {
        let owner = nickOwners.removeValue(forKey: nick.key)
        for skeleton in nick.skeletons where owner != nil && nickSkeletons[skeleton] == owner {
            nickSkeletons[skeleton] = nil
        }
        metrics.users.record(nickOwners.count)
    }

    /// Removes the session's nick and rooms at once so that `quit` is seen before the close.
    private func disconnectSession(_ id: ConnectionID, reason: String?) {
        guard let session = sessions[id], let nick = session.nick else { return }
        release(nick)
        sessions[id]?.nick = nil
        sessions[id]?.rooms = []
        for key in session.rooms {
            leave(
                roomKey: key, member: id, nick: nick,
                presence: .init(room: "", nick: nick.name, event: .quit, reason: reason))
        }
        cluster?.post(.released(nick))
    }
}
