public import FMAJSON
public import Foundation

/// A coordination.k8s.io/v1 Lease: who holds a lock and until when. Controllers run with
/// several replicas elect their leader with one.
public struct Lease: KubeObject {
    public static var resourceKind: ResourceKind { .lease }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: LeaseSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }
}

/// The `spec` of a Lease. Times are `metav1.MicroTime` (RFC 3339 with microseconds).
public struct LeaseSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// The identity of the holder; empty or absent when nobody holds the lease.
    public var holderIdentity: String? {
        get { json.string("holderIdentity") }
        set { json.setString("holderIdentity", newValue) }
    }

    /// How long a holder keeps the lease after its last renewal.
    public var leaseDurationSeconds: Int64? {
        get { json.int("leaseDurationSeconds") }
        set { json.setInt("leaseDurationSeconds", newValue) }
    }

    public var acquireTime: String? {
        get { json.string("acquireTime") }
        set { json.setString("acquireTime", newValue) }
    }

    public var renewTime: String? {
        get { json.string("renewTime") }
        set { json.setString("renewTime", newValue) }
    }

    /// How many times the lease changed hands.
    public var leaseTransitions: Int64? {
        get { json.int("leaseTransitions") }
        set { json.setInt("leaseTransitions", newValue) }
    }
}

/// Kubernetes' `metav1.MicroTime` as text: RFC 3339 in UTC with six fractional digits.
public enum KubeMicroTime {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            .replacing(/\.(\d{3})Z$/) { ".\($0.1)000Z" }
    }

    /// The time `text` names (with or without fractional seconds); nil when it is not RFC 3339.
    public static func date(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        // Six fractional digits are more than the format style reads: drop the last three.
        if let match = text.wholeMatch(of: /(.*\.\d{3})\d{3}Z/),
           let date = try? Date(String(match.1) + "Z", strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return KubeTime.date(text)
    }
}
