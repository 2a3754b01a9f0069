import PropertyBased
import Testing
import WSChatProtocol

/// Bytes a hostile server or user can get into a message: every C0 and C1 control, DEL,
/// escape sequences' pieces, bidi controls, joiners, wide text and emoji.
private let terminalHostile: [Character] =
    (0x00...0x1F).map { Character(Unicode.Scalar($0)!) } + (0x7F...0x9F).map { Character(Unicode.Scalar($0)!) } + [
        "[", "]", ";", "0", "1", "m", "H", "J", "P", "\\", "a", "李", "👨‍👩‍👧‍👦", "🇨🇳", "e\u{0301}",
        "\u{202E}", "\u{200D}", "\u{FEFF}", "\r\n",
    ]

private let hostileText = Gen<Character?>.element(of: terminalHostile).map { $0! }.string(of: 0...60)

@Suite("The terminal sanitiser, at random")
struct TerminalTextPropertyTests {
    @Test func noControlCharacterReachesTheTerminal() async {
        await propertyCheck(count: 3000, input: hostileText) { text in
            let runs = TerminalText.runs(text)
            for run in runs {
                let controls = run.text.unicodeScalars.filter { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
                if run.isControl {
                    #expect(run.text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }, "\(run)")
                } else {
                    #expect(controls.allSatisfy { $0 == "\n" }, "only line breaks pass: \(text.debugDescription)")
                }
            }
            let line = TerminalText.singleLine(text)
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            #expect(!line.unicodeScalars.contains { $0 == "\u{202E}" }, "no text reads backwards")
        }
    }

    @Test func nothingPrintableIsLost() async {
        await propertyCheck(count: 3000, input: hostileText) { text in
            let kept = TerminalText.runs(text).filter { !$0.isControl }.map(\.text).joined()
            let printable = String(
                String.UnicodeScalarView(
                    text.unicodeScalars.filter {
                        $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) && $0 != "\u{202E}" || $0 == "\n"
                    }))
            #expect(
                kept.replacingOccurrences(of: "    ", with: "") == printable.replacingOccurrences(of: "    ", with: ""))
        }
    }
}
