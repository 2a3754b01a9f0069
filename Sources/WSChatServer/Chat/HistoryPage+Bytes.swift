import WSChatProtocol

/// A message whose size on the wire a page's byte bound counts.
protocol WireSized {
    /// About how many bytes the message takes in a frame: its strings plus the JSON around them.
    var wireBytes: Int { get }
}

extension MessagePage where Message: WireSized {
    /// The page cut to at most `budget` bytes of messages (as they go on the wire, about),
    /// keeping the oldest (a resume pages forward) or the newest (a first join shows the
    /// latest); `more` is set when anything was cut. At least one message is always kept.
    func bounded(toBytes budget: Int, keepingNewest: Bool) -> MessagePage {
        var used = 0
        var kept = 0
        let ordered = keepingNewest ? Array(messages.reversed()) : messages
        for message in ordered {
            used += message.wireBytes
            if used > budget, kept > 0 { break }
            kept += 1
        }
        guard kept < messages.count else { return self }
        let slice = keepingNewest ? Array(messages.suffix(kept)) : Array(messages.prefix(kept))
        return MessagePage(messages: slice, more: true)
    }
}

extension ChatMessage: WireSized {
    var wireBytes: Int {
        text.utf8.count + from.utf8.count + cid.utf8.count + room.utf8.count + 96
    }
}

extension DirectMessage: WireSized {
    var wireBytes: Int {
        text.utf8.count + from.utf8.count + to.utf8.count + cid.utf8.count + 96
    }
}
