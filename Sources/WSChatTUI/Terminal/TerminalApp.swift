import CNcursesw
import Dispatch
import Foundation
import Synchronization
import WSChatClient
import WSChatProtocol

/// Runs the terminal UI on the engine until the user quits: one thread owns ncurses and
/// sleeps in `poll` until a key, an engine event, a signal or (while reconnecting) the next
/// second of the countdown. Idle means idle.
public final class TerminalApp: Sendable {
    public struct Options: Sendable {
        public var nick: String
        public var server: String
        public var theme: String
        public var themes: ThemeLibrary
        /// NO_COLOR is set: attributes only, whatever the theme.
        public var noColor: Bool
        /// `--insecure`: TLS certificates are not checked, which the status bar keeps saying.
        public var tlsUnverified: Bool
        /// What the user should read first (a nick made from the login name, say).
        public var notices: [String] = []
        /// The rooms joined at start.
        public var rooms: [String] = []
        /// Words besides the nick that highlight a message.
        public var highlights: [String] = []
        /// How a mention or DM in another buffer reaches the desktop.
        public var notifications = DesktopNotification.osc9
        /// How message times are shown.
        public var timeFormat = TimeFormat.standard
        /// Links are sent to the terminal as OSC 8 hyperlinks.
        public var hyperlinks = true
        /// Lines each buffer keeps.
        public var scrollback = ChatBuffer.defaultMaxLines
        /// Nicks ignored at start, and how a changed list is kept (nil: it was; else the reason
        /// it could not be).
        public var ignored: [String] = []
        public var saveIgnored: (@Sendable ([String]) -> String?)?
        /// Called with every engine event, off the UI thread (the chat logs).
        public var record: (@Sendable (EngineEvent) -> Void)?

        public init(
            nick: String, server: String, theme: String, themes: ThemeLibrary, noColor: Bool,
            tlsUnverified: Bool = false
        ) {
            self.nick = nick
            self.server = server
            self.theme = theme
            self.themes = themes
            self.noColor = noColor
            self.tlsUnverified = tlsUnverified
        }
    }

    private enum Request: Sendable {
        case engine(EngineEvent)
        case engineStopped
        case terminate
    }

    private let engine: ChatEngine
    private let options: Options
    private let requests = Mutex<[Request]>([])
    private let wakeRead: Int32
    private let wakeWrite: Int32

    public init(engine: ChatEngine, options: Options) {
        self.engine = engine
        self.options = options
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    /// Runs until the user quits, a signal asks to or the terminal goes away; the terminal
    /// is restored either way. Returns the typed messages the server never acknowledged, for
    /// the caller to report once the screen is the shell's again.
    public func run() async -> [PendingMessage] {
        let forwarding = Task {
            var undelivered: [PendingMessage] = []
            for await event in engine.events {
                options.record?(event)
                if case .undelivered(let message) = event { undelivered.append(message) }
                post(.engine(event))
            }
            post(.engineStopped)
            return undelivered
        }
        let signals = [SIGTERM, SIGHUP, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.post(.terminate) }
            source.resume()
            return source
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                loop()
                done.resume()
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        signals.forEach { $0.cancel() }
        // The engine was told to quit: its events end once it has.
        return await forwarding.value
    }

    private func post(_ request: Request) {
        requests.withLock { $0.append(request) }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func loop() {
        let screen = CursesScreen()
        screen.start(resizeWake: wakeWrite)
        screen.hyperlinks = options.hyperlinks
        defer { screen.stop() }
        var model = ChatModel(
            nick: options.nick, server: options.server, width: screen.size.width, height: screen.size.height)
        model.tlsUnverified = options.tlsUnverified
        model.highlights = options.highlights
        model.timeFormat = options.timeFormat
        model.setIgnored(options.ignored)
        model.maxLinesPerBuffer = options.scrollback
        model.themeNames = options.themes.available
        for notice in options.notices { model.report(notice) }
        model.roomsToJoin = options.rooms
        apply(theme: options.theme, to: screen, model: &model)
        screen.paint(Renderer.render(model, now: .now))

        var running = true
        // Messages arriving in a burst are drawn at most once a frame; a key is drawn at once.
        var lastPaint = ContinuousClock.now
        var unpainted = false
        while running {
            wait(
                timeout: waitTimeout(model: model, frameDue: unpainted ? lastPaint + Self.frameInterval : nil),
                screen: screen)
            var effects: [Effect] = []
            for request in requests.withLock({ pending in
                defer { pending.removeAll() }; return pending
            }) {
                switch request {
                case .engine(let event):
                    effects += model.handle(.engine(event))
                    unpainted = true
                case .engineStopped, .terminate: running = false
                }
            }
            var typed = false
            for event in screen.readEvents() {
                if event == .key(.control("l")) { screen.invalidate() }
                effects += model.handle(event)
                typed = true
            }
            if screen.isHungUp { running = false }
            for effect in effects {
                switch effect {
                case .perform(let command): engine.perform(command)
                case .bell: screen.bell()
                case .notify(let title, let body):
                    if let sequence = options.notifications.sequence(title: title, body: body) {
                        screen.writeRaw(sequence)
                    }
                case .quit: running = false
                case .theme(let name): apply(theme: name, to: screen, model: &model)
                case .saveIgnored(let nicks):
                    if let problem = options.saveIgnored?(nicks) {
                        model.reportError("the ignore list holds for this session only: \(problem)")
                    }
                }
            }
            let now = ContinuousClock.now
            if typed || !unpainted || now - lastPaint >= Self.frameInterval {
                screen.paint(Renderer.render(model, now: now))
                lastPaint = now
                unpainted = false
            }
        }
        // With no one left at the terminal, what is still sending gets the time line mode gives it.
        engine.perform(screen.isHungUp ? .quitWhenDelivered(within: ChatModel.quitDrain) : .quit(reason: nil))
    }

    /// The shortest time between two paints for messages alone: a flood of them is drawn 60
    /// times a second, not once per message.
    static let frameInterval: Duration = .milliseconds(16)

    /// How long to sleep: until an unpainted change is due on screen, or the next second of a
    /// reconnect countdown, or (-1) until something happens.
    private func waitTimeout(model: ChatModel, frameDue: ContinuousClock.Instant?) -> Int32 {
        var timeout: Int32 = if case .reconnecting = model.connection { 1000 } else { -1 }
        if let frameDue {
            let remaining = frameDue - .now
            let milliseconds = max(
                0, Int32(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            )
            timeout = timeout < 0 ? milliseconds : min(timeout, milliseconds)
        }
        return timeout
    }

    /// Sleeps until stdin or the wake pipe is readable, or `timeout` milliseconds pass.
    private func wait(timeout: Int32, screen: CursesScreen) {
        var fds = [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, 2, timeout)
        if ready > 0, fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { screen.hangUp() }
        if ready > 0, fds[1].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 256)
            _ = read(wakeRead, &buffer, buffer.count)
        }
    }

    /// Loads and applies a theme; under NO_COLOR the name is still checked, and mono applies.
    private func apply(theme name: String, to screen: CursesScreen, model: inout ChatModel) {
        do {
            let (theme, problems) = try options.themes.load(name)
            for problem in problems { model.reportError(problem) }
            if options.noColor && name != "mono" {
                screen.use(try options.themes.load("mono").theme.limited(toColors: screen.colors))
                model.report("NO_COLOR is set: using the mono theme")
            } else {
                screen.use(theme.limited(toColors: screen.colors))
            }
        } catch {
            model.reportError("\(error)")
        }
    }
}
