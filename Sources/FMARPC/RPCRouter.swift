import FMAWire
public import Foundation
public import SwiftProtobuf

/// A set of services: what a server answers, method by method.
public protocol RPCService: Sendable {
    /// The protobuf service name, e.g. "fma.v1.Demo".
    static var serviceName: String { get }
    /// Adds this service's methods to `router`.
    func register(in router: inout RPCRouter)
}

/// The table from method names to handlers that a server dispatches calls with.
public struct RPCRouter: Sendable {
    private(set) var handlers: [String: MethodHandler] = [:]
    /// The names of the services with at least one method here, sorted.
    public private(set) var serviceNames: [String] = []

    public init() {}

    public init(services: [any RPCService]) {
        for service in services { add(service) }
    }

    public mutating func add(_ service: some RPCService) {
        service.register(in: &self)
    }

    /// Registers a unary method: one request in, one response out.
    public mutating func unary<Request: Message, Response: Message>(
        _ method: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        _ handler: @escaping @Sendable (Request, ServerCallContext) async throws -> Response
    ) {
        register(method, MethodHandler(kind: .unary) { payload, _, context in
            let request = try Self.decode(Request.self, from: payload, method: method)
            let response = try await handler(request, context)
            return try response.serializedBytes() as Data
        })
    }

    /// Registers a unary method whose handler returns its response already encoded (as
    /// `Response`): for answers that change rarely and are asked for often, encoded once.
    public mutating func unaryEncoded<Request: Message>(
        _ method: String,
        request: Request.Type = Request.self,
        _ handler: @escaping @Sendable (Request, ServerCallContext) async throws -> Data
    ) {
        register(method, MethodHandler(kind: .unary) { payload, _, context in
            try await handler(try Self.decode(Request.self, from: payload, method: method), context)
        })
    }

    /// Registers a server-streaming method: one request in, any number of responses out.
    public mutating func serverStreaming<Request: Message, Response: Message>(
        _ method: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        _ handler: @escaping @Sendable (Request, RPCResponseWriter<Response>, ServerCallContext) async throws -> Void
    ) {
        register(method, MethodHandler(kind: .serverStreaming) { payload, sink, context in
            let request = try Self.decode(Request.self, from: payload, method: method)
            try await handler(request, RPCResponseWriter(sink: sink), context)
            return nil
        })
    }

    private mutating func register(_ method: String, _ handler: MethodHandler) {
        precondition(handlers[method] == nil, "method \(method) registered twice")
        handlers[method] = handler
        let service = String(method.prefix { $0 != "/" })
        if !serviceNames.contains(service) {
            serviceNames.append(service)
            serviceNames.sort()
        }
    }

    private static func decode<M: Message>(_ type: M.Type, from payload: Data, method: String) throws(RPCError) -> M {
        do {
            return try M(serializedBytes: payload)
        } catch {
            throw RPCError(.invalidArgument, "the payload of \(method) does not decode as \(M.protoMessageName): \(error)", cause: error)
        }
    }
}

/// One method's handler, with its request and response types erased.
struct MethodHandler: Sendable {
    enum Kind: Sendable { case unary, serverStreaming }
    let kind: Kind
    /// Runs the call; returns the unary response payload, or nil for a stream.
    let run: @Sendable (Data, any ResponseSink, ServerCallContext) async throws -> Data?
}

/// Sends one serialized response of a streaming call, waiting for flow control.
protocol ResponseSink: Sendable {
    func send(_ payload: Data) async throws
}

/// How a streaming handler sends its responses.
///
/// `write` returns once the message is handed to the connection; it waits while the client has
/// no credit left or the socket cannot take more, so a slow reader never makes the server
/// buffer without bound. It throws `CancellationError` once the call has ended.
public struct RPCResponseWriter<Response: Message>: Sendable {
    let sink: any ResponseSink

    public func write(_ response: Response) async throws {
        try await sink.send(try response.serializedBytes())
    }
}
