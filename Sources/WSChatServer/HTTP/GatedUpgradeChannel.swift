import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 channel with WebSocket upgrade, with an `UpgradeGate` put in front of
/// the upgrade handler of every connection.
struct GatedUpgradeChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let upgradeChannel: HTTP1WebSocketUpgradeChannel
    let rules: UpgradeGate.Rules

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        upgradeChannel.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let upgrader = try pipeline.handler(
                type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try pipeline.addHandler(UpgradeGate(rules: rules), position: .before(upgrader))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        var quieter = logger
        quieter.handler = UpgradeFailureDemotion(wrapped: logger.handler)
        await upgradeChannel.handle(value: value, logger: quieter)
    }
}

/// Hummingbird logs an `error` for every connection that ends before its first request is
/// answered: a client that vanished, a slowloris socket timed out, a request refused by the
/// gate. None is a server error, and clients can make thousands, so that line goes out at
/// `debug`; everything else passes unchanged.
private struct UpgradeFailureDemotion: LogHandler {
    static let upgradeFailure = "Error handling upgrade result"
    var wrapped: any LogHandler

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level == .error, event.message.description == Self.upgradeFailure else {
            wrapped.log(event: event)
            return
        }
        guard wrapped.logLevel <= .debug else { return }
        var demoted = event
        demoted.level = .debug
        wrapped.log(event: demoted)
    }
}
