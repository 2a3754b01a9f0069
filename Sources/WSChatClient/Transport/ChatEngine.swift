import Logging
import NIOCore
import WSChatProtocol
import WSClient

/// The client engine at work: runs `EngineCore` against real connections, real time and
/// system randomness, and reports everything through `events`.
///
/// Commands may be sent from any task with `perform`; `run()` returns once the engine has
/// stopped for good (quit, authentication failed).
public final class ChatEngine: Sendable {
    /// Everything that happens, in order: state changes, server frames, notices.
    public let events: AsyncStream<EngineEvent>
    private let eventSink: AsyncStream<EngineEvent>.Continuation
    private let inputs: AsyncStream<Input>
    private let inputSink: AsyncStream<Input>.Continuation
    private let configuration: ClientConfiguration
    private let logger: Logger

    enum Input: Sendable {
        case command(UserCommand)
        case transport(generation: Int, TransportEvent)
        case tick
    }

    enum TransportEvent: Sendable {
        case opened(WebSocketOutboundWriter)
        case frame(String)
        case closed(code: UInt16?, description: String)
    }

    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "wschat.engine")) {
        self.configuration = configuration
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: EngineEvent.self)
        (inputs, inputSink) = AsyncStream.makeStream(of: Input.self)
    }

    /// Asks the engine to do something; safe from any task, never blocks.
    public func perform(_ command: UserCommand) {
        inputSink.yield(.command(command))
    }

    /// Runs until the engine stops for good. Cancelling the calling task stops it too.
    public func run() async {
        var core = EngineCore(configuration: configuration, random: SystemRandomNumberGenerator())
        var connection: Connection?
        var generation = 0
        var timer: Task<Void, Never>?
        defer {
            timer?.cancel()
            connection?.cancel()
            eventSink.finish()
        }

        func apply(_ actions: [EngineCore<SystemRandomNumberGenerator>.Action]) {
            for action in actions {
                switch action {
                case .connect(let url):
                    logger.info("connecting", metadata: ["url": "\(url)"])
                    connection?.cancel()
                    generation += 1
                    connection = Connection.open(
                        url: url, generation: generation, configuration: configuration, logger: logger,
                        sink: inputSink)
                case .send(let message):
                    connection?.send(message.encoded())
                case .disconnect:
                    connection?.cancel()
                    connection = nil
                case .emit(let event):
                    log(event)
                    eventSink.yield(event)
                }
            }
        }

        apply(core.handle(.start, at: .now))
        for await input in inputs {
            if Task.isCancelled { break }
            switch input {
            case .command(let command):
                apply(core.handle(.command(command), at: .now))
            case .tick:
                apply(core.handle(.tick, at: .now))
            case .transport(let from, let event):
                guard from == generation, let current = connection else { continue }
                switch event {
                case .opened(let writer):
                    current.attach(writer)
                    apply(core.handle(.transportOpened, at: .now))
                case .frame(let text):
                    apply(core.handle(.received(text), at: .now))
                case .closed(let code, let description):
                    connection = nil
                    apply(core.handle(.transportClosed(code: code, description: description), at: .now))
                }
            }
            if core.isFinished { break }
            timer?.cancel()
            timer = core.nextDeadline.map { deadline in
                Task { [inputSink] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    if !Task.isCancelled { inputSink.yield(.tick) }
                }
            }
        }
    }
}

extension ChatEngine {
    /// What happened, for the log file: connection states with their reasons, refusals and
    /// errors, never what anyone wrote.
    func log(_ event: EngineEvent) {
        switch event {
        case .state(.connected(latency: nil)):
            logger.info("connected")
        case .state(.reconnecting(let retryAt, let attempt, let error)):
            let delay = ContinuousClock.now.duration(to: retryAt)
            logger.info(
                "disconnected; retrying",
                metadata: [
                    "error": "\(error)", "attempt": "\(attempt)",
                    "retry_in": "\(delay.formatted(.units(allowed: [.seconds, .milliseconds])))",
                ])
        case .state(.offline(let reason)):
            logger.info("offline", metadata: ["reason": "\(reason)"])
        case .notice(let text):
            logger.info("\(text)")
        case .failed(_, let error):
            logger.warning(
                "a message was refused", metadata: ["code": "\(error.code.rawValue)", "reason": "\(error.message)"])
        case .undelivered:
            logger.warning("a message was not delivered")
        case .server(.error(let error), _):
            logger.warning(
                "the server refused a request",
                metadata: ["code": "\(error.code.rawValue)", "reason": "\(error.message)"])
        case .state, .server, .pending, .olderHistoryNotShown:
            break
        }
    }

