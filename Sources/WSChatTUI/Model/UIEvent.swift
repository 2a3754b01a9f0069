import WSChatClient

/// A key as the terminal layer decoded it.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter, backspace, delete, tab, escape
    case left, right, up, down, home, end, pageUp, pageDown
    case wordLeft, wordRight
    /// Ctrl and a letter: `.control("a")` is Ctrl-A.
    case control(Character)
    /// Alt (Meta) and a character: Alt-1 switches to buffer 1.
    case alt(Character)
    /// A function key: `.function(7)` is F7.
    case function(Int)
}

/// Everything the model reacts to.
public enum UIEvent: Equatable, Sendable {
    case key(Key)
    /// A bracketed paste, delivered whole.
    case paste(String)
    case resize(width: Int, height: Int)
    case engine(EngineEvent)
    /// A mouse click at a screen cell.
    case click(x: Int, y: Int)
    /// The mouse wheel: negative scrolls back (up).
    case wheel(lines: Int)
}

/// What the model asks the world to do.
public enum Effect: Equatable, Sendable {
    case perform(UserCommand)
    /// Ring the terminal bell (a mention or DM in another buffer).
    case bell
    /// A desktop notification through the terminal, for the same.
    case notify(title: String, body: String)
    /// Leave: restore the terminal and exit.
    case quit
    /// Load and apply the named theme.
    case theme(String)
    /// Keep the ignore list (in config.toml).
    case saveIgnored([String])
}
