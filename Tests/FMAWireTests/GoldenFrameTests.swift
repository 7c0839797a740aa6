import FMATestSupport
import FMAWire
import Foundation
import NIOCore
import Testing

@Suite("Golden frames (Tests/Golden)")
struct GoldenFrameTests {
    static let files: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: goldenDirectory)) ?? [])
            .filter { $0.hasSuffix(".frame") }.sorted()
    }()

    static func load(_ name: String) throws -> (bytes: [UInt8], frame: Fma_V1_Frame) {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: goldenDirectory + "/" + name)))
        var buffer = ByteBuffer(bytes: bytes)
        let frame = try #require(try FrameCodec.decode(from: &buffer, maxFrameBytes: FrameCodec.defaultMaxFrameBytes))
        #expect(buffer.readableBytes == 0, "\(name) holds more than one frame")
        return (bytes, frame)
    }

    @Test("there are golden frames to check")
    func present() {
        #expect(Self.files.count >= 8)
    }

    @Test("each golden frame decodes and re-encodes byte for byte", arguments: files)
    func roundTrip(name: String) throws {
        let (bytes, frame) = try Self.load(name)
        #expect(try FrameCodec.encode(frame) == bytes)
    }

    @Test("the health check request carries what Tests/Golden/README.md says")
    func healthCheckRequest() throws {
        let frame = try Self.load("health_check_request.frame").frame
        #expect(frame.callID == 1)
        guard case .request(let request) = frame.body else { Issue.record("not a request"); return }
        #expect(request.method == "fma.v1.Health/Check")
        #expect(request.metadata == ["authorization": "Bearer s3cret"])
        #expect(request.timeoutMs == 5000)
        let payload = try Fma_V1_HealthCheckRequest(serializedBytes: request.payload)
        #expect(payload.service == "fma.v1.Demo")
    }

    @Test("the health check response, NOT_FOUND status and connection error decode as documented")
    func responsesAndStatuses() throws {
        let response = try Self.load("health_check_response.frame").frame
        let health = try Fma_V1_HealthCheckResponse(serializedBytes: response.response.payload)
        #expect(health.status == .serving)
        #expect(health.component == "fma-demo")
        #expect(health.services == ["fma.v1.Demo", "fma.v1.Health"])

        let notFound = try Self.load("status_not_found.frame").frame
        #expect(notFound.callID == 7)
        #expect(notFound.status.code == .notFound)
        #expect(notFound.status.details == ["field": "id"])
        #expect(notFound.status.message.unicodeScalars.contains { !$0.isASCII })

        let connectionError = try Self.load("connection_error.frame").frame
        #expect(connectionError.callID == 0)
        #expect(connectionError.status.code == .resourceExhausted)

        let large = try Self.load("large_call_id.frame").frame
        #expect(large.callID == (1 << 40) + 3)
    }

    @Test("the unknown field of a later version is kept")
    func unknownField() throws {
        let (bytes, frame) = try Self.load("unknown_field.frame")
        #expect(!frame.unknownFields.data.isEmpty)
        #expect(try FrameCodec.encode(frame) == bytes)
    }
}
