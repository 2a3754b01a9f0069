// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "wschat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wschat", targets: ["wschat"]),
        .executable(name: "wschat-server", targets: ["wschat-server"]),
        .executable(name: "wschat-bench", targets: ["wschat-bench"]),
        .library(name: "WSChatProtocol", targets: ["WSChatProtocol"]),
        .library(name: "WSChatServer", targets: ["WSChatServer"]),
        .library(name: "WSChatClient", targets: ["WSChatClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // The wire protocol: message model, validation rules, error and close codes. No I/O.
        .target(name: "WSChatProtocol", dependencies: ["CICUSpoof"]),

        // ICU's spoof checker, for the confusable skeletons of nicks and room names (TS #39);
        // needs libicu-dev.
        .target(
            name: "CICUSpoof",
            linkerSettings: [.linkedLibrary("icui18n"), .linkedLibrary("icuuc")]
        ),

        // The chat server: rooms, sessions, history, limits, HTTP and WebSocket endpoints.
        .target(
            name: "WSChatServer",
            dependencies: [
                "WSChatProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "WSCompression", package: "swift-websocket"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            // The browser client: HTML, CSS and JavaScript served as they are.
            resources: [
                .embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/app.css"),
                .embedInCode("Web/favicon.svg"),
            ]
        ),

        // The client engine: connection, reconnect, keepalive, outbox and resume. No UI.
        .target(
            name: "WSChatClient",
            dependencies: [
                "WSChatProtocol",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "WSCompression", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),

        // The terminal UI: model, renderer (to an in-memory cell grid), themes, and the
        // ncurses layer that paints the grid and reads keys.
        .target(
            name: "WSChatTUI",
            dependencies: [
                "WSChatClient",
                "WSChatProtocol",
                "CNcursesw",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),

        // ncursesw, with the wide-character API switched on and its macros wrapped for Swift.
        .systemLibrary(
            name: "CNcursesw",
            providers: [.apt(["libncursesw5-dev"])]
        ),

        .executableTarget(
            name: "wschat-server",
            dependencies: [
                "WSChatServer",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The wschat app's pieces other than its flags: settings (config file, log file) and
        // the line-mode front end, in a library that tests import.
        .target(
            name: "WSChatApp",
            dependencies: [
                "WSChatClient",
                "WSChatProtocol",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "wschat",
            dependencies: [
                "WSChatApp",
                "WSChatClient",
                "WSChatProtocol",
                "WSChatServer",
                "WSChatTUI",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // What the test suites share: servers, clients and processes to drive.
        .target(
            name: "WSChatTestSupport",
            dependencies: [
                "WSChatServer",
                "WSChatProtocol",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "WSCompression", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ],
            path: "Tests/WSChatTestSupport"
        ),
        // Loads a server on this machine and measures it (docs/PERFORMANCE.md).
        .executableTarget(
            name: "wschat-bench",
            dependencies: [
                "WSChatProtocol",
                "WSChatClient",
                "WSChatTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Runs the Autobahn client cases against the engine's WebSocket transport (CI).
        .executableTarget(
            name: "wschat-autobahn",
            dependencies: [
                "WSChatClient",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Feeds the protocol decoder and the name and text rules whatever libFuzzer makes up
        // (Tests/fuzz.sh); built normally, it replays the kept inputs.
        .executableTarget(
            name: "wschat-fuzz",
            dependencies: ["WSChatProtocol"],
            path: "Tests/Fuzz",
            exclude: ["corpus", "json.dict"]
        ),

        .testTarget(
            name: "WSChatProtocolTests",
            dependencies: ["WSChatProtocol", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "WSChatClientTests",
            dependencies: [
                "WSChatApp",
                "WSChatClient",
                "WSChatProtocol",
                "WSChatServer",
                "WSChatTestSupport",
                "wschat",
                "wschat-server",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WSChatTUITests",
            dependencies: [
                "WSChatApp", "WSChatTUI", "WSChatClient", "WSChatProtocol", "WSChatTestSupport", "wschat",
                "wschat-server",
            ]
        ),
        .testTarget(
            name: "WSChatServerTests",
            dependencies: [
                "WSChatServer",
                "WSChatProtocol",
                "WSChatTestSupport",
                "wschat-server",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
    ]
)
