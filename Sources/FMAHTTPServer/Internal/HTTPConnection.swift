import FMARPC
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// One accepted HTTP/1.1 connection: reads requests one after the other (keep-alive), answers
/// each through the router, and takes part in graceful shutdown (see
/// `HTTPConnectionStateMachine`). Its failure ends only this connection.
struct HTTPConnection: Sendable {
    /// Requests arrive through the async channel; responses are written to the channel itself
    /// (see `ResponseWriter`).
    typealias Channel = NIOAsyncChannel<HTTPServerRequestPart, Never>
    typealias Outbound = ResponseWriter

    /// A request read in full, not yet routed.
    struct PendingRequest: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer
    }

    let router: HTTPRouter
    let configuration: HTTPServer.Configuration
    let metrics: HTTPServerMetrics
    let logger: Logger

    func serve(_ channel: Channel) async {
        let events = ConnectionEvents()
        let machine = NIOLockedValueBox(HTTPConnectionStateMachine())
        let nioChannel = channel.channel
        nioChannel.closeFuture.whenComplete { _ in events.fire(.closed) }
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(nioChannel.remoteAddress.map { "\($0)" } ?? "?")"
        let drainTimeout = TimeAmount.nanoseconds(Int64(configuration.drainTimeout.components.seconds) * 1_000_000_000
            + configuration.drainTimeout.components.attoseconds / 1_000_000_000)
        do {
            try await withGracefulShutdownHandler {
                try await channel.executeThenClose { inbound, _ in
                    let outbound = ResponseWriter(channel: nioChannel)
                    var parts = inbound.makeAsyncIterator()
                    while let request = try await readRequest(&parts, outbound, logger: logger) {
                        machine.withLockedValue { $0.requestStarted() }
                        let keepAlive = try await respond(to: request, outbound, events: events, machine: machine, peer: nioChannel, logger: logger)
                        if machine.withLockedValue({ $0.responseEnded(keepAlive: keepAlive) }) == .close { break }
                    }
                }
            } onGracefulShutdown: {
                switch machine.withLockedValue({ $0.shutdown() }) {
                case .close:
                    nioChannel.close(promise: nil)
                case .stopStream:
                    events.fire(.shutdown)
                    nioChannel.eventLoop.scheduleTask(in: drainTimeout) { nioChannel.close(promise: nil) }
                case .closeAfterResponse:
                    nioChannel.eventLoop.scheduleTask(in: drainTimeout) { nioChannel.close(promise: nil) }
                case .none:
                    break
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
        machine.withLockedValue { $0.closed() }
    }

    // MARK: - Reading

    /// The next whole request; nil when the connection ends, or after answering 413 to a body
    /// over the limit (the connection then closes: the rest of the body is never read).
    private func readRequest(_ parts: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator, _ outbound: Outbound,
                             logger: Logger) async throws -> PendingRequest? {
        guard let first = try await parts.next() else { return nil }
        guard case .head(let head) = first else {
            logger.debug("request part without a head; closing")
            return nil
        }
        let limit = configuration.maxBodyBytes
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > limit {
            try await refuseBody(head, outbound, "the request body of \(declared) bytes exceeds the limit of \(limit) bytes")
            return nil
        }
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
        }
        var body = ByteBuffer()
        while let part = try await parts.next() {
            switch part {
            case .body(var chunk):
                guard body.readableBytes + chunk.readableBytes <= limit else {
                    try await refuseBody(head, outbound, "the request body exceeds the limit of \(limit) bytes")
                    return nil
                }
                body.writeBuffer(&chunk)
            case .end:
                return PendingRequest(head: head, body: body)
            case .head:
                logger.debug("a request head before the previous request ended; closing")
                return nil
            }
        }
        return nil
    }

    private func refuseBody(_ head: HTTPRequestHead, _ outbound: Outbound, _ message: String) async throws {
        let route = router.routeLabel(method: head.method, segments: HTTPPath.segments(of: HTTPPath.split(target: head.uri).path))
        logger.info("refusing a request body", metadata: ["method": "\(head.method.rawValue)", "route": "\(route)", "reason": "\(message)"])
        metrics.record(route: route, method: head.method.rawValue, status: HTTPResponseStatus.payloadTooLarge.code, nanoseconds: 0)
        try await writeBytes(errorResponse(.payloadTooLarge, message), for: head, keepAlive: false, outbound)
    }

    // MARK: - Answering

    /// Routes and answers one request; returns whether the connection may carry another.
    private func respond(to request: PendingRequest, _ outbound: Outbound, events: ConnectionEvents,
                         machine: NIOLockedValueBox<HTTPConnectionStateMachine>, peer: any NIOCore.Channel, logger: Logger) async throws -> Bool {
        let started = ContinuousClock.now
        let head = request.head
        let (route, response) = await route(request, peer: peer, events: events, logger: logger)
        guard let response else { return false }  // the client left while the handler ran
        var keepAlive = head.isKeepAlive
        switch response.body {
        case .bytes:
            try await writeBytes(response, for: head, keepAlive: keepAlive, outbound)
        case .stream(let producer):
            let produce = machine.withLockedValue { $0.streamStarted() }
            keepAlive = try await writeStream(response, producer: produce ? producer : nil, for: head, keepAlive: keepAlive,
                                              outbound, events: events, logger: logger)
        }
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        metrics.record(route: route, method: head.method.rawValue, status: response.status.code, nanoseconds: nanoseconds)
        logger.debug("answered", metadata: ["method": "\(head.method.rawValue)", "uri": "\(head.uri)",
                                            "status": "\(response.status.code)", "ms": "\(nanoseconds / 1_000_000)"])
        return keepAlive
    }

    /// The route's pattern (for metrics) and the response; nil if the connection closed while
    /// the handler ran (the handler is then cancelled).
    private func route(_ pending: PendingRequest, peer: any NIOCore.Channel, events: ConnectionEvents,
                       logger: Logger) async -> (String, HTTPResponse?) {
        let head = pending.head
        let (rawPath, rawQuery) = HTTPPath.split(target: head.uri)
        guard rawPath.hasPrefix("/") else {
            return ("unmatched", errorResponse(.badRequest, "the request target '\(head.uri)' is not an absolute path"))
        }
        guard let decoded = HTTPPath.decodedSegments(of: rawPath) else {
            return ("unmatched", errorResponse(.badRequest, "the path '\(rawPath)' is not valid percent-encoded UTF-8"))
        }
        guard let query = rawQuery.map(HTTPPath.parameters(of:)) ?? [:] else {
            return ("unmatched", errorResponse(.badRequest, "the query '\(rawQuery ?? "")' is not valid percent-encoded UTF-8"))
        }
        switch router.match(method: head.method, segments: decoded) {
        case .notFound:
            return ("unmatched", errorResponse(.notFound, "not found: \(rawPath)"))
        case .methodNotAllowed(let allowed):
            let list = allowed.joined(separator: ", ")
            var response = errorResponse(.methodNotAllowed, "method \(head.method.rawValue) is not allowed on \(rawPath); allowed: \(list)")
            response.headers.replaceOrAdd(name: "Allow", value: list)
            return ("unmatched", response)
        case .found(let route, let parameters):
            let request = HTTPRequest(method: head.method, path: String(rawPath), query: query, headers: head.headers,
                                      body: pending.body, pathParameters: parameters,
                                      peer: peer.remoteAddress.map { "\($0)" } ?? "")
            let handler = route.handler
            let admission = router.admission
            let response: HTTPResponse?
            do {
                try admission?(request)
                (response, _) = try await events.run(until: [.closed]) { try await handler(request) }
            } catch {
                response = self.response(for: error, route: route.pattern, logger: logger)
            }
            return (route.pattern, response)
        }
    }

    private func response(for error: any Error, route: String, logger: Logger) -> HTTPResponse {
        let failure: HTTPError
        switch error {
        case let error as HTTPError: failure = error
        case let error as RPCError: failure = HTTPError(error)
        default: failure = HTTPError(.internalServerError, "\(error)", cause: error)
        }
        if failure.status.code >= 500 {
            logger.error("handler failed", metadata: ["route": "\(route)", "status": "\(failure.status.code)", "error": "\(failure.message)"])
        }
        var response = errorResponse(failure.status, failure.message)
        for (name, value) in failure.headers { response.headers.replaceOrAdd(name: name, value: value) }
        return response
    }

    /// The server's own answer with `status` and `message`: the configured `errorResponse`, or
    /// the message as text.
    private func errorResponse(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        configuration.errorResponse?(status, message) ?? .text(message + "\n", status: status)
    }

    private func writeBytes(_ response: HTTPResponse, for request: HTTPRequestHead, keepAlive: Bool, _ outbound: Outbound) async throws {
        guard case .bytes(let body) = response.body else { return }
        var headers = response.headers
        headers.remove(name: "transfer-encoding")
        if Self.allowsBody(response.status) {
            headers.replaceOrAdd(name: "Content-Length", value: "\(body.readableBytes)")
        }
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers))]
        if request.method != .HEAD, body.readableBytes > 0, Self.allowsBody(response.status) {
            parts.append(.body(.byteBuffer(body)))
        }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }

    /// Sends a chunked response as `producer` writes it (just the head and end without one);
    /// returns whether the connection may carry another request.
    private func writeStream(_ response: HTTPResponse, producer: (@Sendable (HTTPBodyWriter) async throws -> Void)?,
                             for request: HTTPRequestHead, keepAlive: Bool, _ outbound: Outbound, events: ConnectionEvents,
                             logger: Logger) async throws -> Bool {
        var headers = response.headers
        headers.remove(name: "content-length")
        // HTTP/1.0 has no chunked encoding: the body ends when the connection does.
        let keepAlive = keepAlive && request.version != .http1_0 && producer != nil
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
        guard let producer, request.method != .HEAD else {
            try await outbound.write(.end(nil))
            return keepAlive
        }
        let writer = HTTPBodyWriter { buffer in try await outbound.write(.body(.byteBuffer(buffer))) }
        do {
            let (_, stopped) = try await events.run(until: [.closed, .shutdown]) { try await producer(writer) }
            if stopped == .closed { return false }
        } catch {
            logger.debug("stream ended early", metadata: ["error": "\(error)"])
            return false  // no final chunk: the client sees the body cut short
        }
        try await outbound.write(.end(nil))
        return keepAlive
    }

    private static func allowsBody(_ status: HTTPResponseStatus) -> Bool {
        !(100..<200).contains(status.code) && status != .noContent && status != .notModified
    }
}
