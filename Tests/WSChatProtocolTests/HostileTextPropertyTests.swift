import PropertyBased
import Testing

@testable import WSChatProtocol

/// Characters an attacker reaches for: controls, bidi overrides, joiners and fillers,
/// combining marks, lookalikes from other scripts, compatibility forms, wide text and emoji,
/// and the punctuation that gives JSON its structure.
let hostileCharacters: [Character] = [
    "a", "l", "I", "1", "0", "O", "_", "-", "[", "|", "#", " ", "é", "ß", "Σ", "ς", "а", "е", "о", "р", "ѕ", "і",
    "ａ", "𝐚", "ﬁ", "李", "さ", "한", "👍", "🏽", "🇨", "\u{200D}", "\u{200B}", "\u{200C}", "\u{2060}", "\u{FEFF}",
    "\u{3164}", "\u{FFA0}", "\u{115F}", "\u{034F}", "\u{FE0F}", "\u{00AD}", "\u{202E}", "\u{2066}", "\u{061C}",
    "\u{0301}", "\u{0316}", "\u{093F}", "\u{0E31}", "\u{0}", "\u{7}", "\u{1B}", "\u{7F}", "\u{85}", "\u{9B}",
    "\n", "\t", "\r", "\"", "\\", "{", "}", ":", ",", "u", "d", "8", "9", "e", "+",
]

let hostileString = Gen<Character?>.element(of: hostileCharacters).map { $0! }.string(of: 0...40)

/// JSON frames stitched from the protocol's own words and hostile values.
let hostileFrame = Gen<String?>.element(of: [
    #"{"type":"#, #""type""#, #""hello""#, #""join""#, #""say""#, #""dm""#, #""ping""#, #""nick""#, #""room""#,
    #""text""#, #""cid""#, #""since""#, #""t""#, #""to""#, ":", ",", "}", "{", "[", "]", "9223372036854775807",
    "-1", "1e999", "0", "null", "true", #""\ud800""#, #""\u0000""#, #""a""#, #""李""#, " ",
]).map { $0! }.array(of: 0...24).map { $0.joined() }

@Suite("Hostile text, at random")
struct HostileTextPropertyTests {
    @Test func acceptedNamesKeepEveryRule() async {
        await propertyCheck(count: 2000, input: hostileString) { raw in
            if let nick = try? Nick(validating: raw) {
                #expect(nick.name.utf8.count <= Nick.maxBytes)
                #expect(!nick.name.unicodeScalars.contains { $0.properties.isDefaultIgnorableCodePoint })
                #expect(!nick.name.unicodeScalars.contains { TextRules.isControl($0) || $0.properties.isBidiControl })
                #expect(NameRules.fold(nick.key) == nick.key, "the fold is a fixed point")
                #expect(!nick.skeletons.isEmpty)
                #expect((try? Nick(validating: nick.name)) == nick)
            }
            if let room = try? RoomName(validating: raw) {
                #expect(room.name.utf8.count <= RoomName.maxBytes)
                #expect(!room.name.unicodeScalars.contains { $0.properties.isDefaultIgnorableCodePoint })
            }
        }
    }

    @Test func acceptedTextHoldsNoControlCharacter() async {
        await propertyCheck(count: 2000, input: hostileString) { text in
            if (try? TextRules.validateMessage(text, maxBytes: 64)) != nil {
                #expect(text.utf8.count <= 64)
                #expect(!text.unicodeScalars.contains { TextRules.isControl($0) && $0 != "\n" && $0 != "\t" })
            }
        }
    }

    @Test func everyFrameDecodesOrIsAnsweredWithAnError() async {
        await propertyCheck(count: 3000, input: hostileFrame) { frame in
            do {
                let message = try ClientMessage.decode(frame)
                #expect((try? ClientMessage.decode(message.encoded())) == message, "round trip of \(frame)")
            } catch {
                #expect(!((error as? ProtocolError)?.message.isEmpty ?? true), "\(frame): \(error)")
            }
        }
    }
}
