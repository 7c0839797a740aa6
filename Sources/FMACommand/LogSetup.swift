import ArgumentParser
public import Logging

/// Process-wide logging: swift-log to standard error, metadata printed as key=value.
public enum LogSetup {
    /// Bootstraps logging once, at the given level; returns the component's logger.
    public static func bootstrap(component: String, level levelName: String) throws -> Logger {
        let level = try level(named: levelName)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: component)
        logger.logLevel = level
        return logger
    }

    static func level(named name: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw ValidationError("unknown log level '\(name)': use trace, debug, info, notice, warning, error or critical")
        }
        return level
    }
}
