import HTTPTypes
import Hummingbird
import NIOCore

/// The browser client (`Web/` in the package: HTML, CSS, JavaScript, no build step), built
/// into the server's binary (so a copied or installed `wschat-server` needs no resource
/// folder beside it) and served with an ETag, so that a browser revalidates with one
/// cheap request and takes a new version as soon as there is one. The page may run only its
/// own script and style, and talk only to its own origin (Content-Security-Policy).
struct WebClient: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        let cacheControl: String
        let etag: String
    }

    /// Paths and the files that answer them; `/favicon.ico` is asked for by browsers on their own.
    static let files: [(path: String, file: String, bytes: [UInt8], contentType: String)] = [
        ("/", "index.html", PackageResources.index_html, "text/html; charset=utf-8"),
        ("/app.js", "app.js", PackageResources.app_js, "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", PackageResources.app_css, "text/css; charset=utf-8"),
        ("/favicon.svg", "favicon.svg", PackageResources.favicon_svg, "image/svg+xml"),
        ("/favicon.ico", "favicon.svg", PackageResources.favicon_svg, "image/svg+xml"),
    ]

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    let assets: [String: Asset]

    /// Prepares the files; the page's title and heading name the server.
    init(serverName: String) {
        var assets: [String: Asset] = [:]
        for (path, file, bytes, contentType) in Self.files {
            var text = String(decoding: bytes, as: UTF8.self)
            if file == "index.html" {
                text = text.replacingOccurrences(of: "{{SERVER_NAME}}", with: Self.escape(serverName))
            }
            assets[path] = Asset(
                body: ByteBuffer(string: text), contentType: contentType,
                cacheControl: file.hasPrefix("favicon") ? "public, max-age=86400" : "no-cache",
                etag: "\"\(Self.digest(text))\"")
        }
        self.assets = assets
    }

    func register(on router: Router<BasicRequestContext>) {
        for path in Set(Self.files.map(\.path)) {
            guard let asset = assets[path] else { continue }
            router.get(RouterPath(path)) { request, _ in Self.response(asset, to: request) }
        }
    }

    static func response(_ asset: Asset, to request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType, .cacheControl: asset.cacheControl, .eTag: asset.etag,
            .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer",
        ]
        if asset.contentType.hasPrefix("text/html") { headers[.contentSecurityPolicy] = contentSecurityPolicy }
        let wanted = request.headers[.ifNoneMatch]?.split(separator: ",").map { String($0.trimmingHTTPWhitespace()) }
        if let wanted, wanted.contains(asset.etag) || wanted.contains("*") {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }

    /// FNV-1a, 64 bits, in hex: enough to tell one version of a file from another.
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