    /// One WebSocket connection: a task running the client, and a writer task that sends
    /// queued frames so that a stuck socket never blocks the engine.
    final class Connection: Sendable {
        private let task: Task<Void, Never>
        private let outgoing: AsyncStream<String>.Continuation
        private let writers: AsyncStream<WebSocketOutboundWriter>.Continuation
        private let writerTask: Task<Void, Never>

        private init(
            task: Task<Void, Never>, outgoing: AsyncStream<String>.Continuation,
            writers: AsyncStream<WebSocketOutboundWriter>.Continuation, writerTask: Task<Void, Never>
        ) {
            self.task = task
            self.outgoing = outgoing
            self.writers = writers
            self.writerTask = writerTask
        }

        static func open(
            url: String, generation: Int, configuration: ClientConfiguration, logger: Logger,
            sink: AsyncStream<Input>.Continuation
        ) -> Connection {
            let (frames, outgoing) = AsyncStream.makeStream(of: String.self)
            let (writerStream, writers) = AsyncStream.makeStream(of: WebSocketOutboundWriter.self)
            let writerTask = Task {
                var iterator = writerStream.makeAsyncIterator()
                guard let writer = await iterator.next() else { return }
                for await text in frames {
                    do { try await writer.write(.text(text)) } catch { return }
                }
            }
            let task = Task {
                let description: String
                var code: UInt16?
                do {
                    let close = try await WebSocketClient.connect(
                        url: url,
                        configuration: WebSocketTransport.configuration(maxMessageSize: configuration.maxMessageSize),
                        tlsConfiguration: url.lowercased().hasPrefix("wss:")
                            ? WebSocketTransport.tlsConfiguration(
                                insecure: configuration.insecureTLS, caFile: configuration.caFile) : nil,
                        logger: logger
                    ) { inbound, outbound, _ in
                        sink.yield(.transport(generation: generation, .opened(outbound)))
                        for try await message in inbound.messages(maxSize: configuration.maxMessageSize) {
                            if case .text(let text) = message {
                                sink.yield(.transport(generation: generation, .frame(text)))
                            }
                        }
                    }
                    code = close.map { UInt16(webSocketErrorCode: $0.closeCode) }
                    description =
                        close.map { "closed by the server (\(code ?? 0)\($0.reason.map { " \($0)" } ?? ""))" }
                        ?? "the connection closed"
                } catch {
                    description = Self.explain(error, url: url)
                }
                sink.yield(.transport(generation: generation, .closed(code: code, description: description)))
            }
            return Connection(task: task, outgoing: outgoing, writers: writers, writerTask: writerTask)
        }

        func attach(_ writer: WebSocketOutboundWriter) {
            writers.yield(writer)
            writers.finish()
        }

        func send(_ text: String) {
            outgoing.yield(text)
        }

        func cancel() {
            outgoing.finish()
            writers.finish()
            writerTask.cancel()
            task.cancel()
        }

        /// A one-line reason a user can act on.
        static func explain(_ error: any Error, url: String) -> String {
            let text = "\(error)"
            if text.contains("connectionRefused") || text.contains("Connection refused") {
                return "cannot connect to \(url): connection refused — is wschat-server running?"
            }
            if text.contains("connectTimeout") { return "cannot connect to \(url): timed out" }
            if text.contains("cannotUseIPAddressInSNI") {
                // swift-websocket 1.6.2 sends the host as TLS SNI even when it is an IP address.
                return "cannot connect to \(url): wss:// needs the server's host name, not an IP address"
            }
            if text.contains("failedToValidateHostname") {
                return "cannot connect to \(url): its TLS certificate is for another host name"
            }
            if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
                return "cannot connect to \(url): its TLS certificate is not trusted "
                    + "(signed by a private CA? --ca-file; a development server? --insecure)"
            }
            if let error = error as? WebSocketClientError, error == .webSocketUpgradeFailed {
                return "\(url) refused the WebSocket upgrade (wrong path, or too many connections?)"
            }
            return "cannot connect to \(url): \(text)"
        }
    }
}
