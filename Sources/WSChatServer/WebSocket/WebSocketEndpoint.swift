import NIOCore

/// What a WebSocket is for (the chat, the echo): its `WebSocketConnectionHandler` hands it
/// whole messages and tells it of the connection's life, on the channel's event loop. It is
/// not a channel handler of its own: a pipeline context costs about a hundred bytes for
/// every connection, idle or not.
protocol WebSocketEndpoint: AnyObject {
    /// The WebSocket is in its pipeline, on `eventLoop`.
    func opened(on eventLoop: any EventLoop)
    func received(_ message: WebSocketServerCore.Message)
    /// The channel's outgoing buffer went over its high water mark, or back under the low.
    func writabilityChanged(isWritable: Bool, channel: any Channel)
    /// The connection is being closed for being over its byte bound (1008).
    func overflowed()
    /// The socket is closed: nothing more comes, and the handler lets go of its endpoint.
    func closed()
}

extension WebSocketEndpoint {
    func opened(on eventLoop: any EventLoop) {}
    func writabilityChanged(isWritable: Bool, channel: any Channel) {}
    func overflowed() {}
    func closed() {}
}
