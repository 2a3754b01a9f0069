import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Answers the plain HTTP requests of a connection with Hummingbird's router, as Hummingbird's
/// `Application` would: every response carries `Date` and `Server`, and an error that is not
/// an HTTP one becomes a 500 (the log says which).
enum RouteResponder {
    static func make(router: Router<BasicRequestContext>, serverName: String, logger: Logger)
        -> HTTPChannelHandler.Responder
    {
        let routes = router.buildResponder()
        let clock = HTTPDate()
        return { request, writer, channel in
            let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await routes.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.error("an HTTP route failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = clock.now()
            response.headers[.server] = serverName
            try await writer.write(response: response.head, body: response.body)
        }
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), made at most once a second.
final class HTTPDate: Sendable {
    private let cache = Mutex<(second: time_t, text: String)>((-1, ""))

    func now() -> String {
        var second = time_t()
        time(&second)
        return cache.withLock { cache in
            if cache.second != second {
                cache = (second, Self.format(second))
            }
            return cache.text
        }
    }

    /// Formats with `strftime`, whose day and month names are English in the C locale, which
    /// the server never changes.
    static func format(_ second: time_t) -> String {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = [CChar](repeating: 0, count: 32)
        let length = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
