import ArgumentParser
import FMAHTTPClient
import Foundation

/// One scrape of a Prometheus text endpoint: samples by name and labels.
struct ControllerScrape {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// A histogram's cumulative bucket counts (upper bound → count), summed over its series.
    struct Histogram {
        var buckets: [Double: Double] = [:]

        func subtracting(_ other: Histogram) -> Histogram {
            Histogram(buckets: buckets.merging(other.buckets.mapValues { -$0 }, uniquingKeysWith: +))
        }

        /// The q-quantile, interpolated linearly inside its bucket as PromQL's
        /// histogram_quantile does (the first bucket starts at 0); 0 when empty.
        func quantile(_ q: Double) -> Double {
            let sorted = buckets.sorted { $0.key < $1.key }
            guard let total = sorted.last?.value, total > 0 else { return 0 }
            let rank = q * total
            var lowerBound = 0.0
            var lowerCount = 0.0
            for (bound, count) in sorted {
                if count >= rank {
                    guard bound.isFinite else { return lowerBound }
                    let inBucket = count - lowerCount
                    return inBucket > 0 ? lowerBound + (bound - lowerBound) * (rank - lowerCount) / inBucket : bound
                }
                lowerBound = bound
                lowerCount = count
            }
            return lowerBound
        }
    }

    var samples: [Sample]
    /// The scrape as served.
    var text: String

    static func fetch(_ url: String) async throws -> ControllerScrape {
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.send(HTTPClientRequest(.get, url, timeout: .seconds(30)))
        guard response.isSuccess else { throw ValidationError("GET \(url) answered \(response.status)") }
        return ControllerScrape(text: response.bodyText)
    }

    init(text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap(Self.parse)
    }

    /// The sum of `name`'s samples whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.map(\.value).reduce(0, +)
    }

    func histogram(_ name: String) -> Histogram {
        var histogram = Histogram()
        for sample in samples where sample.name == name + "_bucket" {
            guard let le = sample.labels["le"], let bound = le == "+Inf" ? .infinity : Double(le) else { continue }
            histogram.buckets[bound, default: 0] += sample.value
        }
        return histogram
    }

    /// `name{a="x",b="y"} value` or `name value`; comments and malformed lines are nil.
    static func parse(_ line: Substring) -> Sample? {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else { return Sample(name: String(head), labels: [:], value: value) }
        var labels: [String: String] = [:]
        for pair in head[head.index(after: brace)...].dropLast().split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            labels[String(parts[0])] = String(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        return Sample(name: String(head[..<brace]), labels: labels, value: value)
    }
}
