import FMARPC
import Foundation

/// Re-adoption: what a restarted launcher takes over from the journal and from the processes
/// its predecessor left.
extension InstanceManager {
    /// Takes over the instances a previous launcher left running; reports the ones that died.
    /// Returns the pids to watch for exit.
    func recover(exitRecords: ExitRecords) -> [Int32] {
        let contents: Journal.Contents?
        do {
            contents = try journal.load()
        } catch {
            logger.error("cannot read the journal; starting empty", metadata: ["path": "\(configuration.journalPath)", "error": "\(error)"])
            return []
        }
        guard let contents else { return [] }
        revision = contents.revision
        var adopted: [Int32] = []
        var starting: [String: InstanceRecord] = [:]
        for var record in contents.instances {
            switch record.phase {
            case .starting:
                starting[record.spec.id] = record
            case .stopped:
                instances[record.spec.id] = record
            case .running, .stopping:
                if record.pid > 0, ProcessStartTime.isRunning(record.pid),
                   ProcessStartTime.ticks(of: record.pid) == record.startTicks {
                    record.phase = .running
                    record.adopted = true
                    instances[record.spec.id] = record
                    idsByPID[record.pid] = record.spec.id
                    adopted.append(record.pid)
                    logger.info("adopted running instance", metadata: ["instance": "\(record.spec.id)", "pid": "\(record.pid)"])
                } else {
                    let exit = exitRecords.take(pid: record.pid) ?? .unknown
                    record.phase = .stopped(exit)
                    instances[record.spec.id] = record
                    publish(fact: .stopped, record)
                    logger.warning("instance ended while the launcher was down", metadata: ["instance": "\(record.spec.id)", "pid": "\(record.pid)", "exit": "\(exit.summary)"])
                }
            }
        }
        adopted += settleUnrecordedProcesses(starting: starting)
        settleCgroups()
        try? saveJournal()
        // Readiness is not journaled: every adopted instance is probed afresh.
        for id in instances.keys { startReadinessProbe(id) }
        return adopted
    }

    /// A second look, a moment after the start: a process forked just before the previous
    /// launcher died may have put its standard output on its log only after the first scan.
    func sweepUnrecordedProcesses() {
        _ = settleUnrecordedProcesses(starting: [:])
        logger.debug("second look for processes no journal record describes done")
    }

    /// After the journal: every process a previous launcher started (`InstanceProcessScan`) is
    /// either part of an instance the journal describes, or the instance of a create that was
    /// journaled as starting but never answered (adopted now), or unknown — stopped (SIGTERM
    /// to its process group, SIGKILL after the grace period), so none holds a port or a GPU
    /// unseen. Returns the pids adopted.
    private func settleUnrecordedProcesses(starting: [String: InstanceRecord]) -> [Int32] {
        var adopted: [Int32] = []
        var stopping: Set<Int32> = []
        for process in InstanceProcessScan.scan(logDirectory: configuration.logDirectory) {
            // A live instance's: its own session, or a process it started since (a daemon in a
            // session of its own; it goes with the instance, `stopLeftovers`). One older than the
            // instance was left by an earlier instance of the same id.
            if let record = instances[process.id], record.isLive,
               record.pid == process.session || process.startTicks >= record.startTicks { continue }
            // A create of this launcher's, forked and not yet answered.
            if let record = instances[process.id], case .starting = record.phase { continue }
            if var record = starting[process.id], instances[process.id] == nil, process.isSessionLeader {
                record.pid = process.pid
                record.startTicks = process.startTicks
                record.phase = .running
                record.adopted = true
                idsByPID[process.pid] = process.id
                publish(fact: .created, record)
                adopted.append(process.pid)
                logger.info("adopted an instance whose create was never answered", metadata: ["instance": "\(process.id)", "pid": "\(process.pid)"])
                continue
            }
            guard stopping.insert(process.processGroup).inserted else { continue }
            logger.warning("stopping a process no journal record describes", metadata: [
                "instance_log": "\(process.id)", "pid": "\(process.pid)", "process_group": "\(process.processGroup)",
            ])
            let group = process.processGroup
            // The group's leader as it is now: a later process reusing its pid is left alone.
            let leaderTicks = ProcessStartTime.ticks(of: group)
            kill(-group, SIGTERM)
            let grace = configuration.defaultGracePeriod
            Task {
                try? await Task.sleep(for: grace)
                guard ProcessStartTime.ticks(of: group) == nil || ProcessStartTime.ticks(of: group) == leaderTicks else { return }
                kill(-group, SIGKILL)
            }
        }
        return adopted
    }

    /// Kills the processes an instance left behind when its own process ended: those that
    /// moved to sessions of their own (a daemon's setsid and double fork) and were reparented
    /// to the launcher, its subreaper. They are found in the instance's cgroup (`InstanceCgroups`,
    /// where there is one) and, as every instance process is, by their standard output or error
    /// on the instance's log (`InstanceProcessScan`).
    func stopLeftovers(of id: String) {
        if let cgroups, cgroups.kill(id) > 0 {
            logger.warning("stopped the processes left in the instance's cgroup", metadata: ["instance": "\(id)"])
        }
        for process in InstanceProcessScan.scan(logDirectory: configuration.logDirectory) where process.id == id {
            // The process as scanned, not a later one that reused its pid.
            guard ProcessStartTime.ticks(of: process.pid) == process.startTicks else { continue }
            logger.warning("stopping a process the instance left behind", metadata: [
                "instance": "\(id)", "pid": "\(process.pid)", "session": "\(process.session)",
            ])
            kill(process.pid, SIGKILL)
        }
    }

    /// The cgroups a previous launcher left: those of instances no longer live are emptied
    /// (their processes stopped, daemons included) and removed.
    func settleCgroups() {
        guard let cgroups else { return }
        for id in cgroups.ids() where instances[id]?.isLive != true {
            if cgroups.kill(id) > 0 {
                logger.warning("stopped processes left in the cgroup of an instance no journal record runs", metadata: ["instance": "\(id)"])
            }
            cgroups.remove(id)
        }
    }

    /// At shutdown: the cgroups of instances that are gone are removed (those of running
    /// instances stay, for the next launcher), and the launcher's own when none is left.
    func releaseCgroups() {
        guard let cgroups else { return }
        for id in cgroups.ids() where instances[id]?.isLive != true { cgroups.remove(id) }
        cgroups.removeRootIfEmpty()
    }
}
