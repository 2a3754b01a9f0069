import SQLiteNIO

/// Direct access to an SQLite history file, for tests that change it behind a stopped server.
public enum TestSQLite {
    /// Runs one statement on the database at `path`.
    public static func execute(_ sql: String, in path: String) async throws {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            _ = try await connection.query(sql)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
