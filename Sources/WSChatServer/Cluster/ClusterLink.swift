import WSChatProtocol

/// What a node shares with the other nodes of a cluster: nicks, room membership and the
/// events its users cause. The hub keeps its own users' state; this adds everyone else's.
protocol ClusterLink: Sendable {
    /// This node's name in the cluster.
    var node: String { get }
    /// Events from other nodes, for the hub, in the order they happened.
    var events: AsyncStream<ClusterEvent> { get }
    /// Claims `nick` cluster-wide for the holder of the secret with digest `owner`; false when
    /// a user on another node has it.
    func claimNick(_ nick: Nick, owner: String?) async throws -> Bool
    /// Applies a change of this node's users to the shared view and tells the other nodes.
    /// Changes are applied in the order they are posted (after any earlier claim).
    func post(_ change: ClusterChange)
    /// The nicks in `room` on other nodes.
    func remoteMembers(of room: RoomName) async throws -> [String]
    /// Rooms with members on other nodes.
    func remoteRooms() async throws -> [RemoteRoom]
    /// The nick with key `key` when a user on another node has it.
    func remoteNick(_ key: String) async throws -> NickHolder?
}

/// A change in this node's users that the other nodes must see.
enum ClusterChange: Sendable {
    case joined(room: RoomName, nick: Nick)
    case left(roomKey: String, nick: Nick, event: ServerMessage.PresenceEvent, reason: String?)
    case renamed(old: Nick, new: Nick, roomKeys: [String])
    case released(Nick)
    case topic(roomKey: String, topic: String, by: String)
}

enum ClusterEvent: Sendable, Equatable {
    case notice(ClusterNotice.Event)
    /// The node may have missed notices (its listening connection was down): catch up.
    case resynchronize
}

/// Who holds a nick: the nick, and the digest of the secret they said in `hello` (nil when
/// they said none).
struct NickHolder: Equatable, Sendable {
    var nick: Nick
    var owner: String?
}

struct RemoteRoom: Equatable, Sendable {
    var key: String
    var name: String
    var topic: String
    var members: Int
}
