import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// `resource.Quantity` semantics, from the Kubernetes documentation's examples kept as data
/// (`Tests/data/quantities.json`).
@Suite("Quantity")
struct QuantityTests {
    private func examples() throws -> JSONValue {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/data/quantities.json"))
        return try JSONValue(parsing: Array(data))
    }

    @Test("spellings the documentation calls equal compare equal")
    func equalSpellings() throws {
        let groups = try #require(try examples()["equal"]?.array)
        #expect(groups.count >= 10)
        for group in groups {
            let texts = (group["quantities"]?.array ?? []).compactMap { $0.string }
            try #require(!texts.isEmpty)
            let first = try Quantity(texts[0])
            for text in texts.dropFirst() {
                #expect(try Quantity(text) == first, "\(text) == \(texts[0]): \(group["why"]?.string ?? "")")
            }
        }
    }

    @Test("ascending lists are strictly ascending")
    func ordering() throws {
        let lists = try #require(try examples()["ascending"]?.array)
        for list in lists {
            let quantities = try (list.array ?? []).compactMap { $0.string }.map { try Quantity($0) }
            for (a, b) in zip(quantities, quantities.dropFirst()) {
                #expect(a < b, "\(a) < \(b)")
                #expect(!(b < a))
            }
        }
    }

    @Test("invalid spellings are errors that quote the text and say why")
    func invalid() throws {
        let texts = (try examples()["invalid"]?.array ?? []).compactMap { $0.string }
        #expect(texts.count >= 10)
        for text in texts {
            #expect(throws: QuantityError.self, "\(text)") { try Quantity(text) }
            #expect(!Quantity.isValid(.string(text)))
        }
        do {
            _ = try Quantity("8GB")
            Issue.record("8GB was accepted")
        } catch {
            #expect(error.description == "quantity \"8GB\" is invalid: unknown suffix \"GB\"; use one of Ki Mi Gi Ti Pi Ei (powers of 1024), n u m k M G T P E (powers of 1000) or an exponent such as e3")
        }
    }

    @Test("JSON numbers are quantities too; other JSON is not")
    func json() throws {
        #expect(try Quantity(json: .int(8)) == Quantity("8"))
        #expect(try Quantity(json: .double(0.5)) == Quantity("500m"))
        #expect(!Quantity.isValid(.bool(true)))
        #expect(!Quantity.isValid(.null))
        #expect(try Quantity("8Gi").value == Decimal(8 * 1024 * 1024 * 1024))
    }
}
