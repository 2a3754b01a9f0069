import Foundation
import Testing
import WSChatProtocol

@testable import WSChatApp

@Suite("Plain output")
struct PlainFormatterTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("\u{1B}[2J\u{1B}]0;owned\u{07}", "^[[2J^[]0;owned^G"),
        ("tab\there", "tab    here"),
        ("a\nb", "a ↵ b"),
        ("del\u{7F}", "del^?"),
        ("c1\u{9B}31m", "c1<U+009B>31m"),
        ("evil\u{202E}txt.exe", "evil<U+202E>txt.exe"),
        ("漢字 🧑‍🤝‍🧑", "漢字 🧑‍🤝‍🧑"),
    ])
    func networkTextIsRenderedInert(_ example: (String, String)) {
        #expect(TerminalText.singleLine(example.0) == example.1)
    }

    /// A frame with raw control characters (which JSON forbids) still prints as one line of
    /// valid JSON with nothing a terminal would act on.
    @Test func rawFramesPrintAsValidInertJSON() throws {
        let raw = "{\"type\":\"message\",\n\"text\":\"a\u{1B}[2J\\\"b\u{202E}\",\"x\":\"\u{07}\"}"
        let line = PlainFormatter.inertJSON(raw)
        #expect(!line.unicodeScalars.contains { TerminalText.isInert($0) }, "\(line.debugDescription)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["text"] == "a\u{1B}[2J\"b\u{202E}", "the text itself is kept, escaped")
        #expect(object["x"] == "\u{07}")
        #expect(PlainFormatter.inertJSON(#"{"text":"fine"}"#) == #"{"text":"fine"}"#)
    }
}
