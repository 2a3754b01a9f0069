import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL that `Tests/with-postgres.sh` started for this test run; each test gets a
/// database of its own on it.
public enum TestPostgres {
    public struct NotRunning: Error, CustomStringConvertible {
        public let description =
            "PostgreSQL tests need a server: run them with Tests/with-postgres.sh (Tests/run-all.sh does)"
    }

    /// A URL of a new, empty database.
    public static func freshDatabase() async throws -> String {
        guard let admin = ProcessInfo.processInfo.environment["WSCHAT_TEST_POSTGRES"],
            var url = URLComponents(string: admin), let host = url.host, let port = url.port
        else { throw NotRunning() }
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: host, port: port, username: url.user ?? "wschat", password: nil, database: "postgres",
                tls: .disable),
            id: 1, logger: Logger(label: "test-postgres"))
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: connection.logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        url.path = "/" + name
        return url.string!
    }
}
