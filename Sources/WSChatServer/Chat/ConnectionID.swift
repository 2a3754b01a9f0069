import Synchronization

/// Identifies one WebSocket connection for its whole life: a number this process hands out
/// once. The hub's tables are keyed by it, so it hashes and stores as one word (a UUID took
/// two, and its hashing was a few percent of a broadcast's cost).
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    private let number: UInt64

    private static let issued = Atomic<UInt64>(0)
    /// Tells this process's sessions from those of other runs and other nodes.
    private static let processToken = String(UInt32.random(in: .min ... .max), radix: 16)

    /// A connection's id, never handed out before in this process.
    public init() {
        number = Self.issued.add(1, ordering: .relaxed).newValue
    }

    public var description: String { "\(number)" }

    /// What `welcome.session` says: opaque to clients, and unique beyond this process.
    var session: String { "\(Self.processToken)-\(number)" }
}
