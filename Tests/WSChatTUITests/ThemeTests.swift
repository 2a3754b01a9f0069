import Foundation
import Testing
import WSChatClient
import WSChatProtocol

@testable import WSChatTUI

@Suite("Themes")
struct ThemeTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes")

    @Test(arguments: ["default", "light", "solarized-dark", "mono"])
    func shippedThemesLoadCleanly(_ name: String) throws {
        let library = ThemeLibrary(directories: [Self.shipped])
        let (theme, problems) = try library.load(name)
        #expect(problems.isEmpty, "\(problems)")
        #expect(theme.name == name)
        #expect(!theme.nickPalette.isEmpty)
    }

    /// A theme with a background of its own paints every cell: channel list, borders,
    /// times, empty space. None shows the terminal's background.
    @Test(arguments: ["light", "solarized-dark"])
    func aThemeWithABackgroundPaintsTheWholeScreen(_ name: String) throws {
        let (theme, _) = try ThemeLibrary(directories: [Self.shipped]).load(name)
        var model = ChatModel(nick: "alice", server: "test", width: 60, height: 12)
        _ = model.handle(
            .engine(
                .server(
                    .joined(
                        .init(
                            room: "general", epoch: "e", topic: "t", members: ["alice", "bob"],
                            history: [.init(room: "general", id: 1, ts: 0, from: "bob", text: "hi alice", cid: "c")],
                            more: false)), raw: "")))
        let grid = Renderer.render(model, now: .now).grid
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                #expect(theme.look(for: grid[x, y].style).background != .terminal, "cell \(x),\(y): \(grid[x, y])")
            }
        }
    }

    @Test func theDefaultThemeKeepsTheTerminalsOwnBackground() throws {
        let (theme, _) = try ThemeLibrary(directories: [Self.shipped]).load("default")
        #expect(theme.look(for: .key(.chatText)).background == .terminal)
        #expect(theme.look(for: .key(.input)).background == .terminal)
    }

    @Test func badKeysAndColoursAreReportedAndTheRestApplies() throws {
        let (theme, problems) = try Theme.parse(
            """
            [styles]
            "chat.time" = "bold red"
            "chat.tme" = "green"
            "status" = "white on purple"
            "channels" = "underline 300"
            [nicks]
            palette = ["red", "blue"]
            """, name: "mine")
        #expect(theme.look(for: .key(.chatTime)).foreground == .indexed(1) && theme.look(for: .key(.chatTime)).bold)
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("unknown key \"chat.tme\"") })
        #expect(problems.contains { $0.contains("unknown colour \"purple\"") })
        #expect(problems.contains { $0.contains("unknown colour \"300\"") })
        #expect(theme.look(for: .key(.status)) == Theme.mono.look(for: .key(.status)), "a bad look falls back to mono")
        #expect(theme.nickPalette.count == 2)
    }

    @Test func aBrokenFileSaysWhichLine() {
        #expect(throws: ThemeError.self) { try Theme.parse("[styles]\n\"chat.time\" = \n", name: "broken") }
        do {
            _ = try Theme.parse("[styles]\n\"chat.time\" = \n", name: "broken")
        } catch {
            #expect("\(error)".contains("line 2"))
        }
    }

    @Test func twoHundredFiftySixColoursFallBackToTheNearestSixteen() throws {
        var theme = Theme(name: "t")
        theme.looks[.chatTime] = try Theme.parseLook("196 on 236")  // bright red on dark grey
        theme.looks[.status] = try Theme.parseLook("21")  // pure blue
        let limited = theme.limited(toColors: 16)
        #expect(limited.look(for: .key(.chatTime)).foreground == .indexed(9))
        #expect(limited.look(for: .key(.chatTime)).background == .indexed(0))
        #expect(limited.look(for: .key(.status)).foreground == .indexed(4), "(0,0,255) is nearest to blue (0,0,238)")
        #expect(theme.limited(toColors: 256) == theme)
        #expect(theme.limited(toColors: 0).look(for: .key(.status)).foreground == .terminal, "no colours at all")
    }
}
