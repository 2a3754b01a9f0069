import Foundation
import TOMLKit

/// How each `Style` looks: colours (the terminal's default, or one of 256) and attributes.
/// Themes are TOML files (see themes/README.md); a look is written like `"bold cyan on 236"`.
public struct Theme: Equatable, Sendable {
    public enum Color: Equatable, Hashable, Sendable {
        /// The terminal's own foreground or background.
        case terminal
        case indexed(Int)
    }

    public struct Look: Equatable, Hashable, Sendable {
        public var foreground = Color.terminal
        public var background = Color.terminal
        public var bold = false
        public var dim = false
        public var italic = false
        public var underline = false
        public var reverse = false

        public init() {}
    }

    public var name: String
    public var looks: [StyleKey: Look] = [:]
    public var nickPalette: [Look] = []

    public init(name: String) {
        self.name = name
    }

    /// How `style` looks. A theme paints the whole screen: a look that names no foreground
    /// or background takes the `screen` look's, and so does empty space.
    public func look(for style: Style) -> Look {
        let screen = looks[.screen] ?? Look()
        var look: Look
        switch style {
        case .plain: return screen
        case .key(let key): look = looks[key] ?? Theme.mono.looks[key] ?? Look()
        case .nick(let index): look = nickPalette.isEmpty ? Look() : nickPalette[index % nickPalette.count]
        case .link: return self.look(for: .key(.chatLink))
        }
        if look.foreground == .terminal { look.foreground = screen.foreground }
        if look.background == .terminal { look.background = screen.background }
        return look
    }

    /// The same theme for a terminal with fewer colours: each colour becomes the nearest one
    /// it has; with none at all, only attributes remain.
    public func limited(toColors colors: Int) -> Theme {
        guard colors < 256 else { return self }
        func limit(_ look: Look) -> Look {
            var look = look
            look.foreground = Palette.nearest(look.foreground, within: colors)
            look.background = Palette.nearest(look.background, within: colors)
            return look
        }
        var copy = self
        copy.looks = looks.mapValues(limit)
        copy.nickPalette = nickPalette.map(limit)
        return copy
    }

    // MARK: Parsing

    /// Reads a theme file. Unknown keys and bad looks are reported in `problems`; the rest of
    /// the theme still applies, on top of `mono` for anything left unset.
    public static func parse(_ toml: String, name: String) throws -> (theme: Theme, problems: [String]) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            throw ThemeError("theme \(name), line \(error.source.begin.line): \(error.description)")
        }
        var theme = Theme.mono
        theme.name = name
        var problems: [String] = []
        for (key, value) in table {
            switch key {
            case "name", "description":
                continue
            case "styles":
                guard let styles = value.table else {
                    problems.append("theme \(name): [styles] must be a table")
                    continue
                }
                for (styleName, lookValue) in styles {
                    guard let styleKey = StyleKey(rawValue: styleName) else {
                        problems.append(
                            "theme \(name): unknown key \"\(styleName)\" (known: \(StyleKey.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                        continue
                    }
                    do {
                        theme.looks[styleKey] = try parseLook(lookValue.string ?? "")
                    } catch {
                        problems.append("theme \(name): \"\(styleName)\": \(error.message)")
                    }
                }
            case "nicks":
                guard let palette = value.table?["palette"]?.array else {
                    problems.append("theme \(name): [nicks] needs palette = [\"red\", …]")
                    continue
                }
                var looks: [Look] = []
                for entry in palette {
                    do { looks.append(try parseLook(entry.string ?? "")) } catch {
                        problems.append("theme \(name): nick palette: \(error.message)")
                    }
                }
                if !looks.isEmpty { theme.nickPalette = looks }
            default:
                problems.append("theme \(name): unknown section \"\(key)\"")
            }
        }
        return (theme, problems)
    }

    /// `[attributes…] [foreground] [on background]`, e.g. `bold yellow on 236`.
    public static func parseLook(_ text: String) throws(ThemeError) -> Look {
        var look = Look()
        var words = text.lowercased().split(separator: " ").map(String.init)[...]
        guard !words.isEmpty else { throw ThemeError("empty look (write e.g. \"bold cyan on 236\")") }
        var sawForeground = false
        while let word = words.popFirst() {
            switch word {
            case "bold": look.bold = true
            case "dim": look.dim = true
            case "italic": look.italic = true
            case "underline": look.underline = true
            case "reverse": look.reverse = true
            case "plain": break
            case "on":
                guard let background = words.popFirst() else { throw ThemeError("\"on\" needs a colour after it") }
                look.background = try Palette.color(named: background)
            default:
                guard !sawForeground else { throw ThemeError("two foreground colours in \"\(text)\"") }
                look.foreground = try Palette.color(named: word)
                sawForeground = true
            }
        }
        return look
    }

    /// Attributes only: for NO_COLOR, terminals without colour, and anything a theme leaves out.
    public static let mono: Theme = {
        var theme = Theme(name: "mono")
        func look(_ configure: (inout Look) -> Void) -> Look {
            var look = Look()
            configure(&look)
            return look
        }
        theme.looks = [
            .title: look { $0.reverse = true },
            .chatTime: look { $0.dim = true },
            .chatNickSelf: look { $0.bold = true },
            .chatEvent: look { $0.dim = true },
            .chatPending: look {
                $0.dim = true; $0.italic = true
            },
            .chatError: look { $0.bold = true },
            .chatNotice: look { $0.dim = true },
            .chatMention: look {
                $0.bold = true; $0.underline = true
            },
            .chatMarker: look { $0.dim = true },
            .chatMore: look { $0.reverse = true },
            .chatControl: look { $0.reverse = true },
            .chatLink: look { $0.underline = true },
            .channelsCurrent: look { $0.reverse = true },
            .channelsUnread: look { $0.bold = true },
            .channelsMention: look {
                $0.bold = true; $0.underline = true
            },
            .border: look { $0.dim = true },
            .status: look { $0.reverse = true },
            .statusLag: look { $0.reverse = true },
            .statusOffline: look {
                $0.reverse = true; $0.bold = true
            },
            .inputPrompt: look { $0.bold = true },
        ]
        theme.nickPalette = [look { $0.bold = true }]
        return theme
    }()
}

public struct ThemeError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
