import Foundation
import Logging
import WSChatProtocol

/// Carries out what `ChatCore` decides: writes to the connections' deliveries, reads and
/// writes the store, asks the cluster, and hands every result back to the core as an event.
///
/// Each caller's chain of I/O runs in the caller's task, so a connection's requests are
/// handled one after the other, in the order it sent them; the actor only keeps the core's
/// state from being touched by two tasks at once. Deliveries never block, so a broadcast costs
/// the same whatever the members' network.
actor ChatHub {
    typealias HelloOutcome = ChatCore.HelloOutcome

    let store: any HistoryStore
    /// The other nodes sharing the database, when there are any.
    let cluster: (any ClusterLink)?
    let metrics: ServerMetrics
    let logger: Logger
    /// Compresses a frame once for every member that negotiated permessage-deflate; nil if
    /// zlib could not start, and then every frame goes out plain.
    let deflater = try? MessageDeflater()
    private var core: ChatCore
    private var deliveries: [ConnectionID: Delivery] = [:]
    /// Each room's live members as last broadcast to, with their connections: the next message
    /// to the same members reuses them. Emptied whenever a connection goes, so it never holds
    /// a closed one.
    private var roomAudiences: [String: (members: [ConnectionID], audience: Audience)] = [:]
    /// Forgets of emptied rooms still running, by room key; a room is opened only after them.
    private var forgetting: [String: (generation: Int, task: Task<Void, Never>)] = [:]
    private var forgetGeneration = 0
    private var drained: [CheckedContinuation<Void, Never>] = []
    /// The gauges as last recorded.
    private var recorded = (users: 0, rooms: 0)

    init(
        configuration: ChatServerConfiguration, store: any HistoryStore, cluster: (any ClusterLink)?,
        metrics: ServerMetrics, logger: Logger
    ) {
        self.core = ChatCore(configuration: configuration, clustered: cluster != nil)
        self.store = store
        self.cluster = cluster
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Events in

    /// Takes a connection in, before its first `hello`.
    func connect(_ id: ConnectionID, delivery: Delivery) async {
        deliveries[id] = delivery
        await run(.connected(id))
    }

    /// Forgets a connection; its rooms see it quit with `reason` unless it already quit.
    func disconnect(_ id: ConnectionID, reason: String = "connection lost") async {
        await run(.disconnected(id, reason: reason))
        deliveries[id] = nil
        roomAudiences.removeAll(keepingCapacity: true)
        if deliveries.isEmpty {
            drained.forEach { $0.resume() }
            drained.removeAll()
        }
    }

    /// Admits a connection under a nick, or says why not.
    func hello(_ hello: ClientMessage.Hello, from id: ConnectionID) async -> HelloOutcome {
        await run(.hello(hello, from: id, now: Self.now())) ?? .closed
    }

    /// Handles one decoded frame from a connection that has said `hello`.
    func handle(_ message: ClientMessage, from id: ConnectionID) async {
        await run(.message(message, from: id, now: Self.now()))
    }

    /// Applies what happened on another node to this node's users.
    func apply(_ event: ClusterEvent) async {
        await run(.cluster(event))
    }

    /// Closes every connection with 1001 and waits (at most `timeout`) until they are gone.
    func shutdown(timeout: Duration) async {
        await run(.shutdown)
        guard !deliveries.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilDrained() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitUntilDrained() async {
        guard !deliveries.isEmpty else { return }
        await withCheckedContinuation { drained.append($0) }
    }

    // MARK: Actions out

    /// Feeds `event` to the core and carries out its actions, and those of every result they
    /// bring; returns how a `hello` in the chain ended.
    @discardableResult
    private func run(_ event: ChatCore.Event) async -> HelloOutcome? {
        var outcome: HelloOutcome?
        var pending = core.handle(event)[...]
        recordGauges()
        while let action = pending.popFirst() {
            guard let io = carryOut(action, outcome: &outcome) else { continue }
            pending = ArraySlice(core.handle(.completed(await perform(io))) + pending)
            recordGauges()
        }
        return outcome
    }

    /// Does an action that needs no waiting; returns the I/O for `perform`. (Kept apart so
    /// that a connection that never asks for I/O never holds `perform`'s larger async frame.)
    private func carryOut(_ action: ChatCore.Action, outcome: inout HelloOutcome?) -> ChatCore.IO? {
        switch action {
        case .send(let message, let id):
            send(message, to: id)
        case .broadcast(let message, let recipients, let room):
            broadcast(message, to: audience(of: recipients, room: room))
        case .close(let id, let code, let reason):
            deliveries[id]?.close(code, reason: reason)
        case .helloSettled(_, let settled):
            outcome = settled
        case .log(let level, let message, let metadata):
            logger.log(level: level, "\(message)", metadata: metadata)
        case .post(let change):
            cluster?.post(change)
        case .forgetRoom(let name):
            forget(name)
        case .io(let io):
            return io
        }
        return nil
    }

    /// Does one piece of I/O; returns its result, for the core.
    private func perform(_ io: ChatCore.IO) async -> ChatCore.Completion {
        switch io {
        case .openRoom(let request):
            while let running = forgetting[request.name.key] { await running.task.value }
            return await completion(of: request.member, "join") {
                .roomOpened(request, try await $0.store.openRoom(request.name))
            }
        case .readJoinHistory(let request, let remoteMembers):
            return await completion(of: request.member, "join") { hub in
                let page =
                    if let since = request.resumeFrom {
                        try await hub.store.messages(
                            in: request.name, after: since, limit: hub.core.configuration.historyPage,
                            textBytes: hub.core.historyPageBudget)
                    } else {
                        try await hub.store.messages(
                            in: request.name, before: .max, limit: hub.core.configuration.recentHistory,
                            textBytes: hub.core.historyPageBudget)
                    }
                let members = remoteMembers ? try await hub.cluster?.remoteMembers(of: request.name) ?? [] : []
                return .joinHistoryRead(request, page, remoteMembers: members)
            }
        case .append(let request):
            return await completion(of: request.sender, "say") { hub in
                let stored = try await hub.store.append(request.message)
                if case .new = stored { hub.metrics.chatMessages.increment() }
                return .appended(request, stored)
            }
        case .findRemoteRecipient(let request):
            return await completion(of: request.sender, "dm") { hub in
                .remoteRecipientFound(request, try await hub.cluster?.remoteNick(Nick(validating: request.to).key))
            }
        case .appendDirect(let request, let recipient):
            return await completion(of: request.sender, "dm") { hub in
                let stored = try await hub.store.appendDirect(
                    NewDirectMessage(
                        from: request.from.nick, to: recipient.nick, text: request.text, cid: request.cid,
                        ts: request.ts, fromOwner: request.from.owner, toOwner: recipient.owner))
                if case .new = stored { hub.metrics.chatMessages.increment() }
                return .directAppended(request, stored)
            }
        case .storeTopic(let request):
            return await completion(of: request.setter, "topic") { hub in
                try await hub.store.setTopic(request.topic, in: request.name)
                return .topicStored(request)
            }
        case .claimNick(let claim):
            guard let cluster else { return .nickClaimed(claim, true) }
            do {
                return .nickClaimed(claim, try await cluster.claimNick(claim.nick, owner: claim.owner))
            } catch {
                if case .hello = claim.purpose { return .failed(.helloClaim(claim), error: "\(error)") }
                return .failed(.request(claim.claimant, type: "nick"), error: "\(error)")
            }
        case .readRemoteRooms(let id):
            return await completion(of: id, "list") { .remoteRoomsRead(id, try await $0.cluster?.remoteRooms() ?? []) }
        case .readRemoteMembers(let id, let name):
            return await completion(of: id, "who") {
                .remoteMembersRead(id, name, try await $0.cluster?.remoteMembers(of: name) ?? [])
            }
        case .readOlderHistory(let request):
            return await completion(of: request.member, "history") { hub in
                let page = try await hub.store.messages(
                    in: request.name, before: request.before ?? .max, limit: request.limit,
                    textBytes: hub.core.historyPageBudget)
                return .olderHistoryRead(request, page)
            }
        case .search(let request):
            return await completion(of: request.asker, "search") { hub in
                .searched(request, try await hub.store.search(request.text, in: request.room, limit: request.limit))
            }
        case .readConversation(let request):
            return await completion(of: request.asker, "dm_history") { hub in
                let page = try await hub.store.directMessages(
                    between: request.nick, and: request.other, owner: request.owner, before: request.before ?? .max,
                    limit: request.limit, textBytes: hub.core.historyPageBudget)
                return .conversationRead(request, page)
            }
        case .catchUp(let roomKey, let name, let after):
            do {
                let page = try await store.messages(in: name, after: after, limit: core.configuration.historyPage)
                return .caughtUpPage(roomKey: roomKey, page)
            } catch {
                return .failed(.catchUp(roomKey: roomKey), error: "\(error)")
            }
        }
    }

    /// Runs one piece of I/O for a connection's request; a failure becomes the core's event.
    private func completion(
        of id: ConnectionID, _ type: String, _ io: (isolated ChatHub) async throws -> ChatCore.Completion
    ) async -> ChatCore.Completion {
        do {
            return try await io(self)
        } catch {
            return .failed(.request(id, type: type), error: "\(error)")
        }
    }

    private func send(_ message: ServerMessage, to id: ConnectionID) {
        guard let delivery = deliveries[id] else { return }
        if case .error(let error) = message { metrics.countError(error.code) }
        delivery.send(message, deflater: deflater)
        metrics.messagesOut.increment()
    }

    /// Encodes `message` once (compressed once too, when some recipient takes compressed
    /// frames) and queues the same bytes for every recipient.
    private func broadcast(_ message: ServerMessage, to audience: Audience) {
        guard audience.count > 0 else { return }
        Delivery.deliver(
            WireFrame(text: message.encoded(), deflater: audience.someDeflate ? deflater : nil), to: audience)
        metrics.messagesOut.increment(by: Int64(audience.count))
    }

    /// The connections of `recipients`; those of a room's live members are found again only
    /// when the members change.
    private func audience(of recipients: [ConnectionID], room: String?) -> Audience {
        if let room, let known = roomAudiences[room], known.members == recipients { return known.audience }
        let audience = Audience(recipients.compactMap { deliveries[$0] })
        if let room { roomAudiences[room] = (recipients, audience) }
        return audience
    }

    /// Deletes an emptied room's record if unused, after any earlier forget of it.
    private func forget(_ name: RoomName) {
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

    private func recordGauges() {
        let now = (users: core.userCount, rooms: core.roomCount)
        if now.users != recorded.users { metrics.users.record(now.users) }
        if now.rooms != recorded.rooms { metrics.rooms.record(now.rooms) }
        recorded = now
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
