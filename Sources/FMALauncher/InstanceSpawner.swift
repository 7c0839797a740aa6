import CFMAProcess
import FMAAPI
import FMARPC
import FMAWire
import Foundation

/// What an instance's process is started with.
struct SpawnRequest: Sendable {
    var id: String
    var options: [String]
    var env: [String: String]
    var logPath: String
    /// The cgroup the process moves itself into first (fork mode), or nil.
    var cgroup: String? = nil
}

/// Starts instance processes: forked from the zygote, or cold with posix_spawn.
struct InstanceSpawner: Sendable {
    let configuration: LauncherConfiguration
    let zygote: Zygote?
    let reaper: ProcessReaper

    /// Starts the process; returns its pid. The process is a session and group leader.
    func spawn(_ request: SpawnRequest) async throws(RPCError) -> Int32 {
        switch configuration.spawnMode {
        case .fork:
            guard let zygote else { throw RPCError(.internal, "fork mode without a zygote") }
            var fork = Fma_V1_ZygoteFork()
            fork.instanceID = request.id
            fork.entrypoint = configuration.entrypoint
            fork.argv = [configuration.entrypoint] + configuration.entrypointArguments + request.options
            fork.env = request.env
            fork.logPath = request.logPath
            fork.cgroup = request.cgroup ?? ""
            do {
                return try await zygote.fork(fork)
            } catch let error as RPCError {
                throw error
            } catch {
                throw RPCError(.internal, "fork of instance \(request.id) failed: \(error)", cause: error)
            }
        case .exec:
            return try exec(request)
        }
    }

    private func exec(_ request: SpawnRequest) throws(RPCError) -> Int32 {
        let command = configuration.execCommand
            ?? [configuration.python, "-m", configuration.entrypoint]
        let argv = command + configuration.entrypointArguments + request.options
        var environment = ProcessInfo.processInfo.environment
        if configuration.execCommand == nil, !configuration.pythonPath.isEmpty {
            environment["PYTHONPATH"] = (configuration.pythonPath + [environment["PYTHONPATH"]].compactMap { $0 }).joined(separator: ":")
        }
        for (key, value) in request.env { environment[key] = value }
        let executable = SpawnSupport.resolve(argv[0])
        var pid: pid_t = 0
        let result = SpawnSupport.withCStrings(argv) { argvPointer in
            SpawnSupport.withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envPointer in
                fma_spawn(executable, argvPointer, envPointer, request.logPath, 1, -1, -1, &pid)
            }
        }
        guard result == 0 else {
            throw RPCError(.internal, "cannot start instance \(request.id) (\(executable)): \(String(cString: strerror(result)))")
        }
        reaper.childSpawned()
        return pid
    }
}
