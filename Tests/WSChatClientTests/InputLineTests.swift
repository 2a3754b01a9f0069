import Testing

@testable import WSChatClient

@Suite("Typed lines")
struct InputLineTests {
    @Test(arguments: [
        ("hello", InputLine.command(.say(room: "general", text: "hello", action: false))),
        ("//not a command", .command(.say(room: "general", text: "/not a command", action: false))),
        ("/join #rust", .command(.join(room: "#rust"))),
        ("/part", .command(.part(room: "general"))),
        ("/part other", .command(.part(room: "other"))),
        ("/msg bob hi  there", .command(.directMessage(to: "bob", text: "hi  there"))),
        ("/me waves", .command(.say(room: "general", text: "waves", action: true))),
        ("/nick 李雷", .command(.nick("李雷"))),
        ("/topic new topic", .command(.topic(room: "general", topic: "new topic"))),
        ("/topic #other t", .command(.topic(room: "#other", topic: "t"))),
        ("/topic", .local(.showTopic, argument: "general")),
        ("/topic -delete", .command(.topic(room: "general", topic: ""))),
        ("/topic #other", .local(.showTopic, argument: "#other")),
        ("/close", .local(.close, argument: "")),
        ("/nosuch x", .invalid("unknown command /nosuch — /help lists the commands")),
        ("/who", .command(.who(room: "general"))),
        ("/list", .command(.list)),
        ("/reconnect", .command(.reconnect)),
        ("/quit", .command(.quit(reason: nil))),
        ("/QUIT gone fishing", .command(.quit(reason: "gone fishing"))),
        ("/theme light", .local(.theme, argument: "light")),
        ("/theme", .invalid("usage: /theme NAME")),
        ("/join", .invalid("usage: /join ROOM")),
        ("/msg bob", .invalid("usage: /msg NICK TEXT")),
        ("   ", .empty),
    ])
    func parses(_ example: (String, InputLine)) {
        #expect(InputLine.parse(example.0, room: "general") == example.1)
    }

    @Test func textWithoutARoomSaysWhatToDo() {
        #expect(InputLine.parse("hello", room: nil) == .invalid("join a room first: /join ROOM"))
    }

    @Test func inADirectMessageBufferTextIsADM() {
        #expect(InputLine.parse("psst", room: nil, dmPeer: "bob") == .command(.directMessage(to: "bob", text: "psst")))
        #expect(InputLine.parse("/part", room: nil, dmPeer: "bob") == .local(.close, argument: ""), "closes the buffer")
    }

    /// One table names every command: every name and alias parses to something other than
    /// "unknown", and no two commands share a name.
    @Test func everyCommandInTheTableParses() {
        let names = SlashCommand.all.flatMap { [$0.name] + $0.aliases }
        #expect(Set(names).count == names.count)
        for name in names {
            if case .invalid(let message) = InputLine.parse("/\(name)", room: "general") {
                #expect(!message.hasPrefix("unknown"), "/\(name)")
            }
        }
    }
}
