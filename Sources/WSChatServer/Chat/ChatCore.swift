import Logging
import WSChatProtocol

/// The chat's decisions, as a value: who is connected under which nick, which rooms exist,
/// who is in them and which messages each member has been handed.
///
/// Events go in (a frame from a connection, a store or cluster result, a notice from another
/// node) and actions come out (send, broadcast, close, and the I/O to do next). Nothing here
/// waits: an action that reads or writes the store or the cluster carries what the decision
/// needs to go on, and its result comes back as a `Completion` that is handled on the state
/// as it is then. `ChatHub` carries the actions out.
struct ChatCore {
    enum Event: Sendable {
        /// A connection is about to say its first `hello` (the hub hears of none before).
        case connected(ConnectionID)
        /// The connection is gone; its rooms see it quit with `reason` unless it already quit.
        case disconnected(ConnectionID, reason: String)
        /// The server is stopping: every connection is closed with 1001, and so are later ones.
        case shutdown
        /// The first message of a connection, at `now` (ms since 1970).
        case hello(ClientMessage.Hello, from: ConnectionID, now: Int64)
        /// A message from a connection that has said `hello`, at `now` (ms since 1970).
        case message(ClientMessage, from: ConnectionID, now: Int64)
        case completed(Completion)
        /// What happened on another node.
        case cluster(ClusterEvent)
    }

    /// The result of an I/O action, with the request it answers.
    enum Completion: Sendable {
        case roomOpened(JoinRequest, RoomRecord)
        case joinHistoryRead(JoinRequest, HistoryPage, remoteMembers: [String])
        case appended(SayRequest, Appended<ChatMessage>)
        /// The recipient of a direct message on another node, or nil when nobody has the nick.
        case remoteRecipientFound(DirectRequest, NickHolder?)
        case directAppended(DirectRequest, Appended<DirectMessage>)
        case topicStored(TopicRequest)
        case nickClaimed(NickClaim, Bool)
        case remoteRoomsRead(ConnectionID, [RemoteRoom])
        case remoteMembersRead(ConnectionID, RoomName, [String])
        /// A page of a room's messages read to fill a gap.
        case caughtUpPage(roomKey: String, HistoryPage)
        case olderHistoryRead(OlderHistoryRequest, HistoryPage)
        case searched(SearchRequest, HistoryPage)
        case conversationRead(ConversationRequest, DirectHistoryPage)
        case failed(Failure, error: String)
    }

    enum Action: Sendable {
        case send(ServerMessage, to: ConnectionID)
        /// One message for many: encoded once. `room` is the key of the room whose live members
        /// `to` holds, when it does: a room gets message after message for the same members,
        /// and the hub finds their connections once for all of them.
        case broadcast(ServerMessage, to: [ConnectionID], room: String?)
        case close(ConnectionID, CloseCode, reason: String)
        /// How the connection's `hello` ended (for its password throttle and `hello` deadline).
        case helloSettled(ConnectionID, HelloOutcome)
        case log(Logger.Level, String, Logger.Metadata)
        /// A change the other nodes must see (only on a node of a cluster).
        case post(ClusterChange)
        /// Deletes an emptied room's record if it holds nothing; an `openRoom` of the same
        /// room waits for it.
        case forgetRoom(RoomName)
        case io(IO)
    }

    /// I/O whose result comes back as a `Completion`.
    enum IO: Sendable {
        case openRoom(JoinRequest)
        case readJoinHistory(JoinRequest, remoteMembers: Bool)
        case append(SayRequest)
        case findRemoteRecipient(DirectRequest)
        case appendDirect(DirectRequest, to: NickHolder)
        case storeTopic(TopicRequest)
        case claimNick(NickClaim)
        case readRemoteRooms(ConnectionID)
        case readRemoteMembers(ConnectionID, RoomName)
        case catchUp(roomKey: String, RoomName, after: Int64)
        case readOlderHistory(OlderHistoryRequest)
        case search(SearchRequest)
        case readConversation(ConversationRequest)
    }

