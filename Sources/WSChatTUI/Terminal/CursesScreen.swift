import CNcursesw
import Glibc
import WSChatClient

/// The only code that touches the terminal: sets ncurses up, paints a `Renderer.Frame`,
/// and turns what the terminal sends into `UIEvent`s. Use it from one thread.
final class CursesScreen {
    private static let pasteBegin = Int32(KEY_MAX) + 1
    private static let pasteEnd = Int32(KEY_MAX) + 2
    private static let controlLeft = Int32(KEY_MAX) + 3
    private static let controlRight = Int32(KEY_MAX) + 4

    private var theme = Theme.mono
    /// Links on screen are sent as OSC 8 hyperlinks (`hyperlinks` in config.toml).
    var hyperlinks = true
    private var attributes: [Style: (attr: attr_t, pair: Int16)] = [:]
    private var pairs: [Pair: Int16] = [:]
    private var pasting: String?
    /// The terminal is gone (hung up, or reads fail as they do for a background process):
    /// there is no one left to type, so the UI ends.
    private(set) var isHungUp = false

    /// The terminal reported a hang-up or an error.
    func hangUp() { isHungUp = true }

    private struct Pair: Hashable {
        let foreground: Int16
        let background: Int16
    }

    /// Puts the terminal in full-screen mode: raw keys (Ctrl-C is a key), bracketed paste,
    /// mouse clicks and wheel. A resize writes a byte to `resizeWake`, so that the UI thread
    /// wakes and repaints at once.
    func start(resizeWake: Int32) {
        wschat_set_locale_from_environment()
        wschat_install_crash_handlers()
        initscr()
        raw()
        noecho()
        nonl()
        keypad(wschat_stdscr(), true)
        nodelay(wschat_stdscr(), true)
        set_escdelay(25)
        if has_colors() {
            start_color()
            use_default_colors()
        }
        mouseinterval(0)
        mousemask(wschat_mouse_mask(), nil)
        define_key("\u{1B}[200~", Self.pasteBegin)
        define_key("\u{1B}[201~", Self.pasteEnd)
        define_key("\u{1B}[1;5D", Self.controlLeft)
        define_key("\u{1B}[1;5C", Self.controlRight)
        // Home and End as terminals send them whatever terminfo says: tmux and screen
        // (ESC[1~ ESC[4~), xterm (ESC[H ESC[F, ESC O H, ESC O F), rxvt (ESC[7~ ESC[8~).
        for home in ["\u{1B}[1~", "\u{1B}[H", "\u{1B}OH", "\u{1B}[7~"] { define_key(home, KEY_HOME) }
        for end in ["\u{1B}[4~", "\u{1B}[F", "\u{1B}OF", "\u{1B}[8~"] { define_key(end, KEY_END) }
        wschat_wake_on_resize(resizeWake)
        refresh()
        if let rendering = probeEmojiRendering() { TextWidth.emojiRendering = rendering }
        clearok(wschat_stdscr(), true)
        write(STDOUT_FILENO, "\u{1B}[?2004h", 8)
    }

    func stop() {
        wschat_restore_terminal()
    }

    var size: (width: Int, height: Int) { (Int(wschat_cols()), Int(wschat_lines())) }
    var colors: Int { has_colors() ? Int(wschat_colors()) : 0 }

    func use(_ theme: Theme) {
        self.theme = theme
        attributes.removeAll()
        pairs.removeAll()
        // What ncurses clears to is the theme's screen too, not the terminal's own colours.
        let (attr, pair) = look(.plain)
        var blank = cchar_t()
        setcchar(&blank, [wchar_t(32), 0], attr, pair, nil)
        wbkgrnd(wschat_stdscr(), &blank)
        clear()
    }

    func bell() { beep() }

    /// Sends a sequence ncurses knows nothing of (a desktop notification) to the terminal.
    func writeRaw(_ sequence: String) {
        fflush(nil)
        writeAll(sequence)
    }

    /// Forgets what is on screen, so the next paint redraws everything (Ctrl-L).
    func invalidate() { clearok(wschat_stdscr(), true) }

    // MARK: Painting

