#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on `DATABASE.lock` that one process holds while it uses the database:
/// the store's writer keeps each room's newest id in memory, which is only right while no
/// other process appends to the file. The kernel releases the lock when the process dies,
/// so a `kill -9` leaves nothing to clean up.
///
/// A separate file, because closing any descriptor of the database file itself would drop
/// the POSIX locks SQLite holds on it.
final class DatabaseLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock for the database at `databasePath`, or explains who has it.
    init(databasePath: String) throws {
        let path = databasePath + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError("cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another wschat-server is using it" : String(cString: strerror(errno))
            close(descriptor)
            throw StoreError("cannot use \(databasePath): \(reason) (lock file \(path))")
        }
    }

    /// Lets another store open the database (the descriptor itself closes with this object).
    func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}
