import FMACommand
import FMATestSupport
import Foundation
import Testing

/// The populator's flags: durations in Go's syntax (as FMA's manifests write them), checked.
@Suite struct PopulatorFlagsTests {
    @Test func goDurationsReadAsGoReadsThem() throws {
        let cases: [(String, Duration)] = [
            ("5s", .seconds(5)), ("2m", .seconds(120)), ("7m30s", .seconds(450)), ("1.5h", .seconds(5400)),
            ("300ms", .milliseconds(300)), ("1h2m3s4ms", .milliseconds(3_723_004)), ("0", .zero), ("10us", .microseconds(10)), ("-1s", .seconds(-1)),
        ]
        for (text, duration) in cases {
            #expect(GoDuration(argument: text)?.duration == duration, "\(text)")
        }
        for text in ["", "5", "s", "5 s", "5sec", "1d", "m5", ".s", "--5s"] {
            #expect(GoDuration(argument: text) == nil, "\(text)")
        }
    }

    @Test func theControllerRejectsBadPopulatorFlagsNamingThem() async throws {
        try await withTemporaryDirectory { directory in
            let bad = try await runCommand(binDirectory + "/fma-controller", ["-n", "default", "--stuck-starting-threshold", "0s"], directory: directory)
            #expect(bad.termination.exitCode == 64)
            #expect(bad.stderr.contains("--stuck-starting-threshold 0s is not a duration above zero"))
            let unreadable = try await runCommand(binDirectory + "/fma-controller", ["-n", "default", "--expectation-timeout", "5 seconds"], directory: directory)
            #expect(unreadable.termination.exitCode == 64)
            #expect(unreadable.stderr.contains("--expectation-timeout"))
            let budget = try await runCommand(binDirectory + "/fma-controller", ["-n", "default", "--sleeper-memory-budget", "12Qi"], directory: directory)
            #expect(budget.termination.exitCode == 64)
            #expect(budget.stderr.contains(#"--sleeper-memory-budget 12Qi: quantity "12Qi" is invalid: unknown suffix "Qi""#), "\(budget.stderr)")
            let limit = try await runCommand(binDirectory + "/fma-controller", ["-n", "default", "--sleeper-limit", "-1"], directory: directory)
            #expect(limit.termination.exitCode == 64)
            let help = try await runCommand(binDirectory + "/fma-controller", ["--help"], directory: directory)
            for flag in ["--populator", "--dual-pods", "--expectation-timeout", "--stuck-scheduling-threshold", "--stuck-starting-threshold",
                         "--sleeper-limit", "--sleeper-memory-budget", "--debug-accelerator-memory"] {
                #expect(help.stdout.contains(flag), "\(flag)")
            }
        }
    }
}
