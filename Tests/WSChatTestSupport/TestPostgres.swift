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
            var url = URLComponents(string: admin)
        else { throw NotRunning() }
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await execute("CREATE DATABASE \(name)", in: admin)
        url.path = "/" + name
        return url.string!
    }

    /// Runs one statement as the superuser in the database at `databaseURL`.
    public static func execute(_ sql: String, in databaseURL: String) async throws {
        guard let url = URLComponents(string: databaseURL), let host = url.host, let port = url.port else {
            throw NotRunning()
        }
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: host, port: port, username: url.user ?? "wschat", password: nil,
                database: String(url.path.dropFirst()), tls: .disable),
            id: 1, logger: Logger(label: "test-postgres"))
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: connection.logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