    func paint(_ frame: Renderer.Frame) {
        let grid = frame.grid
        var cell = cchar_t()
        var whole: [(x: Int, y: Int, text: String, look: Theme.Look)] = []
        func blank(_ x: Int, _ y: Int, _ attr: attr_t, _ pair: Int16) {
            setcchar(&cell, [wchar_t(32), 0], attr, pair, nil)
            mvwadd_wch(wschat_stdscr(), Int32(y), Int32(x), &cell)
        }
        for y in 0..<grid.height {
            var x = 0
            while x < grid.width {
                let content = grid[x, y]
                let (attr, pair) = look(content.style)
                var cells = 1
                while x + cells < grid.width && grid[x + cells, y].isContinuation { cells += 1 }
                let scalars = content.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
                if Self.needsWholeWrite(scalars) {
                    // ncurses keeps one spacing character per cell, which would cut this
                    // cluster: it gets blanks, and the cluster is written whole below.
                    for offset in 0..<cells { blank(x + offset, y, attr, pair) }
                    whole.append((x, y, content.text, theme.look(for: content.style)))
                } else {
                    setcchar(&cell, scalars + [0], attr, pair, nil)
                    mvwadd_wch(wschat_stdscr(), Int32(y), Int32(x), &cell)
                    // Where the terminal's idea of a width is narrower than ours (VS16 emoji,
                    // say), fill the other cells so nothing stale shows through.
                    for offset in max(1, Int(wschat_wcwidth(scalars.first ?? 32)))..<max(1, cells) {
                        blank(x + offset, y, attr, pair)
                    }
                }
                x += cells
            }
        }
        wmove(wschat_stdscr(), Int32(frame.cursorY), Int32(frame.cursorX))
        wrefresh(wschat_stdscr())
        let links = hyperlinks ? frame.links : []
        if !whole.isEmpty || !links.isEmpty {
            writeOver(whole, links: links, cursorX: frame.cursorX, cursorY: frame.cursorY)
        }
    }

    /// A cluster with more than one spacing character (a flag, a skin tone, a ZWJ sequence),
    /// or more characters than a `cchar_t` holds.
    static func needsWholeWrite(_ scalars: [wchar_t]) -> Bool {
        scalars.count > Int(wschat_cchar_max()) || scalars.dropFirst().contains { wschat_wcwidth($0) != 0 }
    }

    /// Writes clusters straight to the terminal at their cells, after every refresh (so also
    /// whenever ncurses repainted their blanks), with their colours, and links again as OSC 8
    /// hyperlinks (ncurses knows none: its cells are right, the terminal learns where they
    /// point); then puts the cursor back and the attributes where ncurses believes they are.
    private func writeOver(
        _ clusters: [(x: Int, y: Int, text: String, look: Theme.Look)], links: [Renderer.Link], cursorX: Int,
        cursorY: Int
    ) {
        var output = ""
        for cluster in clusters {
            output += "\u{1B}[\(cluster.y + 1);\(cluster.x + 1)H\u{1B}[\(Self.sgr(cluster.look))m\(cluster.text)"
        }
        let linkLook = Self.sgr(theme.look(for: .key(.chatLink)))
        for link in links {
            output +=
                "\u{1B}[\(link.y + 1);\(link.x + 1)H\u{1B}[\(linkLook)m"
                + "\u{1B}]8;;\(Links.terminalTarget(link.url))\u{1B}\\\(link.text)\u{1B}]8;;\u{1B}\\"
        }
        output += "\u{1B}[0m\u{1B}[\(cursorY + 1);\(cursorX + 1)H"
        writeAll(output)
        // ncurses tracks the terminal's attributes to skip redundant changes: after ours,
        // make it set them itself, ending at normal, so that its next paint starts right.
        vidattr(chtype(wschat_a_bold()))
        vidattr(chtype(wschat_a_normal()))
        fflush(nil)
    }

    private func writeAll(_ output: String) {
        var bytes = Array(output.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            bytes = bytes.dropFirst(written)
        }
    }

    /// The SGR parameters for a look.
    static func sgr(_ look: Theme.Look) -> String {
        var parameters = ["0"]
        if look.bold { parameters.append("1") }
        if look.dim { parameters.append("2") }
        if look.italic { parameters.append("3") }
        if look.underline { parameters.append("4") }
        if look.reverse { parameters.append("7") }
        func colour(_ color: Theme.Color, base: Int) -> String {
            switch color {
            case .terminal: "\(base + 9)"
            case .indexed(let n) where n < 8: "\(base + n)"
            case .indexed(let n) where n < 16: "\(base + 60 + n - 8)"
            case .indexed(let n): "\(base + 8);5;\(n)"
            }
        }
        parameters.append(colour(look.foreground, base: 30))
        parameters.append(colour(look.background, base: 40))
        return parameters.joined(separator: ";")
    }

