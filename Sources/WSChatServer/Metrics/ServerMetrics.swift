import Metrics
import Synchronization
import WSChatProtocol

import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// The server's counters and gauges, reported through swift-metrics into one Prometheus
/// registry per server (so several servers in one test process do not share numbers).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let openConnections: Gauge
    let users: Gauge
    let rooms: Gauge
    let messagesIn: Counter
    let messagesOut: Counter
    let chatMessages: Counter
    let slowConsumersDropped: Counter
    let refusedConnections: Counter
    private let errors: [ErrorCode: Counter]
    /// Open WebSocket connections on `/ws`, counted where they open and close, whether or not
    /// they have said `hello`; recorded under the lock so the gauge never goes back in time.
    private let open = Mutex(0)

    init() {
        let factory = PrometheusMetricsFactory(registry: registry)
        openConnections = Gauge(label: "wschat_open_connections", factory: factory)
        users = Gauge(label: "wschat_users", factory: factory)
        rooms = Gauge(label: "wschat_rooms", factory: factory)
        messagesIn = Counter(label: "wschat_frames_in_total", factory: factory)
        messagesOut = Counter(label: "wschat_frames_out_total", factory: factory)
        chatMessages = Counter(label: "wschat_chat_messages_total", factory: factory)
        slowConsumersDropped = Counter(label: "wschat_slow_consumers_dropped_total", factory: factory)
        refusedConnections = Counter(label: "wschat_refused_connections_total", factory: factory)
        var errors: [ErrorCode: Counter] = [:]
        for code in ErrorCode.allCases {
            errors[code] = Counter(
                label: "wschat_errors_total", dimensions: [("code", code.rawValue)], factory: factory)
        }
        self.errors = errors
    }

    func connectionOpened() {
        open.withLock { count in
            count += 1
            openConnections.record(count)
        }
    }

    func connectionClosed() {
        open.withLock { count in
            count -= 1
            openConnections.record(count)
        }
    }

    func countError(_ code: ErrorCode) {
        errors[code]?.increment()
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
