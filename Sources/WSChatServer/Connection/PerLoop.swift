import NIOCore
import Synchronization

/// One object of a kind per event loop, made on first use and kept for the process's life:
/// the connections on a loop share it instead of each carrying its own (a flush queue, a
/// sweep). Only ever used on its own loop.
enum PerLoop {
    private struct Key: Hashable {
        let loop: ObjectIdentifier
        let kind: ObjectIdentifier
        /// Tells apart objects of one kind on one loop, such as sweeps of different periods.
        let variant: Int64
    }

    private static let objects = Mutex<[Key: NIOLoopBound<AnyObject>]>([:])

    /// The `Object` of `eventLoop` (and `variant`), made by `make` the first time; called on
    /// that loop.
    static func object<Object: AnyObject>(
        on eventLoop: any EventLoop, variant: Int64 = 0, _ make: () -> Object
    ) -> Object {
        let key = Key(loop: ObjectIdentifier(eventLoop), kind: ObjectIdentifier(Object.self), variant: variant)
        let bound = objects.withLock { objects in
            if let existing = objects[key] { return existing }
            let created = NIOLoopBound<AnyObject>(make(), eventLoop: eventLoop)
            objects[key] = created
            return created
        }
        // The key's kind is `Object`, so the stored object is one.
        return unsafeDowncast(bound.value, to: Object.self)
    }
}
