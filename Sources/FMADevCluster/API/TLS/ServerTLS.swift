import NIOCore
import NIOSSL

/// The TLS side of the API server: NIOSSL with the cluster's server certificate, TLS 1.2 or
/// newer, ALPN offering only `http/1.1` (the HTTP server speaks HTTP/1.1; clients that prefer
/// HTTP/2 settle on it).
struct ServerTLS: Sendable {
    let context: NIOSSLContext

    init(credentials: ClusterCredentials) throws {
        let certificate = try NIOSSLCertificate(bytes: Array(credentials.serverCertificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(credentials.serverKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        context = try NIOSSLContext(configuration: configuration)
    }

    /// Adds the TLS handler at the front of an accepted connection's pipeline.
    func prepare(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
    }
}
