import Testing

@testable import WSChatProtocol

@Suite("Nick rules")
struct NickRuleTests {
    @Test(arguments: ["alice", "Bob_42", "李雷", "さくら", "[away]{x}|y-z", "Ünïcödé", String(repeating: "n", count: 32)])
    func validNicks(_ raw: String) throws {
        #expect(try Nick(validating: raw).name == raw)
    }

    @Test(arguments: [
        "", "has space", "tab\there", "emoji🎉", "semi;colon", "at@sign", String(repeating: "n", count: 33), "#hash",
    ])
    func invalidNicksAreBadNick(_ raw: String) {
        #expect(errorCode { _ = try Nick(validating: raw) } == .badNick)
    }

    /// Login names that are not nicks become nicks: `john.doe` is `john_doe`.
    @Test func aNickIsDerivedFromALoginName() {
        #expect(Nick.derived(from: "john.doe")?.name == "john_doe")
        #expect(Nick.derived(from: "Zoë O'Brien")?.name == "Zoë_O_Brien")
        #expect(Nick.derived(from: String(repeating: "a", count: 40))?.name == String(repeating: "a", count: 32))
        #expect(Nick.derived(from: "alice")?.name == "alice")
        #expect(Nick.derived(from: "...") == nil)
        #expect(Nick.derived(from: "") == nil)
    }

    @Test func nicksAreNFCNormalised() throws {
        let decomposed = "Zoe\u{0301}"  // e + combining acute
        let nick = try Nick(validating: decomposed)
        #expect(nick.name == "Zo\u{00E9}")
        #expect(nick.name.unicodeScalars.count == 3)
    }

    @Test func nicksCompareByCaseFolding() throws {
        #expect(try Nick(validating: "Alice") == Nick(validating: "aLICE"))
        #expect(try Nick(validating: "STRASSE") == Nick(validating: "straße"))
        #expect(try Nick(validating: "ΣΊΣΥΦΟΣ") == Nick(validating: "σίσυφος"))
        #expect(try Nick(validating: "alice") != Nick(validating: "alice_"))
    }

    @Test func lengthCountsCharactersNotBytes() throws {
        #expect(try Nick(validating: String(repeating: "猫", count: 32)).name.count == 32)
    }

    @Test func stackedCombiningMarksAreBoundedInBytes() throws {
        // One character that carries 2 000 marks is one grapheme cluster, and 4 KB of UTF-8.
        let zalgo = "a" + String(repeating: "\u{0301}\u{0316}", count: 1000)
        #expect(zalgo.count == 1)
        #expect(errorCode { _ = try Nick(validating: zalgo) } == .badNick)
        #expect(errorCode { _ = try RoomName(validating: zalgo) } == .badRoom)
        #expect(errorCode { _ = try Nick(validating: "\u{0301}\u{0301}") } == .badNick, "only marks")
        #expect(errorCode { _ = try RoomName(validating: "\u{0316}x") } == .badRoom, "a leading mark")
        // Scripts that need marks still fit.
        #expect(try Nick(validating: "हिन्दी").name == "हिन्दी")
        #expect(try Nick(validating: "ภาษาไทย").name == "ภาษาไทย")
    }

    @Test(arguments: [
        "alice\u{034F}", "\u{3164}", "a\u{3164}b", "ali\u{200D}ce", "ali\u{200B}ce", "\u{FFA0}x", "x\u{115F}",
        "alice\u{FE0F}", "al\u{00AD}ice", "ali\u{202E}ce", "\u{2060}alice",
    ])
    func invisibleAndFillerCharactersAreRefused(_ raw: String) {
        #expect(errorCode { _ = try Nick(validating: raw) } == .badNick)
        #expect(errorCode { _ = try RoomName(validating: raw) } == .badRoom)
    }

    @Test func compatibilityFormsFoldToTheSameNick() throws {
        let alice = try Nick(validating: "alice")
        #expect(try Nick(validating: "ａｌｉｃｅ") == alice, "fullwidth")
        #expect(try Nick(validating: "𝐚𝐥𝐢𝐜𝐞") == alice, "mathematical bold")
        #expect(try Nick(validating: "ＡＬＩＣＥ") == alice)
        #expect(try Nick(validating: "ａｌｉｃｅ").name == "ａｌｉｃｅ", "shown as its owner spells it")
    }

