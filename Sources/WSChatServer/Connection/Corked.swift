import NIOCore

/// The frames one connection gets in one turn of its event loop, gathered into one buffer so
/// that the turn ends with one write through the channel instead of one per frame: a flood
/// brings each member several broadcasts a turn, and each write through NIO's pipeline costs
/// more than the bytes of a chat message. The first frame is kept as it is, shared with the
/// other recipients. A broadcast after it is joined to it by the loop's `FrameJoins`, once for
/// every member that got the same two; a frame for this connection alone (a reply, a pong) is
/// copied into a buffer of the connection's own, which then grows in place, so a client that
/// brings many replies in one turn costs a copy of each, not a join of everything before it.
/// A buffer never grows past `limit`, so a large frame (a history page) is written on its own
/// rather than copied.
struct Corked {
    /// uWebSockets corks into 16 KiB; a turn's chat messages fit with room to spare.
    static let limit = 16 * 1024

    private var pending: ByteBuffer?
    /// Whether `pending` is this connection's own copy, rather than a buffer that other
    /// connections hold too.
    private var ownsPending = false

    /// Adds `frame` after the frames already gathered; `broadcast` when other connections get
    /// the same frame in this turn. Returns the gathered frames when `frame` does not fit
    /// beside them: they must be written before it.
    mutating func append(_ frame: ByteBuffer, broadcast: Bool, joins: FrameJoins) -> ByteBuffer? {
        // `pending` is worked on in place, never copied out: a copy is a reference count on the
        // shared buffer for every member of every broadcast.
        guard let gatheredBytes = pending?.readableBytes else {
            pending = frame
            return nil
        }
        guard gatheredBytes + frame.readableBytes <= Self.limit else {
            defer {
                pending = frame
                ownsPending = false
            }
            return pending
        }
        if broadcast && !ownsPending {
            pending = joins.join(pending!, frame)
        } else {
            pending!.writeImmutableBuffer(frame)
            ownsPending = true
        }
        return nil
    }

    /// The frames gathered, in order; nothing is left behind.
    mutating func take() -> ByteBuffer? {
        defer {
            pending = nil
            ownsPending = false
        }
        return pending
    }
}

/// Joins of two frames made in one turn of an event loop, kept until the turn's flush: the
/// members of a room get the same broadcasts in the same order, so the second member to need
/// "these two frames as one buffer" gets the first member's, shared, with no copy and no
/// allocation. One per event loop, used only on it.
final class FrameJoins {
    /// A buffer's bytes, told apart by where they are: two buffers alive at once whose
    /// readable bytes start at the same address and have the same length hold the same bytes.
    private struct Span: Hashable {
        let start: UInt
        let count: Int

        init(_ buffer: ByteBuffer) {
            start = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            count = buffer.readableBytes
        }
    }

    private struct Pair: Hashable {
        let first: Span
        let second: Span
    }

    private var joined: [Pair: ByteBuffer] = [:]
    /// The parts of every join in `joined`, kept until the turn's end: while they are alive,
    /// their addresses cannot be reused by other frames later in the turn.
    private var parts: [ByteBuffer] = []
    /// The join asked for last, and its parts. The members of a room ask for the same join
    /// one after the other, so all but the first are answered without hashing.
    private var lastPair: Pair?
    private var lastJoin: ByteBuffer?

    /// `first` followed by `second`, in one buffer.
    func join(_ first: ByteBuffer, _ second: ByteBuffer) -> ByteBuffer {
        let pair = Pair(first: Span(first), second: Span(second))
        if pair == lastPair, let lastJoin { return lastJoin }
        let both = joined[pair] ?? makeJoin(first, second, as: pair)
        lastPair = pair
        lastJoin = both
        return both
    }

    private func makeJoin(_ first: ByteBuffer, _ second: ByteBuffer, as pair: Pair) -> ByteBuffer {
        var both = ByteBuffer()
        both.reserveCapacity(first.readableBytes + second.readableBytes)
        both.writeImmutableBuffer(first)
        both.writeImmutableBuffer(second)
        joined[pair] = both
        parts.append(first)
        parts.append(second)
        return both
    }

    /// The turn's writes are done: its joins are let go (the channels that took them keep
    /// their own references until written).
    func endTurn() {
        // A turn of replies to many different connections can leave a large table behind;
        // the usual broadcast turn's few entries keep their room.
        let keepsCapacity = joined.count <= 64
        joined.removeAll(keepingCapacity: keepsCapacity)
        parts.removeAll(keepingCapacity: keepsCapacity)
        lastPair = nil
        lastJoin = nil
    }
}
