import FMAHTTPClient
import FMATestSupport
import Foundation
import Testing

@Suite("HTTPClient over TLS with a private CA made at test time")
struct HTTPClientTLSTests {
    @Test("the private CA is trusted as a file and as PEM data; without it the request fails with .tls")
    func privateCA() async throws {
        try await withTestHTTPServer(tls: true) { server, certificates in
            let certificates = try #require(certificates)
            for trustRoots in [HTTPClient.TLS.Source.file(certificates.caCertificate), .pem(try certificates.bytes(certificates.caCertificate))] {
                var configuration = HTTPClient.Configuration()
                configuration.tls.trustRoots = trustRoots
                configuration.bearerToken = { "secret-token" }
                try await withHTTPClient(configuration: configuration) { client in
                    let response = try await client.send(HTTPClientRequest(.get, server.url("/echo")))
                    #expect(response.status == 200)
                    let echo = try json(response.body)
                    #expect((echo["headers"] as? [String: String])?["authorization"] == "Bearer secret-token")
                    #expect(echo["client_cn"] is NSNull, "no client certificate was configured")
                }
            }

            await withHTTPClient { client in
                let error = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.send(HTTPClientRequest(.get, server.url("/echo")))
                }
                #expect(error?.code == .tls, "\(String(describing: error))")
                #expect(error?.curlCode == 60)
                #expect(error?.message.contains(server.url("/echo")) == true)
            }

            var insecure = HTTPClient.Configuration()
            insecure.tls.insecureSkipVerify = true
            try await withHTTPClient(configuration: insecure) { client in
                let response = try await client.send(HTTPClientRequest(.get, server.url("/status/200")))
                #expect(response.status == 200)
            }
        }
    }

    @Test("a client certificate (file or PEM data) is presented to a server that requires one")
    func clientCertificate() async throws {
        try await withTestHTTPServer(tls: true, requireClientCertificate: true) { server, certificates in
            let certificates = try #require(certificates)
            let sources: [(HTTPClient.TLS.Source, HTTPClient.TLS.Source)] = [
                (.file(certificates.clientCertificate), .file(certificates.clientKey)),
                (.pem(try certificates.bytes(certificates.clientCertificate)), .pem(try certificates.bytes(certificates.clientKey))),
            ]
            for (certificate, key) in sources {
                var configuration = HTTPClient.Configuration()
                configuration.tls = HTTPClient.TLS(trustRoots: .file(certificates.caCertificate), clientCertificate: certificate, clientKey: key)
                try await withHTTPClient(configuration: configuration) { client in
                    let response = try await client.send(HTTPClientRequest(.get, server.url("/echo")))
                    #expect(response.status == 200)
                    #expect(try json(response.body)["client_cn"] as? String == TestCertificates.clientCommonName)
                }
            }

            var withoutCertificate = HTTPClient.Configuration()
            withoutCertificate.tls.trustRoots = .file(certificates.caCertificate)
            await withHTTPClient(configuration: withoutCertificate) { client in
                let error = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.send(HTTPClientRequest(.get, server.url("/echo"), timeout: .seconds(10)))
                }
                // Under TLS 1.3 the server rejects the missing certificate after the client's
                // handshake is done: the client reads its alert (.tls) or, when the server's close
                // overtakes the alert, a connection reset (.transport).
                #expect(error?.code == .tls || error?.code == .transport, "\(String(describing: error))")
                #expect(error?.message.contains(server.url("/echo")) == true)
            }
        }
    }

    @Test("unusable TLS settings fail with clear errors")
    func badSettings() async throws {
        try await withTestHTTPServer(tls: true) { server, _ in
            var missingFile = HTTPClient.Configuration()
            missingFile.tls.trustRoots = .file("/nonexistent/ca.crt")
            await withHTTPClient(configuration: missingFile) { client in
                let error = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.send(HTTPClientRequest(.get, server.url("/echo")))
                }
                #expect(error?.code == .tls, "\(String(describing: error))")
            }
            var halfPair = HTTPClient.Configuration()
            halfPair.tls.clientCertificate = .file("/nonexistent/client.crt")
            await withHTTPClient(configuration: halfPair) { client in
                let error = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.send(HTTPClientRequest(.get, server.url("/echo")))
                }
                #expect(error?.code == .configuration)
                #expect(error?.message.contains("clientKey") == true)
            }
        }
    }
}
