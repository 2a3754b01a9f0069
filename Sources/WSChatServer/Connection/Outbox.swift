import Synchronization
import WSChatProtocol

/// One connection's bounded queue of frames to send, drained by that connection's writer.
///
/// Senders never wait: a broadcast puts a frame in every member's outbox and moves on. When a
/// client reads too slowly and its queue fills (in frames or in bytes: replies to its own
/// requests count too, so a client that asks without reading only hurts itself), `onOverflow`
/// runs once and the connection is dropped, so one slow reader never holds back the others.
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
        /// Bytes of text queued and not yet handed to the socket.
        var queuedBytes = 0
    }

    private let byteLimit: Int

    init(
        capacity: Int, byteLimit: Int, onSend: @escaping @Sendable () -> Void,
        onOverflow: @escaping @Sendable () -> Void
    ) {
        (frames, continuation) = AsyncStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingOldest(capacity))
        self.byteLimit = byteLimit
        self.onSend = onSend
        self.onOverflow = onOverflow
    }

    /// Queues a frame unless the connection is closing.
    func send(_ message: ServerMessage) {
        send(text: message.encoded())
    }

    /// Queues an already encoded frame (a broadcast encodes once for all members).
    func send(text: String) {
        let size = text.utf8.count
        let fits = state.withLock { state in
            guard !state.closing else { return nil as Bool? }
            state.queuedBytes += size
            return state.queuedBytes <= byteLimit
        }
        switch fits {
        case nil: return
        case false?: overflow()
        case true?:
            enqueue(.text(text))
            onSend()
        }
    }

    /// The writer handed `frame` to the socket: its bytes no longer count as queued.
    func wrote(_ frame: Frame) {
        guard case .text(let text) = frame else { return }
        state.withLock { $0.queuedBytes -= text.utf8.count }
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
        overflow()
    }

    /// Marks the outbox closing and, the first time, reports the overflow; the writer then
    /// drops the connection, and with it everything queued.
    private func overflow() {
        let first = state.withLock { state in
            defer { state.overflowed = true; state.closing = true }
            return !state.overflowed
        }
        if first { onOverflow() }
    }
}
