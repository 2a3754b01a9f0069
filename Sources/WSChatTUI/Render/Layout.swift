/// Where each pane sits for a terminal size: title on top, channel list left of the
/// messages, status bar and input line at the bottom.
public struct Layout: Equatable, Sendable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        self.width = max(width, 1)
        self.height = max(height, 1)
    }

    /// The channel list's width (its border column included).
    public var channelWidth: Int { width < 30 ? 0 : min(22, max(11, width / 5)) }
    /// First column of the message pane.
    public var messageX: Int { channelWidth }
    public var messageWidth: Int { max(1, width - channelWidth) }
    /// Rows 1…messageRows hold the channel list and the messages.
    public var messageRows: Int { max(0, height - 3) }
    public var statusRow: Int { height - 2 }
    public var inputRow: Int { height - 1 }
}
