import Testing

@testable import wschat

@Suite("Plain output")
struct PlainFormatterTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("\u{1B}[2J\u{1B}]0;owned\u{07}", "^[[2J^[]0;owned^G"),
        ("tab\there", "tab here"),
        ("a\nb", "a ↵ b"),
        ("del\u{7F}", "del^?"),
        ("c1\u{9B}31m", "c1<U+9B>31m"),
        ("漢字 🧑‍🤝‍🧑", "漢字 🧑‍🤝‍🧑"),
    ])
    func networkTextIsRenderedInert(_ example: (String, String)) {
        #expect(PlainFormatter.inert(example.0) == example.1)
    }
}
