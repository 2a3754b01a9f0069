import Foundation
import Testing

@testable import WSChatApp

@Suite("config.toml")
struct ConfigFileTests {
    @Test func theDocumentedExampleParses() throws {
        let config = try ConfigFile.parse(ConfigFile.example, path: "config.toml")
        #expect(config.servers == ["ws://localhost:8080/ws"])
        #expect(config.nick == "alice" && config.rooms == ["general", "rust"] && config.theme == "default")
        #expect(
            config.pingInterval == 15 && config.pingTimeout == 10 && config.backoffBase == 1 && config.backoffCap == 30)
        #expect(config.highlights == ["deploy", "release"] && config.notifications == .osc9)
        #expect(config.timeFormat?.pattern == "%H:%M" && config.scrollback == 5000)
    }

    @Test(arguments: [
        ("nick = \"alice\"\nrooms = \"general\"\n", "config.toml:2: key \"rooms\": must be a list of strings"),
        ("nick = \"alice\"\n\nnik = \"typo\"\n", "config.toml:3: key \"nik\": unknown key"),
        ("[keepalive]\ninterval = -5\n", "config.toml:2: key \"interval\": must be a positive number of seconds"),
        ("insecure = \"yes\"\n", "config.toml:1: key \"insecure\": must be true or false"),
        (
            "nick = \"a\"\nnotifications = \"popup\"\n",
            "config.toml:2: key \"notifications\": must be one of \"osc9\", \"osc777\", \"off\""
        ),
        ("highlights = \"deploy\"\n", "config.toml:1: key \"highlights\": must be a list of strings"),
        ("time_format = \"%H:%k\"\n", "config.toml:1: key \"time_format\": %k is not a time field"),
        ("scrollback = 10\n", "config.toml:1: key \"scrollback\": must be a number of lines from 100 to 1000000"),
        ("nick = \n", "config.toml:1:"),
        ("nick = \"a\"\nserver = \"http://x\"\n", "config.toml:2: key \"server\": http://x is not a WebSocket URL"),
        (
            "servers = [\"ws://a/ws\", \"wss://10.0.0.1/ws\"]\n",
            "config.toml:1: key \"servers\": wss://10.0.0.1/ws: TLS"
        ),
    ])
    func badFilesNameTheLineAndTheKey(_ example: (String, String)) {
        do {
            _ = try ConfigFile.parse(example.0, path: "config.toml")
            Issue.record("accepted: \(example.0)")
        } catch {
            #expect("\(error)".hasPrefix(example.1), "\(error)")
        }
    }

    /// `/ignore` keeps its list in config.toml: the key's line is replaced or added before
    /// the first section, every other line stays as written, and a file it cannot edit
    /// safely is left alone with an error.
    @Test func theIgnoreListIsWrittenIntoTheFileLeavingTheRestAlone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-config-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("config.toml")

        try ConfigFile.save(ignore: ["mallory"], to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "ignore = [\"mallory\"]\n", "a new file")

        let written = "# my settings\nnick = \"alice\"  # me\n\n[keepalive]\ninterval = 20\n"
        try written.write(to: url, atomically: true, encoding: .utf8)
        try ConfigFile.save(ignore: ["mallory", "eve"], to: url)
        #expect(
            try String(contentsOf: url, encoding: .utf8)
                == "# my settings\nnick = \"alice\"  # me\n\nignore = [\"mallory\", \"eve\"]\n[keepalive]\ninterval = 20\n"
        )
        try ConfigFile.save(ignore: [], to: url)
        let emptied = try #require(try ConfigFile.load(from: url))
        #expect(emptied.ignore == [] && emptied.nick == "alice" && emptied.pingInterval == 20)

        let multiline = "ignore = [\n  \"a\",\n]\n"
        try multiline.write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try ConfigFile.save(ignore: ["b"], to: url) }
        #expect(try String(contentsOf: url, encoding: .utf8) == multiline, "left as it was")
    }

    @Test func flagsOverrideTheFile() throws {
        let file = try ConfigFile.parse("nick = \"fromfile\"\nrooms = [\"a\"]\n[reconnect]\ncap = 5\n", path: "c")
        var flags = ClientSettings()
        flags.nick = "fromflag"
        flags.backoffCap = 7
        let configuration = try flags.makeConfiguration(file: file, environment: ["USER": "fromenv"])
        #expect(configuration.nick == "fromflag" && configuration.rooms == ["a"])
        #expect(configuration.reconnect.cap == .seconds(7))
        let plain = try ClientSettings().makeConfiguration(file: ConfigFile(), environment: ["USER": "fromenv"])
        #expect(plain.nick == "fromenv" && plain.rooms == ["general"] && plain.urls == ["ws://localhost:8080/ws"])
    }
}
