import Logging
import NIOCore
import NIOWebSocket
import WSChatProtocol
import WSCore

/// One client's WebSocket on `/ws`: reads frames, applies the rate limit and the `hello`
/// deadline, hands messages to the hub, and drains the outbox to the socket.
struct ChatConnection {
    let id = ConnectionID()
    let hub: ChatHub
    let configuration: ChatServerConfiguration
    let metrics: ServerMetrics
    let channel: any Channel
    /// The client's IP address, for the password throttle and the log.
    let address: String
    let authThrottle: SharedAuthThrottle
    /// For what a client can make happen many times over (wrong passwords).
    let events: SummarisedLog
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let outbox = makeOutbox(outbound: outbound)
        await hub.connect(id, outbox: outbox)
        let helloDeadline = Task { [configuration] in
            try await Task.sleep(for: configuration.handshakeTimeout)
            outbox.close(.policyViolation, reason: "no hello within \(configuration.handshakeTimeout)")
        }
        defer { helloDeadline.cancel() }

        let readError: (any Error)? = await withTaskGroup(of: Void.self) { group in
            group.addTask { await drain(outbox, to: outbound) }
            defer {
                outbox.finish()
                group.cancelAll()
            }
            do {
                try await read(inbound, into: outbox, onWelcome: { helloDeadline.cancel() })
                return nil
            } catch {
                return error
            }
        }
        await hub.disconnect(id)
        if let readError { throw readError }
    }

    private func read(
        _ inbound: WebSocketInboundStream, into outbox: Outbox, onWelcome: () -> Void
    ) async throws {
        var bucket = TokenBucket(rate: configuration.rate, burst: configuration.burst, now: .now)
        // Latency probes have a bucket of their own, so a client can measure lag while
        // rate-limited, but cannot make the server answer pings without end.
        var pingBucket = TokenBucket(rate: configuration.pingRate, burst: configuration.pingBurst, now: .now)
        var refusedInARow = 0
        var welcomed = false
        for try await frame in inbound.messages(maxSize: configuration.maxFrameSize) {
            metrics.messagesIn.increment()
            if outbox.isClosing { continue }
            guard case .text(let text) = frame else {
                outbox.close(.unsupportedData, reason: "binary frames are not part of the wschat protocol")
                continue
            }
            let message: ClientMessage
            do {
                message = try ClientMessage.decode(text)
            } catch {
                if spendToken(&bucket, &refusedInARow, ref: nil, outbox) { reject(error, outbox) }
                continue
            }
            if case .ping = message {
                guard spendToken(&pingBucket, &refusedInARow, ref: message.reference, outbox) else { continue }
            } else if !spendToken(&bucket, &refusedInARow, ref: message.reference, outbox) {
                continue
            }
            if welcomed {
                await hub.handle(message, from: id)
            } else if case .hello(let hello) = message {
                welcomed = await admit(hello, outbox)
                if welcomed { onWelcome() }
            } else {
                reject(ProtocolError(.badRequest, "the first message must be hello", ref: message.type), outbox)
            }
        }
    }

    /// Says `hello` to the hub; with a server password, through the per-address throttle
    /// that makes guessing slow, and with every wrong password logged.
    private func admit(_ hello: ClientMessage.Hello, _ outbox: Outbox) async -> Bool {
        guard configuration.password != nil else { return await hub.hello(hello, from: id) == .welcomed }
        switch authThrottle.attempt(from: address) {
        case .lockedOut(let retryAfter):
            let seconds = retryAfter.components.seconds + 1
            reject(
                ProtocolError(
                    .authFailed, "too many wrong passwords from your address; try again in \(seconds) s", ref: "hello"),
                outbox)
            outbox.close(.authenticationFailed, reason: "authentication failed")
            events.log(
                .warning, "refused a hello from an address locked out for wrong passwords",
                metadata: ["address": "\(address)"])
            return false
        case .proceed(let delay):
            if delay > .zero { try? await Task.sleep(for: delay) }
        }
        switch await hub.hello(hello, from: id) {
        case .welcomed:
            authThrottle.recordSuccess(from: address)
            return true
        case .authFailed:
            authThrottle.recordFailure(from: address)
            events.log(
                .warning, "wrong password in hello",
                metadata: ["address": "\(address)", "nick": "\(InertText.escaped(hello.nick))"])
            return false
        case .refused, .closed:
            return false
        }
    }

    /// Takes a token for a frame; when there is none, answers `rate_limited` and closes a
    /// connection that keeps flooding.
    private func spendToken(_ bucket: inout TokenBucket, _ refusedInARow: inout Int, ref: String?, _ outbox: Outbox)
        -> Bool
    {
        if bucket.take(at: .now) {
            refusedInARow = 0
            return true
        }
        refusedInARow += 1
        reject(
            ProtocolError(
                .rateLimited,
                "slow down: at most \(configuration.burst) messages at once, then \(configuration.rate) per second",
                ref: ref), outbox)
        if refusedInARow > configuration.floodTolerance {
            outbox.close(.policyViolation, reason: "flooding")
        }
        return false
    }

    private func reject(_ error: ProtocolError, _ outbox: Outbox) {
        metrics.countError(error.code)
        outbox.send(.error(error))
    }

    /// Sends queued frames in order; after a close frame, waits for the peer's close, then
    /// drops the socket if it has not answered in time.
    private func drain(_ outbox: Outbox, to outbound: WebSocketOutboundWriter) async {
        do {
            for await frame in outbox.frames {
                switch frame {
                case .text(let text):
                    try await outbound.write(.text(text))
                    outbox.wrote(frame)
                case .close(let code, let reason):
                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
                    try await Task.sleep(for: configuration.closeTimeout)
                    try await channel.close()
                    return
                }
            }
        } catch {
            logger.trace("writer stopped", metadata: ["error": "\(error)"])
        }
    }

    private func makeOutbox(outbound: WebSocketOutboundWriter) -> Outbox {
        Outbox(
            capacity: configuration.sendQueueLimit, byteLimit: configuration.sendQueueBytes,
            onSend: { [metrics] in metrics.messagesOut.increment() },
            onOverflow: { [metrics, events, channel, id] in
                metrics.slowConsumersDropped.increment()
                events.log(.warning, "dropping a client too slow to keep up", metadata: ["session": "\(id)"])
                Task { await Self.dropSlowClient(outbound: outbound, channel: channel) }
            })
    }

    /// Tries to say 1008 "too slow" (the client is not reading, so the frame may never get
    /// through), then closes the socket regardless.
    private static func dropSlowClient(outbound: WebSocketOutboundWriter, channel: any Channel) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await outbound.close(.policyViolation, reason: "too slow") }
            group.addTask { try? await Task.sleep(for: .seconds(1)) }
            await group.next()
            group.cancelAll()
        }
        try? await channel.close()
    }
}

extension ClientMessage {
    /// What an error about this message refers to: its `cid` when it has one, else its type.
    var reference: String {
        switch self {
        case .say(let say): say.cid
        case .dm(let dm): dm.cid
        default: type
        }
    }
}