    /// Asks the terminal how it draws emoji sequences: each probe is written at the top left
    /// and the cursor position requested (DSR 6); the column it reports gives the width.
    /// Nil when the terminal does not answer. Keys typed meanwhile are given back to ncurses.
    private func probeEmojiRendering() -> EmojiRendering? {
        var typed: [UInt8] = []
        defer {
            for scalar in String(decoding: typed, as: UTF8.self).unicodeScalars.reversed() {
                unget_wch(wchar_t(bitPattern: scalar.value))
            }
        }
        func width(of probe: String) -> Int? {
            let request = "\u{1B}[1;1H\(probe)\u{1B}[6n"
            _ = request.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
            let deadline = ContinuousClock.now + .milliseconds(500)
            var response: [UInt8] = []
            while ContinuousClock.now < deadline {
                var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 50) > 0 else { continue }
                var byte: UInt8 = 0
                guard read(STDIN_FILENO, &byte, 1) == 1 else { return nil }
                if response.isEmpty && byte != 0x1B {
                    typed.append(byte)
                    continue
                }
                response.append(byte)
                if byte == UInt8(ascii: "R") {
                    // ESC [ row ; column R
                    let text = String(decoding: response.dropFirst(2).dropLast(), as: UTF8.self)
                    return text.split(separator: ";").last.flatMap { Int($0) }.map { $0 - 1 }
                }
                if response.count > 16 {
                    typed += response
                    response = []
                }
            }
            typed += response
            return nil
        }
        guard let zwj = width(of: "👨‍👩‍👧"), let modifier = width(of: "👍🏽"), let vs16 = width(of: "❤️") else {
            return nil
        }
        return EmojiRendering(joinsZWJSequences: zwj == 2, joinsModifiers: modifier == 2, widensWithVS16: vs16 == 2)
    }

    private func look(_ style: Style) -> (attr_t, Int16) {
        if case .link = style { return look(.key(.chatLink)) }
        if let known = attributes[style] { return known }
        let look = theme.look(for: style)
        var attr = wschat_a_normal()
        if look.bold { attr |= wschat_a_bold() }
        if look.dim { attr |= wschat_a_dim() }
        if look.italic { attr |= wschat_a_italic() }
        if look.underline { attr |= wschat_a_underline() }
        if look.reverse { attr |= wschat_a_reverse() }
        let pair = colorPair(look.foreground, look.background)
        attributes[style] = (attr, pair)
        return (attr, pair)
    }

    private func colorPair(_ foreground: Theme.Color, _ background: Theme.Color) -> Int16 {
        guard has_colors() else { return 0 }
        func number(_ color: Theme.Color) -> Int16 {
            if case .indexed(let index) = color { Int16(index) } else { -1 }
        }
        let key = Pair(foreground: number(foreground), background: number(background))
        if key.foreground == -1 && key.background == -1 { return 0 }
        if let pair = pairs[key] { return pair }
        let next = Int16(pairs.count + 1)
        guard Int32(next) < wschat_color_pairs() else { return 0 }
        init_pair(next, key.foreground, key.background)
        pairs[key] = next
        return next
    }

    // MARK: Input

    /// Everything the terminal has sent so far, decoded.
    func readEvents() -> [UIEvent] {
        var events: [UIEvent] = []
        var character: wint_t = 0
        while true {
            errno = 0
            let status = wget_wch(wschat_stdscr(), &character)
            if status == wschat_err() {
                if errno == EIO || errno == EBADF { isHungUp = true }
                break
            }
            if status == wschat_key_code_yes() {
                if let event = keyCode(Int32(character)) { events.append(event) }
                continue
            }
            guard let scalar = Unicode.Scalar(UInt32(character)) else { continue }
            if pasting != nil {
                pasting?.unicodeScalars.append(scalar == "\r" ? "\n" : scalar)
                continue
            }
            events.append(.key(key(for: scalar)))
        }
        return events
    }

    private func key(for scalar: Unicode.Scalar) -> Key {
        switch scalar.value {
        case 10, 13: return .enter
        case 9: return .tab
        case 8, 127: return .backspace
        case 27:
            var next: wint_t = 0
            if wget_wch(wschat_stdscr(), &next) == OK, let following = Unicode.Scalar(UInt32(next)) {
                return .alt(Character(following))
            }
            return .escape
        case 1...26: return .control(Character(Unicode.Scalar(scalar.value + 96)!))
        default: return .character(Character(scalar))
        }
    }

    private func keyCode(_ code: Int32) -> UIEvent? {
        switch code {
        case Self.pasteBegin:
            pasting = ""
            return nil
        case Self.pasteEnd:
            defer { pasting = nil }
            return pasting.map { .paste($0) }
        case Self.controlLeft: return .key(.wordLeft)
        case Self.controlRight: return .key(.wordRight)
        case KEY_RESIZE: return .resize(width: size.width, height: size.height)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            if wschat_is_wheel_up(event.bstate) != 0 { return .wheel(lines: -3) }
            if wschat_is_wheel_down(event.bstate) != 0 { return .wheel(lines: 3) }
            if wschat_is_click(event.bstate) != 0 { return .click(x: Int(event.x), y: Int(event.y)) }
            return nil
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_ENTER: return .key(.enter)
        case Int32(KEY_F0) + 1...Int32(KEY_F0) + 12: return .key(.function(Int(code - Int32(KEY_F0))))
        default: return nil
        }
    }
}
