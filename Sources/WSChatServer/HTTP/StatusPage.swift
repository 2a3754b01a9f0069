import WSChatProtocol

/// The page `GET /` answers: what this server is and how to connect to it.
enum StatusPage {
    static func html(serverName: String, url: String, users: Int, rooms: Int) -> String {
        let name = escape(serverName)
        let address = escape(url)
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(name)</title>
            <style>
            body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; }
            code, pre { font-family: ui-monospace, monospace; background: #f3f3f3; border-radius: 4px; }
            pre { padding: .75rem 1rem; overflow-x: auto; }
            </style>
            </head>
            <body>
            <h1>\(name)</h1>
            <p>A <strong>wschat</strong> server: \(users) \(users == 1 ? "user" : "users") in \(rooms) \(rooms == 1 ? "room" : "rooms") right now.</p>
            <h2>Connect</h2>
            <p>From a terminal:</p>
            <pre>wschat \(address)</pre>
            <p>From any WebSocket library: open <code>\(address)</code> (subprotocol
            <code>\(WireProtocol.subprotocol)</code>), send one JSON object per text frame, starting with
            <code>{"type":"hello","nick":"you"}</code>, then <code>{"type":"join","room":"general"}</code>.</p>
            <p>Health: <a href="/healthz">/healthz</a> · Metrics: <a href="/metrics">/metrics</a></p>
            </body>
            </html>

            """
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
