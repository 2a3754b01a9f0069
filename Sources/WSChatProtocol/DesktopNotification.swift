/// A desktop notification sent through the terminal: OSC 9 (iTerm2, WezTerm, Windows Terminal,
/// kitty, Ghostty) or OSC 777 (urxvt, foot, VTE-based terminals). Terminals that know neither
/// ignore the sequence; `notifications = "off"` sends nothing.
public enum DesktopNotification: String, CaseIterable, Sendable {
    case osc9
    case osc777
    case off

    /// The longest body sent: a notification is a glance, not the message.
    static let maxBody = 200

    /// The escape sequence for a notification, or nil when they are off. Title and body come
    /// from the network: control characters are made visible, never sent raw (an ESC or BEL
    /// would end the sequence early and let a peer write to the terminal), and OSC 777's
    /// field separator `;` cannot appear in the title.
    public func sequence(title: String, body: String) -> String? {
        let title = TerminalText.singleLine(title)
        var body = TerminalText.singleLine(body)
        if body.count > Self.maxBody { body = String(body.prefix(Self.maxBody - 1)) + "…" }
        switch self {
        case .osc9: return "\u{1B}]9;\(title): \(body)\u{1B}\\"
        case .osc777: return "\u{1B}]777;notify;\(title.replacingOccurrences(of: ";", with: ","));\(body)\u{1B}\\"
        case .off: return nil
        }
    }
}
