import Synchronization

/// Counts open WebSocket connections, in total and per remote address, and refuses new
/// ones over either cap before the upgrade (HTTP 503).
public final class ConnectionAdmission: Sendable {
    public enum Decision: Equatable, Sendable {
        case admitted
        case tooManyInTotal
        case tooManyFromAddress
    }

    private struct Counts {
        var total = 0
        var byAddress: [String: Int] = [:]
    }

    private let maxTotal: Int
    private let maxPerAddress: Int
    private let counts = Mutex(Counts())

    public init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Reserves a slot for a connection from `address`; every admitted slot must be released.
    public func admit(address: String) -> Decision {
        counts.withLock { counts in
            if counts.total >= maxTotal { return .tooManyInTotal }
            if counts.byAddress[address, default: 0] >= maxPerAddress { return .tooManyFromAddress }
            counts.total += 1
            counts.byAddress[address, default: 0] += 1
            return .admitted
        }
    }

    public func release(address: String) {
        counts.withLock { counts in
            counts.total -= 1
            let remaining = counts.byAddress[address, default: 1] - 1
            counts.byAddress[address] = remaining > 0 ? remaining : nil
        }
    }
}