    @Test func lookalikeNicksShareASkeleton() throws {
        func lookAlike(_ a: String, _ b: String) throws -> Bool {
            try !Nick(validating: a).skeletons.isDisjoint(with: Nick(validating: b).skeletons)
        }
        #expect(try lookAlike("alice", "аlice"), "Cyrillic а")
        #expect(try lookAlike("Alice", "AIice"), "capital I for l")
        #expect(try lookAlike("alice", "AIice"), "Alice is alice")
        #expect(try lookAlike("alice", "АLICE"), "Cyrillic А, folded")
        #expect(try lookAlike("alice", "ａｌｉｃｅ"))
        #expect(try lookAlike("paypal", "раураl"))
        #expect(try !lookAlike("alice", "bob"))
        #expect(try !lookAlike("李雷", "李电"))
        #expect(try !lookAlike("alice", "alice2"))
    }
}

@Suite("Room name rules")
struct RoomRuleTests {
    @Test func leadingHashIsDropped() throws {
        #expect(try RoomName(validating: "#general").name == "general")
    }

    @Test(arguments: ["general", "off-topic", "中文", "日本語_チャット", String(repeating: "r", count: 64)])
    func validRooms(_ raw: String) throws {
        #expect(try RoomName(validating: raw).name == raw)
    }

    @Test(arguments: ["", "#", "two words", "a|b", "a[b]", String(repeating: "r", count: 65), "##double"])
    func invalidRoomsAreBadRoom(_ raw: String) {
        #expect(errorCode { _ = try RoomName(validating: raw) } == .badRoom)
    }

    @Test func roomsCompareByCaseFolding() throws {
        #expect(try RoomName(validating: "#General") == RoomName(validating: "general"))
        #expect(try RoomName(validating: "ｇｅｎｅｒａｌ") == RoomName(validating: "general"))
    }

    @Test func lookalikeRoomsShareASkeleton() throws {
        #expect(
            try !RoomName(validating: "gеneral").skeletons.isDisjoint(with: RoomName(validating: "general").skeletons))
        #expect(try RoomName(validating: "gеneral") != RoomName(validating: "general"), "distinct rooms")
    }
}

@Suite("Text rules")
struct TextRuleTests {
    @Test(arguments: ["hi", "line one\nline two", "col\tumn", "漢字とかな 🧑‍🤝‍🧑 🇯🇵 ❤️", "e\u{0301}"])
    func acceptedText(_ text: String) throws {
        try TextRules.validateMessage(text, maxBytes: 4096)
    }

    @Test(arguments: ["", "bell\u{07}", "esc\u{1B}[31m", "nul\u{0}", "del\u{7F}", "c1\u{9B}", "cr\r"])
    func controlCharactersAndEmptyTextAreBadText(_ text: String) {
        #expect(errorCode { try TextRules.validateMessage(text, maxBytes: 4096) } == .badText)
    }

    @Test func sizeIsMeasuredInUTF8Bytes() throws {
        try TextRules.validateMessage(String(repeating: "é", count: 2048), maxBytes: 4096)
        #expect(
            errorCode { try TextRules.validateMessage(String(repeating: "é", count: 2049), maxBytes: 4096) }
                == .tooLarge)
    }

    @Test func topicsMayBeEmptyButNotLong() throws {
        try TextRules.validateTopic("")
        try TextRules.validateTopic(String(repeating: "t", count: 512))
        #expect(errorCode { try TextRules.validateTopic(String(repeating: "t", count: 513)) } == .tooLarge)
        #expect(errorCode { try TextRules.validateTopic("\u{1B}]0;pwned\u{07}") } == .badText)
    }
}

/// The code of the protocol error `body` throws, or nil when it accepts its input.
func errorCode(_ body: () throws -> Void) -> ErrorCode? {
    do {
        try body()
        return nil
    } catch {
        return (error as? ProtocolError)?.code
    }
}
