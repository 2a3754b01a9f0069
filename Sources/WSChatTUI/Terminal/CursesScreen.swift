import CNcursesw
import Glibc

/// The only code that touches the terminal: sets ncurses up, paints a `Renderer.Frame`,
/// and turns what the terminal sends into `UIEvent`s. Use it from one thread.
final class CursesScreen {
    private static let pasteBegin = Int32(KEY_MAX) + 1
    private static let pasteEnd = Int32(KEY_MAX) + 2
    private static let controlLeft = Int32(KEY_MAX) + 3
    private static let controlRight = Int32(KEY_MAX) + 4

    private var theme = Theme.mono
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

    /// Forgets what is on screen, so the next paint redraws everything (Ctrl-L).
    func invalidate() { clearok(wschat_stdscr(), true) }

    // MARK: Painting

    func paint(_ frame: Renderer.Frame) {
        let grid = frame.grid
        var cell = cchar_t()
        for y in 0..<grid.height {
            var x = 0
            while x < grid.width {
                let content = grid[x, y]
                let (attr, pair) = look(content.style)
                let wide = x + 1 < grid.width && grid[x + 1, y].isContinuation
                var scalars = Array(content.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) })
                if scalars.count > Int(wschat_cchar_max()) { scalars = [scalars[0]] }
                scalars.append(0)
                setcchar(&cell, scalars, attr, pair, nil)
                mvwadd_wch(wschat_stdscr(), Int32(y), Int32(x), &cell)
                // Where the terminal's idea of a width is narrower than ours (VS16 emoji,
                // say), fill the second cell so nothing stale shows through.
                if wide, wschat_wcwidth(scalars[0]) < 2 {
                    var space = cchar_t()
                    setcchar(&space, [wchar_t(32), 0], attr, pair, nil)
                    mvwadd_wch(wschat_stdscr(), Int32(y), Int32(x + 1), &space)
                }
                x += wide ? 2 : 1
            }
        }
        wmove(wschat_stdscr(), Int32(frame.cursorY), Int32(frame.cursorX))
        wrefresh(wschat_stdscr())
    }

    private func look(_ style: Style) -> (attr_t, Int16) {
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
        default: return nil
        }
    }
}
