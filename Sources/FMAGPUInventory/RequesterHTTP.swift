
public import FMAHTTPServer
import FMARPC
public import Logging

/// The requester's HTTP surfaces, exactly as FMA's requester serves them (so FMA's own
/// controller can drive ours): the probes server and the SPI server.
public enum RequesterHTTP {
    public static let readyPath = "/ready"
    public static let acceleratorsPath = "/v1/dual-pods/accelerators"
    public static let acceleratorMemoryPath = "/v1/dual-pods/accelerator-memory-usage"
    public static let becomeReadyPath = "/v1/become-ready"
    public static let becomeUnreadyPath = "/v1/become-unready"
    public static let setLogPath = "/v1/set-log"
    /// The query parameter of `setLogPath` giving the chunk's position in the log.
    public static let startPositionParameter = "startPos"

    /// `GET /ready`: 200 "OK\n" when ready, else 503 "Service Unavailable\n".
    public static func probesRouter(readiness: Readiness) -> HTTPRouter {
        var router = HTTPRouter()
        router.add(.GET, readyPath) { _ in
            readiness.isReady ? .text("OK\n") : .text("Service Unavailable\n", status: .serviceUnavailable)
        }
        return router
    }

    /// The SPI (FMA's `pkg/spi` paths):
    /// - `GET /v1/dual-pods/accelerators`: 200 JSON array of UUIDs; 500 "no GPUs found" if none;
    /// - `GET /v1/dual-pods/accelerator-memory-usage`: 200 JSON object UUID → MiB used; 500 with
    ///   one error a line when the figures cannot be had;
    /// - `POST /v1/become-ready`, `POST /v1/become-unready`: 200 "OK\n" (the body is ignored);
    /// - `POST /v1/set-log?startPos=N` with a chunk of the log as the body: 200 when accepted
    ///   (overlaps and repeats included), 400 when `startPos` is missing, not an int64, negative
    ///   or beyond the stored length, 500 when writing fails; the body is FMA's message + CRLF.
    public static func spiRouter(requester: Requester, logger: Logger) -> HTTPRouter {
        var router = HTTPRouter()
        router.add(.GET, acceleratorsPath) { _ in
            guard !requester.accelerators.isEmpty else { return .text("no GPUs found\n", status: .internalServerError) }
            return try .json(requester.accelerators)
        }
        router.add(.GET, acceleratorMemoryPath) { _ in
            let used: [String: UInt64]
            do throws(RPCError) {
                used = try await requester.acceleratorMemoryMiB()
            } catch {
                logger.error("answering the memory query with an error", metadata: ["error": "\(error.message)"])
                return .text(error.message + "\n", status: .internalServerError)
            }
            return try .json(used)
        }
        router.add(.POST, becomeReadyPath) { _ in setReady(true, requester, logger) }
        router.add(.POST, becomeUnreadyPath) { _ in setReady(false, requester, logger) }
        router.add(.POST, setLogPath) { request in
            guard let text = request.query[startPositionParameter], !text.isEmpty else {
                return .text("Missing \(startPositionParameter) parameter\n", status: .badRequest)
            }
            guard let start = Int64(text) else {
                return .text("Failed to parse \"\(text)\" as an int64: invalid syntax\n", status: .badRequest)
            }
            do throws(RPCError) {
                let appended = try requester.log.append(start: start, Array(request.body.readableBytesView))
                logger.debug("log chunk accepted", metadata: ["start": "\(start)", "added": "\(appended.added)", "stored": "\(appended.stored)"])
                return .text(appended.message + "\r\n")
            } catch {
                return .text(error.message + "\r\n", status: error.code == .invalidArgument ? .badRequest : .internalServerError)
            }
        }
        return router
    }

    private static func setReady(_ ready: Bool, _ requester: Requester, _ logger: Logger) -> HTTPResponse {
        requester.readiness.set(ready)
        logger.info("readiness set", metadata: ["ready": "\(ready)", "by": "spi"])
        return .text("OK\n")
    }
}
