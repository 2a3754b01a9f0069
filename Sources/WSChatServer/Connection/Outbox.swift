import Synchronization
import WSChatProtocol

/// One connection's bounded queue of frames to send, drained by that connection's writer.
///
/// Senders never wait: a broadcast puts a frame in every member's outbox and moves on. When a
/// client reads too slowly and its queue fills, `onOverflow` runs once and the connection is
/// dropped, so one slow reader never holds back the others.
final class Outbox: Sendable {
    enum Frame: Sendable, Equatable {
        case text(String)
        case close(CloseCode, reason: String)
    }

    let frames: AsyncStream<Frame>
    private let continuation: AsyncStream<Frame>.Continuation
    private let state = Mutex(State())
    private let onOverflow: @Sendable () -> Void
    private let onSend: @Sendable () -> Void

    private struct State {
        var closing = false
        var overflowed = false
    }

    init(capacity: Int, onSend: @escaping @Sendable () -> Void, onOverflow: @escaping @Sendable () -> Void) {
        (frames, continuation) = AsyncStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingOldest(capacity))
        self.onSend = onSend
        self.onOverflow = onOverflow
    }

    /// Queues a frame unless the connection is closing.
    func send(_ message: ServerMessage) {
        send(text: message.encoded())
    }

    /// Queues an already encoded frame (a broadcast encodes once for all members).
    func send(text: String) {
        guard !isClosing else { return }
        enqueue(.text(text))
        onSend()
    }

    /// Queues a close frame after everything already queued; later frames are dropped.
    func close(_ code: CloseCode, reason: String) {
        let first = state.withLock { state in
            defer { state.closing = true }
            return !state.closing
        }
        if first { enqueue(.close(code, reason: reason)) }
    }

    /// Whether a close has been queued: frames read from the client now are ignored.
    var isClosing: Bool { state.withLock { $0.closing } }

    /// Ends the stream: the writer stops once it has sent what is queued.
    func finish() { continuation.finish() }

    private func enqueue(_ frame: Frame) {
        guard case .dropped = continuation.yield(frame) else { return }
        let first = state.withLock { state in
            defer { state.overflowed = true; state.closing = true }
            return !state.overflowed
        }
        if first { onOverflow() }
    }
}
