import Foundation
import Logging
import WSChatProtocol

/// The chat itself: who is connected under which nick, which rooms exist and who is in them.
///
/// Connections hand it every frame past the rate limit; it answers through their deliveries,
/// which never block, so a broadcast costs the same whatever the members' network.
actor ChatHub {
    struct Session {
        let delivery: Delivery
        /// Set by a successful `hello`.
        var nick: Nick?
        /// Keys of the rooms this session is in.
        var rooms: Set<String> = []
        /// Keys of every nick this connection has held: a resent `say` or `dm` is recognised
        /// as its own after a nick change, and never matches another sender's `cid`.
        var heldNicks: Set<String> = []
    }

    let configuration: ChatServerConfiguration
    let store: any HistoryStore
    /// The other nodes sharing the database, when there are any.
    let cluster: (any ClusterLink)?
    let metrics: ServerMetrics
    let logger: Logger
    /// Compresses a frame once for every member that negotiated permessage-deflate; nil if
    /// zlib could not start, and then every frame goes out plain.
    let deflater = try? MessageDeflater()
    var sessions: [ConnectionID: Session] = [:]
    var nickOwners: [String: ConnectionID] = [:]
    /// Nicks in use by their confusable skeleton: `аlice` (Cyrillic а) is refused next to `alice`.
    var nickSkeletons: [String: ConnectionID] = [:]
    var rooms: [String: Room] = [:]
    /// Keys of the rooms with members here by their confusable skeleton.
    var roomKeysBySkeleton: [String: String] = [:]
    /// Rooms that emptied and whose unused record the store is deleting; a join waits for it.
    var forgetting: [String: (generation: Int, task: Task<Void, Never>)] = [:]
    var forgetGeneration = 0
    /// Rooms whose history is being re-read to fill a gap, and rooms to re-read once more.
    var catchingUp: Set<String> = []
    var catchUpAgain: Set<String> = []
    private var shuttingDown = false
    private var drained: [CheckedContinuation<Void, Never>] = []

    init(
        configuration: ChatServerConfiguration, store: any HistoryStore, cluster: (any ClusterLink)?,
        metrics: ServerMetrics, logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.cluster = cluster
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Connections

    func connect(_ id: ConnectionID, delivery: Delivery) {
        sessions[id] = Session(delivery: delivery)
        metrics.openConnections.record(sessions.count)
        // A connection whose upgrade finished while the server was stopping.
        if shuttingDown { delivery.close(.goingAway, reason: "server shutting down") }
    }

    /// Forgets a connection; its rooms see it quit with `reason` unless it already quit.
    func disconnect(_ id: ConnectionID, reason: String = "connection lost") {
        guard let session = sessions.removeValue(forKey: id) else { return }
        metrics.openConnections.record(sessions.count)
        if let nick = session.nick {
            release(nick)
            for key in session.rooms {
                leave(
                    roomKey: key, member: id, nick: nick,
                    presence: .init(room: "", nick: nick.name, event: .quit, reason: reason))
            }
            cluster?.post(.released(nick))
        }
        if sessions.isEmpty {
            drained.forEach { $0.resume() }
            drained.removeAll()
        }
    }

    /// Closes every connection with 1001 and waits (at most `timeout`) until they are gone.
    func shutdown(timeout: Duration) async {
        shuttingDown = true
        for session in sessions.values {
            session.delivery.close(.goingAway, reason: "server shutting down")
        }
        guard !sessions.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilDrained() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitUntilDrained() async {
        guard !sessions.isEmpty else { return }
        await withCheckedContinuation { drained.append($0) }
    }

    // MARK: Frames

    /// Handles one decoded frame from a connection that has said `hello`.
    func handle(_ message: ClientMessage, from id: ConnectionID) async {
        do {
            switch message {
            case .hello:
                throw ProtocolError(
                    .badRequest, "hello was already accepted; use nick to change your nick", ref: "hello")
            case .join(let join): try await self.join(join, from: id)
            case .part(let room): try part(room, from: id)
            case .say(let say): try await self.say(say, from: id)
            case .dm(let dm): try await directMessage(dm, from: id)
            case .nick(let nick): try await changeNick(to: nick, from: id)
            case .topic(let room, let topic): try await setTopic(topic, in: room, from: id)
            case .list: try await listRooms(for: id)
            case .who(let room): try await who(room, for: id)
            case .ping(let t): send(.pong(t), to: id)
            case .quit(let reason): quit(id, reason: reason)
            }
        } catch let error as ProtocolError {
            fail(id, error.ref == nil ? error.answering(message.type) : error)
        } catch {
            logger.error("history store failed", metadata: ["error": "\(error)", "type": "\(message.type)"])
            sessions[id]?.delivery.close(.internalError, reason: "the server could not store or read history")
        }
    }

    // MARK: Sending

    func send(_ message: ServerMessage, to id: ConnectionID) {
        guard let delivery = sessions[id]?.delivery else { return }
        delivery.send(message, deflater: deflater)
        metrics.messagesOut.increment()
    }

    /// Encodes `message` once (compressed once too, when some recipient takes compressed
    /// frames) and queues the same bytes for every recipient.
    func broadcast(_ message: ServerMessage, to recipients: some Sequence<ConnectionID>) {
        var deliveries: [Delivery] = []
        var someDeflate = false
        for id in recipients {
            guard let delivery = sessions[id]?.delivery else { continue }
            deliveries.append(delivery)
            someDeflate = someDeflate || delivery.deflate
        }
        guard !deliveries.isEmpty else { return }
        Delivery.deliver(WireFrame(text: message.encoded(), deflater: someDeflate ? deflater : nil), to: deliveries)
        metrics.messagesOut.increment(by: Int64(deliveries.count))
    }

    func fail(_ id: ConnectionID, _ error: ProtocolError) {
        metrics.countError(error.code)
        send(.error(error), to: id)
    }

    /// The session's nick; only sessions past `hello` reach the handlers that ask.
    func nick(of id: ConnectionID) -> Nick? { sessions[id]?.nick }

    /// Whether a stored message with `from` was sent by this connection (under any nick it held).
    func sentBy(_ id: ConnectionID, from: String) -> Bool {
        guard let from = try? Nick(validating: from) else { return false }
        return sessions[id]?.heldNicks.contains(from.key) == true
    }

    /// The error for a `cid` that another sender's message already carries: nothing of that
    /// message is shown, and the client learns to pick a fresh one.
    static func foreignCID(_ cid: String) -> ProtocolError {
        ProtocolError(.badRequest, "this cid belongs to another sender's message; use a new one (a UUID)", ref: cid)
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
