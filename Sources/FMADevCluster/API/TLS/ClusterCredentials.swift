import Crypto
public import Logging
public import Foundation
import SwiftASN1
import X509

/// The secrets of one fma-devcluster run: a certificate authority made at start, a server
/// certificate it signs for the loopback names (127.0.0.1, ::1, localhost), and the bearer token
/// every request must carry. A cluster that keeps its state (`DevCluster.Configuration.persistent`)
/// reads them back from its state directory at the next start (`load`).
public struct ClusterCredentials: Sendable {
    /// The CA certificate, PEM: what clients trust (`certificate-authority-data`).
    public var caCertificatePEM: String
    /// The server certificate, PEM, signed by the CA.
    public var serverCertificatePEM: String
    /// The server certificate's P-256 private key, PKCS#8 PEM.
    public var serverKeyPEM: String
    /// The bearer token clients send as `Authorization: Bearer TOKEN`.
    public var token: String

    public init(caCertificatePEM: String, serverCertificatePEM: String, serverKeyPEM: String, token: String) {
        self.caCertificatePEM = caCertificatePEM
        self.serverCertificatePEM = serverCertificatePEM
        self.serverKeyPEM = serverKeyPEM
        self.token = token
    }

    /// The credentials a run wrote to `directory` (`ca.crt`, `server.crt`, `server.key`, `token`);
    /// nil when one is missing, or when they do not make a usable server certificate (logged).
    public static func load(directory: String, logger: Logger) -> ClusterCredentials? {
        func read(_ name: String) -> String? { try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) }
        guard let ca = read("ca.crt"), let certificate = read("server.crt"), let key = read("server.key"),
              let token = read("token")?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else { return nil }
        let credentials = ClusterCredentials(caCertificatePEM: ca, serverCertificatePEM: certificate, serverKeyPEM: key, token: token)
        do {
            let parsed = try Certificate(pemEncoded: certificate)
            guard parsed.notValidAfter > Date().addingTimeInterval(86400) else {
                logger.warning("the last run's server certificate expires within a day; making new credentials", metadata: ["directory": "\(directory)"])
                return nil
            }
            _ = try ServerTLS(credentials: credentials)
        } catch {
            logger.warning("the last run's credentials are unusable; making new ones", metadata: ["directory": "\(directory)", "error": "\(error)"])
            return nil
        }
        return credentials
    }

    /// Makes fresh credentials: a P-256 CA valid for ten years, a server certificate for
    /// `hosts` (names become DNS names, addresses IP addresses) valid for one year, and a
    /// 256-bit random token.
    public static func generate(hosts: [String] = ["localhost", "127.0.0.1", "::1"], now: Date = Date()) throws -> ClusterCredentials {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("fma")
            CommonName("fma-devcluster CA")
        }
        let caPublicKey = Certificate.PublicKey(caKey.publicKey)
        let ca = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: caPublicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caPublicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))

        let serverKey = P256.Signing.PrivateKey()
        let serverPublicKey = Certificate.PublicKey(serverKey.publicKey)
        let serverName = try DistinguishedName {
            OrganizationName("fma")
            CommonName("fma-devcluster")
        }
        let names = try hosts.map(Self.generalName)
        let server = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: serverPublicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName,
            subject: serverName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectKeyIdentifier(hash: serverPublicKey)
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caPublicKey).keyIdentifier)
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))

        return ClusterCredentials(
            caCertificatePEM: try ca.serializeAsPEM().pemString,
            serverCertificatePEM: try server.serializeAsPEM().pemString,
            serverKeyPEM: serverKey.pemRepresentation,
            token: Self.randomToken())
    }

    /// 32 random bytes as hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func generalName(_ host: String) throws -> GeneralName {
        if let bytes = IPAddressBytes.parse(host) {
            return .ipAddress(ASN1OctetString(contentBytes: bytes[...]))
        }
        return .dnsName(host)
    }
}

/// IPv4 and IPv6 text to network-order bytes (inet_pton).
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
