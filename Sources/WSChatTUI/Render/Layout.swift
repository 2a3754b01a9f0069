/// Where each pane sits for a terminal size: title on top, channel list left of the
/// messages, status bar and input line at the bottom.
public struct Layout: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// The nick list pane is wanted (F7, `/nicklist`) and the buffer is a room.
    public let showsNickList: Bool

    public init(width: Int, height: Int, nickList: Bool = false) {
        self.width = max(width, 1)
        self.height = max(height, 1)
        self.showsNickList = nickList
    }

    /// The channel list's width (its border column included).
    public var channelWidth: Int { width < 30 ? 0 : min(22, max(11, width / 5)) }
    /// First column of the message pane.
    public var messageX: Int { channelWidth }
    public var messageWidth: Int { max(1, width - channelWidth - nickListWidth) }
    /// The nick list's width on the right (its border column included); none on a narrow
    /// terminal, where the messages need the room.
    public var nickListWidth: Int { showsNickList && width >= 60 ? min(20, max(12, width / 6)) : 0 }
    /// First column of the nick list (its border).
    public var nickListX: Int { width - nickListWidth }
    /// Rows 1…messageRows hold the channel list and the messages.
    public var messageRows: Int { max(0, height - 3) }
    public var statusRow: Int { height - 2 }
    public var inputRow: Int { height - 1 }
}
