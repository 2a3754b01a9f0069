import Testing

@testable import WSChatProtocol

@Suite("Desktop notifications through the terminal")
struct DesktopNotificationTests {
    @Test func eachStyleWritesItsSequence() {
        #expect(
            DesktopNotification.osc9.sequence(title: "bob in #ops", body: "deploy?")
                == "\u{1B}]9;bob in #ops: deploy?\u{1B}\\")
        #expect(
            DesktopNotification.osc777.sequence(title: "bob in #ops", body: "deploy?")
                == "\u{1B}]777;notify;bob in #ops;deploy?\u{1B}\\")
        #expect(DesktopNotification.off.sequence(title: "t", body: "b") == nil)
    }

    /// What a peer sent never ends the sequence early: ESC and BEL are shown, not sent, a `;`
    /// cannot split OSC 777's title, lines are joined, and a long text is cut.
    @Test func networkTextCannotEscapeTheSequence() throws {
        let hostile = "x\u{1B}]0;pwned\u{07}\u{1B}[2Jy\nz"
        for style in [DesktopNotification.osc9, .osc777] {
            let sequence = try #require(style.sequence(title: "a;b" + hostile, body: hostile))
            let inner = sequence.dropFirst().dropLast(2)
            #expect(!inner.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\n" }, "\(style)")
        }
        let sequence = try #require(DesktopNotification.osc777.sequence(title: "a;b", body: "c;d"))
        #expect(sequence.hasPrefix("\u{1B}]777;notify;a,b;c;d"))
        let long = try #require(DesktopNotification.osc9.sequence(title: "t", body: String(repeating: "長", count: 500)))
        #expect(long.count < 220 && long.contains("…"))
    }
}
