import FMAHTTPClient
import FMAJSON
import Foundation

/// The controller's calls to an instance's own server (vLLM's admin and OpenAI API).
struct InstanceHTTP: Sendable {
    let http: HTTPClient

    /// `GET /is_sleeping`: whether the server answers, and whether it sleeps.
    func isSleeping(ip: String, port: Int) async throws(ControllerError) -> Bool {
        let url = Endpoints.httpBase(ip: ip, port: port) + "/is_sleeping"
        let response: HTTPClientResponse
        do {
            response = try await http.send(HTTPClientRequest(.get, url, headers: ["Accept": "application/json"], timeout: .seconds(5), connectTimeout: .seconds(2)))
        } catch {
            throw ControllerError("GET \(url) fails: \(error.message)")
        }
        guard response.isSuccess, let sleeping = (try? JSONValue(parsing: response.body))?["is_sleeping"]?.bool else {
            throw ControllerError("GET \(url) answered \(response.status): \(response.bodyText.prefix(200))")
        }
        return sleeping
    }

    /// `POST /wake_up` (direct providers; a launcher's instances are woken through the launcher).
    func wake(ip: String, port: Int) async throws(ControllerError) {
        try await post("/wake_up", ip: ip, port: port, timeout: .seconds(120))
    }

    /// `POST /sleep`, without a level (vLLM's default, level 1), as FMA sends it.
    func sleep(ip: String, port: Int) async throws(ControllerError) {
        try await post("/sleep", ip: ip, port: port, timeout: .seconds(120))
    }

    private func post(_ path: String, ip: String, port: Int, timeout: Duration) async throws(ControllerError) {
        let url = Endpoints.httpBase(ip: ip, port: port) + path
        let response: HTTPClientResponse
        do {
            response = try await http.send(HTTPClientRequest(.post, url, timeout: timeout, connectTimeout: .seconds(2)))
        } catch {
            throw ControllerError("POST \(url) fails: \(error.message)")
        }
        guard response.isSuccess else {
            throw ControllerError("POST \(url) answered \(response.status): \(response.bodyText.prefix(200))")
        }
    }

    /// One 1-token completion: proves the server serves (and warms it after a wake).
    func verifyCompletion(ip: String, port: Int, model: String?) async throws(ControllerError) {
        let url = Endpoints.httpBase(ip: ip, port: port) + "/v1/completions"
        var body: JSONObject = ["prompt": "Hello", "max_tokens": 1, "temperature": 0]
        if let model { body["model"] = .string(model) }
        let response: HTTPClientResponse
        do {
            response = try await http.send(HTTPClientRequest(.post, url, headers: ["Content-Type": "application/json"],
                                                              body: JSONValue.object(body).serialized(), timeout: .seconds(60)))
        } catch {
            throw ControllerError("POST \(url) fails: \(error.message)")
        }
        guard response.isSuccess else {
            throw ControllerError("POST \(url) answered \(response.status): \(response.bodyText.prefix(300))")
        }
        guard let choices = (try? JSONValue(parsing: response.body))?["choices"]?.array, !choices.isEmpty else {
            throw ControllerError("POST \(url) answered without choices: \(response.bodyText.prefix(300))")
        }
    }

    /// The model name the server answers to: `--served-model-name`, else `--model`, else the
    /// first positional argument (`vllm serve MODEL`); nil when none is given.
    static func modelName(options: String) -> String? {
        let words = options.split(whereSeparator: \.isWhitespace).map(String.init)
        for flag in ["--served-model-name", "--model"] {
            if let index = words.firstIndex(of: flag), index + 1 < words.count { return words[index + 1] }
            if let word = words.first(where: { $0.hasPrefix(flag + "=") }) { return String(word.dropFirst(flag.count + 1)) }
        }
        return words.first.flatMap { $0.hasPrefix("-") ? nil : $0 }
    }
}
