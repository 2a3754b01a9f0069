/// What a cell means, not how it looks: a theme maps these to colours and attributes.
public enum Style: Hashable, Sendable {
    case plain
    case key(StyleKey)
    /// A nick's colour: an index into the theme's nick palette.
    case nick(Int)
    /// A URL (or the part of one on this row): drawn as `chat.link`, and sent to the
    /// terminal as a hyperlink to the whole URL.
    case link(String)
}

/// The theme keys, named by meaning (`chat.time`, `channels.unread`, …).
public enum StyleKey: String, CaseIterable, Sendable {
    /// The whole screen: empty space, and the colours of any look that names none itself.
    case screen = "screen"
    case title = "title"
    case chatTime = "chat.time"
    case chatText = "chat.text"
    case chatNickSelf = "chat.nick.self"
    case chatAction = "chat.action"
    case chatEvent = "chat.event"
    case chatPending = "chat.pending"
    case chatError = "chat.error"
    case chatNotice = "chat.notice"
    case chatMention = "chat.mention"
    case chatMarker = "chat.marker"
    case chatMore = "chat.more"
    case chatControl = "chat.control"
    case chatLink = "chat.link"
    case channels = "channels"
    case channelsCurrent = "channels.current"
    case channelsUnread = "channels.unread"
    case channelsMention = "channels.mention"
    case channelsDM = "channels.dm"
    case border = "border"
    case status = "status"
    case statusLag = "status.lag"
    case statusOffline = "status.offline"
    case input = "input"
    case inputPrompt = "input.prompt"
}