    enum HelloOutcome: Equatable, Sendable {
        case welcomed
        /// Answered with an error; the client may try again.
        case refused
        /// Answered with an error and a close.
        case closed
        /// The password was wrong: answered with `auth_failed` and close 4001.
        case authFailed
    }

    /// What failed, so that the right connection learns of it.
    enum Failure: Sendable {
        /// A request of a connection (`type` is the message's type).
        case request(ConnectionID, type: String)
        /// The cluster could not be asked for a `hello`'s nick.
        case helloClaim(NickClaim)
        /// Reading a room's messages to fill a gap.
        case catchUp(roomKey: String)
    }

    struct JoinRequest: Sendable {
        let member: ConnectionID
        let name: RoomName
        /// The client's `since` and `epoch`, from its `join`.
        let since: Int64?
        let epoch: String?
        /// How many forgets had been started when the room's record was asked for: a record
        /// read while one ran may have been deleted since.
        let forgetsStarted: Int
        /// What the history read asks for: the messages after `resumeFrom`, or the newest ones.
        var resumeFrom: Int64?
        /// Set when the client asked to resume in an epoch the room no longer has.
        var reset: Bool?
    }

    /// A `history` request: the newest `limit` messages of the room below `before`.
    struct OlderHistoryRequest: Sendable {
        let member: ConnectionID
        let name: RoomName
        let before: Int64?
        let limit: Int
    }

    /// A `dm_history`: the newest `limit` direct messages below `before` between `nick` and
    /// `other` that the holder of the secret with digest `owner` sent or received.
    struct ConversationRequest: Sendable {
        let asker: ConnectionID
        let nick: Nick
        let other: Nick
        let owner: String
        let before: Int64?
        let limit: Int
    }

    /// A `search`: messages containing `text`, in `room` or in every room.
    struct SearchRequest: Sendable {
        let asker: ConnectionID
        let text: String
        let room: RoomName?
        let limit: Int
    }

    struct SayRequest: Sendable {
        let sender: ConnectionID
        let roomKey: String
        let message: NewMessage
    }

    struct DirectRequest: Sendable {
        let sender: ConnectionID
        let from: NickHolder
        let to: String
        let text: String
        let cid: String
        let ts: Int64
    }

    struct TopicRequest: Sendable {
        let setter: ConnectionID
        let name: RoomName
        let topic: String
        let by: Nick
    }

    struct NickClaim: Sendable {
        enum Purpose: Sendable {
            case hello
            case change(from: Nick)
        }
        let claimant: ConnectionID
        let nick: Nick
        /// The digest of the claimant's secret, kept with the claim for other nodes.
        let owner: String?
        let purpose: Purpose
    }

    struct Session {
        /// Set by a successful `hello`.
        var nick: Nick?
        /// Keys of the rooms this session is in.
        var rooms: Set<String> = []
        /// Keys of the nicks this connection held before `nick`: a resent `say` or `dm` is
        /// recognised as its own after a nick change, and never matches another sender's
        /// `cid`. Empty (no storage) for the many that never change nick.
        var earlierNicks: Set<String> = []
        /// The digest of the secret said in `hello` (`SecretDigest`): the direct messages
        /// this session sends and receives are stored under it, and it reads them back.
        var owner: String?
        /// Why the user is away, while they are (`away`).
        var away: String?
        /// When `hello` came, and when the user last sent a message (ms since 1970), for `whois`.
        var helloAt: Int64 = 0
        var lastActive: Int64 = 0
    }

    let configuration: ChatServerConfiguration
    /// Whether other nodes share the database (and so nicks, rooms and notices).
    let clustered: Bool
    var sessions: [ConnectionID: Session] = [:]
    var nickOwners: [String: ConnectionID] = [:]
    /// Nicks in use by their confusable skeleton: `аlice` (Cyrillic а) is refused next to `alice`.
    var nickSkeletons: [String: ConnectionID] = [:]
    var rooms: [String: Room] = [:]
    /// Keys of the rooms with members here by their confusable skeleton.
    var roomKeysBySkeleton: [String: String] = [:]
    /// How many forgets of emptied rooms have been started.
    var forgetsStarted = 0
    /// Rooms whose history is being re-read to fill a gap, and rooms to re-read once more.
    var catchingUp: Set<String> = []
    var catchUpAgain: Set<String> = []
    private var shuttingDown = false

