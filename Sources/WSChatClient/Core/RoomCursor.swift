import WSChatProtocol

/// Where the user is in one room's history: the last `id` seen and its `epoch`, so a
/// rejoin resumes right after it.
struct RoomCursor: Equatable {
    /// The name the user typed (the server's spelling once joined).
    var name: String
    var lastID: Int64?
    var epoch: String?
    /// A `join` with `since` answered `more: true`: the next page is on its way.
    var paging = false

    /// The `join` that resumes this room.
    var join: ClientMessage.Join {
        ClientMessage.Join(room: name, since: lastID, epoch: lastID == nil ? nil : epoch)
    }
}
