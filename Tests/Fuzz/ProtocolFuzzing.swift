import Foundation
import WSChatProtocol

/// What the fuzzer checks for one input: whatever bytes a client sends, decoding and the name
/// and text rules either accept them or answer with a protocol error, never crash, and what
/// they accept keeps its promises (a round trip decodes back to itself, an accepted name is
/// within its byte bound and folds to a fixed point).
enum ProtocolFuzzing {
    static func check(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        if let message = try? ClientMessage.decode(text) {
            let again = try? ClientMessage.decode(message.encoded())
            precondition(again == message, "a decoded frame did not survive its own encoding: \(text.debugDescription)")
        }
        if let nick = try? Nick(validating: text) {
            precondition(nick.name.utf8.count <= Nick.maxBytes, "an accepted nick is over its byte bound")
            precondition(try! Nick(validating: nick.name) == nick, "a nick is not equal to itself re-validated")
            precondition(!nick.skeletons.isEmpty)
        }
        if let room = try? RoomName(validating: text) {
            precondition(room.name.utf8.count <= RoomName.maxBytes, "an accepted room name is over its byte bound")
        }
        if (try? TextRules.validateMessage(text, maxBytes: 4096)) != nil {
            precondition(!text.unicodeScalars.contains { TextRules.isControl($0) && $0 != "\n" && $0 != "\t" })
        }
    }
}