    init(configuration: ChatServerConfiguration, clustered: Bool) {
        self.configuration = configuration
        self.clustered = clustered
    }

    /// Users past `hello`.
    var userCount: Int { nickOwners.count }
    /// Rooms with members here.
    var roomCount: Int { rooms.count }

    mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .connected(let id):
            sessions[id] = Session()
            // A connection whose first hello came while the server was stopping.
            if shuttingDown { actions.append(.close(id, .goingAway, reason: "server shutting down")) }
        case .disconnected(let id, let reason):
            disconnect(id, reason: reason, into: &actions)
        case .shutdown:
            shuttingDown = true
            for id in sessions.keys { actions.append(.close(id, .goingAway, reason: "server shutting down")) }
        case .hello(let hello, let id, let now):
            sessions[id]?.helloAt = now
            sessions[id]?.lastActive = now
            self.hello(hello, from: id, into: &actions)
        case .message(let message, let id, let now):
            receive(message, from: id, now: now, into: &actions)
        case .completed(let completion):
            complete(completion, into: &actions)
        case .cluster(let event):
            apply(event, into: &actions)
        }
        return actions
    }

    /// Handles one decoded frame from a connection that has said `hello`.
    private mutating func receive(
        _ message: ClientMessage, from id: ConnectionID, now: Int64, into actions: inout [Action]
    ) {
        do throws(ProtocolError) {
            switch message {
            case .hello:
                throw ProtocolError(
                    .badRequest, "hello was already accepted; use nick to change your nick", ref: "hello")
            case .join(let join): try self.join(join, from: id, into: &actions)
            case .part(let room): try part(room, from: id, into: &actions)
            case .say(let say):
                sessions[id]?.lastActive = now
                try self.say(say, from: id, now: now, into: &actions)
            case .dm(let dm):
                sessions[id]?.lastActive = now
                try directMessage(dm, from: id, now: now, into: &actions)
            case .nick(let nick): try changeNick(to: nick, from: id, into: &actions)
            case .topic(let room, let topic): try setTopic(topic, in: room, from: id, into: &actions)
            case .list: listRooms(for: id, into: &actions)
            case .who(let room): try who(room, for: id, into: &actions)
            case .ping(let t): send(.pong(t), to: id, into: &actions)
            case .quit(let reason): quit(id, reason: reason, into: &actions)
            case .history(let request): try olderHistory(request, from: id, into: &actions)
            case .search(let request): try search(request, from: id, into: &actions)
            case .away(let reason): setAway(reason, from: id, into: &actions)
            case .whois(let nick): try whois(nick, for: id, now: now, into: &actions)
            case .directHistory(let request): try conversation(request, from: id, into: &actions)
            }
        } catch {
            fail(id, error.ref == nil ? error.answering(message.type) : error, into: &actions)
        }
    }

    private mutating func complete(_ completion: Completion, into actions: inout [Action]) {
        switch completion {
        case .roomOpened(let request, let record): roomOpened(request, record, into: &actions)
        case .joinHistoryRead(let request, let page, let remoteMembers):
            joinHistoryRead(request, page, remoteMembers: remoteMembers, into: &actions)
        case .appended(let request, let stored): appended(request, stored, into: &actions)
        case .remoteRecipientFound(let request, let recipient):
            remoteRecipientFound(request, recipient, into: &actions)
        case .directAppended(let request, let stored): directAppended(request, stored, into: &actions)
        case .topicStored(let request): topicStored(request, into: &actions)
        case .nickClaimed(let claim, let claimed): nickClaimed(claim, claimed, into: &actions)
        case .remoteRoomsRead(let id, let remote): answerList(for: id, remote: remote, into: &actions)
        case .remoteMembersRead(let id, let name, let remote): answerWho(name, for: id, remote: remote, into: &actions)
        case .caughtUpPage(let roomKey, let page): caughtUpPage(roomKey, page, into: &actions)
        case .olderHistoryRead(let request, let page): olderHistoryRead(request, page, into: &actions)
        case .searched(let request, let page): searched(request, page, into: &actions)
        case .conversationRead(let request, let page): conversationRead(request, page, into: &actions)
        case .failed(let failure, let error): failed(failure, error: error, into: &actions)
        }
    }

    private mutating func failed(_ failure: Failure, error: String, into actions: inout [Action]) {
        switch failure {
        case .request(let id, let type):
            actions.append(.log(.error, "history store failed", ["error": "\(error)", "type": "\(type)"]))
            guard sessions[id] != nil else { return }
            actions.append(.close(id, .internalError, reason: "the server could not store or read history"))
        case .helloClaim(let claim):
            actions.append(.log(.error, "could not claim a nick in the cluster", ["error": "\(error)"]))
            let id = claim.claimant
            if sessions[id]?.nick == claim.nick {
                sessions[id]?.nick = nil
                release(claim.nick)
                actions.append(.close(id, .internalError, reason: "the server could not reach its database"))
            }
            actions.append(.helloSettled(id, .closed))
        case .catchUp(let roomKey):
            actions.append(.log(.error, "could not catch up on a room", ["room": "\(roomKey)", "error": "\(error)"]))
            catchingUp.remove(roomKey)
            catchUpAgain.remove(roomKey)
        }
    }

    /// Forgets a connection; its rooms see it quit with `reason` unless it already quit.
    private mutating func disconnect(_ id: ConnectionID, reason: String, into actions: inout [Action]) {
        guard let session = sessions.removeValue(forKey: id), let nick = session.nick else { return }
        release(nick)
        for key in session.rooms {
            leave(
                roomKey: key, member: id, nick: nick,
                presence: .init(room: "", nick: nick.name, event: .quit, reason: reason), into: &actions)
        }
        post(.released(nick), into: &actions)
    }

    // MARK: Sending

    func send(_ message: ServerMessage, to id: ConnectionID, into actions: inout [Action]) {
        guard sessions[id] != nil else { return }
        actions.append(.send(message, to: id))
    }

    /// One action for all of `recipients`: room members and holders of nicks, who are
    /// connected (a connection leaves its rooms and nicks when it goes). `room`: the room
    /// whose live members they are.
    func broadcast(
        _ message: ServerMessage, to recipients: some Collection<ConnectionID>, room: String? = nil,
        into actions: inout [Action]
    ) {
        guard !recipients.isEmpty else { return }
        actions.append(.broadcast(message, to: Array(recipients), room: room))
    }

    func fail(_ id: ConnectionID, _ error: ProtocolError, into actions: inout [Action]) {
        send(.error(error), to: id, into: &actions)
    }

    func post(_ change: ClusterChange, into actions: inout [Action]) {
        if clustered { actions.append(.post(change)) }
    }

    /// The session's nick; only sessions past `hello` reach the handlers that ask.
    func nick(of id: ConnectionID) -> Nick? { sessions[id]?.nick }

    /// Whether a stored message with `from` was sent by this connection (under any nick it held).
    func sentBy(_ id: ConnectionID, from: String) -> Bool {
        guard let from = try? Nick(validating: from) else { return false }
        guard let session = sessions[id] else { return false }
        return session.nick?.key == from.key || session.earlierNicks.contains(from.key)
    }

    /// The error for a `cid` that another sender's message already carries: nothing of that
    /// message is shown, and the client learns to pick a fresh one.
    static func foreignCID(_ cid: String) -> ProtocolError {
        ProtocolError(.badRequest, "this cid belongs to another sender's message; use a new one (a UUID)", ref: cid)
    }
}
