/// The names client, server, the browser page and scripts agree on, in one place.
public enum WireProtocol {
    /// The WebSocket subprotocol (`Sec-WebSocket-Protocol`) of protocol v1.
    public static let subprotocol = "wschat.v1"
    /// The path where a server takes chat connections.
    public static let chatPath = "/ws"
}
