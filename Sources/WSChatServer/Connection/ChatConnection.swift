import NIOCore
import NIOWebSocket
import WSChatProtocol
import WSCore

/// One client's WebSocket on `/ws`: reads frames, applies the rate limit and the `hello`
/// deadline, and hands messages to the hub, which answers through the connection's `Delivery`.
struct ChatConnection {
    let id = ConnectionID()
    let hub: ChatHub
    let configuration: ChatServerConfiguration
    let metrics: ServerMetrics
    let channel: any Channel
    /// Whether the connection negotiated permessage-deflate.
    let deflate: Bool
    /// The client's IP address, for the password throttle and the log.
    let address: String
    let authThrottle: SharedAuthThrottle
    /// For what a client can make happen many times over (wrong passwords).
    let events: SummarisedLog

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let delivery = try await channel.eventLoop.submit { [channel, configuration, deflate, metrics, events, id] in
            try Delivery.install(
                on: channel, deflate: deflate, byteLimit: configuration.sendQueueBytes,
                closeTimeout: TimeAmount(configuration.closeTimeout),
                onOverflow: {
                    metrics.slowConsumersDropped.increment()
                    events.log(.warning, "dropping a client too slow to keep up", metadata: ["session": "\(id)"])
                })
        }.get()
        await hub.connect(id, delivery: delivery)
        let helloDeadline = channel.eventLoop.scheduleTask(in: TimeAmount(configuration.handshakeTimeout)) {
            [configuration] in
            delivery.close(.policyViolation, reason: "no hello within \(configuration.handshakeTimeout)")
        }
        defer { helloDeadline.cancel() }
        do {
            try await read(inbound, into: delivery, onWelcome: { helloDeadline.cancel() })
        } catch {
            await hub.disconnect(id)
            throw error
        }
        await hub.disconnect(id)
    }

    private func read(
        _ inbound: WebSocketInboundStream, into delivery: Delivery, onWelcome: () -> Void
    ) async throws {
        var bucket = TokenBucket(rate: configuration.rate, burst: configuration.burst, now: .now)
        // Latency probes have a bucket of their own, so a client can measure lag while
        // rate-limited, but cannot make the server answer pings without end.
        var pingBucket = TokenBucket(rate: configuration.pingRate, burst: configuration.pingBurst, now: .now)
        var refusedInARow = 0
        var welcomed = false
        for try await frame in inbound.messages(maxSize: configuration.maxFrameSize) {
            metrics.messagesIn.increment()
            if delivery.isClosing { continue }
            guard case .text(let text) = frame else {
                delivery.close(.unsupportedData, reason: "binary frames are not part of the wschat protocol")
                continue
            }
            let message: ClientMessage
            do {
                message = try ClientMessage.decode(text)
            } catch {
                if spendToken(&bucket, &refusedInARow, ref: nil, delivery) { reject(error, delivery) }
                continue
            }
            if case .ping = message {
                guard spendToken(&pingBucket, &refusedInARow, ref: message.reference, delivery) else { continue }
            } else if !spendToken(&bucket, &refusedInARow, ref: message.reference, delivery) {
                continue
            }
            if welcomed {
                await hub.handle(message, from: id)
            } else if case .hello(let hello) = message {
                welcomed = await admit(hello, delivery)
                if welcomed { onWelcome() }
            } else {
                reject(ProtocolError(.badRequest, "the first message must be hello", ref: message.type), delivery)
            }
        }
    }

    /// Says `hello` to the hub; with a server password, through the per-address throttle
    /// that makes guessing slow, and with every wrong password logged.
    private func admit(_ hello: ClientMessage.Hello, _ delivery: Delivery) async -> Bool {
        guard configuration.password != nil else { return await hub.hello(hello, from: id) == .welcomed }
        switch authThrottle.attempt(from: address) {
        case .lockedOut(let retryAfter):
            let seconds = retryAfter.components.seconds + 1
            reject(
                ProtocolError(
                    .authFailed, "too many wrong passwords from your address; try again in \(seconds) s", ref: "hello"),
                delivery)
            delivery.close(.authenticationFailed, reason: "authentication failed")
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
    private func spendToken(_ bucket: inout TokenBucket, _ refusedInARow: inout Int, ref: String?, _ delivery: Delivery)
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
                ref: ref), delivery)
        if refusedInARow > configuration.floodTolerance {
            delivery.close(.policyViolation, reason: "flooding")
        }
        return false
    }

    private func reject(_ error: ProtocolError, _ delivery: Delivery) {
        metrics.countError(error.code)
        delivery.send(.error(error))
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
