import NIOConcurrencyHelpers
import NIOCore

/// The server's open connections, so that shutdown can drain them all.
final class ConnectionRegistry: Sendable {
    private let connections = NIOLockedValueBox<[ObjectIdentifier: ServerConnection]>([:])

    /// Adds a connection; returns how many are open.
    func add(_ connection: ServerConnection) -> Int {
        connections.withLockedValue { all in
            all[ObjectIdentifier(connection)] = connection
            return all.count
        }
    }

    /// Removes a connection; returns how many are open.
    func remove(_ connection: ServerConnection) -> Int {
        connections.withLockedValue { all in
            all.removeValue(forKey: ObjectIdentifier(connection))
            return all.count
        }
    }

    var all: [ServerConnection] {
        connections.withLockedValue { Array($0.values) }
    }
}
