import Foundation

/// JSON encoding and decoding shared by every message type: one object per frame, `type` first.
enum WireFormat {
    static let decoder = JSONDecoder()
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    private struct Tagged<Body: Encodable>: Encodable {
        let type: String
        let body: Body
        enum CodingKeys: String, CodingKey { case type }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try body.encode(to: encoder)
        }
    }

    /// Encodes `body`'s fields next to `"type": type` in one JSON object.
    static func encode(type: String, _ body: some Encodable) -> String {
        do {
            let data = try encoder.encode(Tagged(type: type, body: body))
            return String(decoding: data, as: UTF8.self)
        } catch {
            // Every body is a struct of strings, numbers and booleans: encoding cannot fail.
            preconditionFailure("encoding a \(type) message failed: \(error)")
        }
    }

    /// A short explanation of a decoding failure that names the offending field.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, _):
            return "missing field \"\(key.stringValue)\""
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field \"\(field)\" must be \(describe(type))"
        case .dataCorrupted(let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "the frame is not valid JSON" : "field \"\(field)\" is malformed"
        @unknown default:
            return "\(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int64.Type, is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "\(type)"
        }
    }
}
