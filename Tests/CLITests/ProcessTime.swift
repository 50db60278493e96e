import Foundation

// Work measured as CPU time, not wall time: on a loaded machine (two cores shared by
// several builds) a process waits for a core, and wall times stretch by any factor,
// while the CPU time its work takes stays about the same. So a test that claims "Ctrl-C
// stops this midway" checks how much CPU time tx spent between the Ctrl-C and its
// report, against the CPU time the rest of the work would have taken; and it presses
// Ctrl-C once tx has spent some CPU time on the statement, not after a fixed sleep.

/// The CPU time (user and system, all threads) that process `pid` has used so far, in
/// seconds (to the clock tick, 10 ms); nil once it is gone.
func cpuSeconds(of pid: pid_t) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
    // The fields after the command name in parentheses: state is the first, utime the
    // 12th and stime the 13th (fields 14 and 15 of proc(5)).
    guard let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 12,
          let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Waits until process `pid` has used `seconds` of CPU time more than `base` (or has
/// ended, or `wallLimit` seconds have passed: then the work is waiting for something).
func waitForCPU(of pid: pid_t, seconds: Double, from base: Double, wallLimit: Double = 60) {
    let deadline = Date().addingTimeInterval(wallLimit)
    while Date() < deadline, let used = cpuSeconds(of: pid), used - base < seconds { usleep(10_000) }
}

/// The CPU time that the threads process `pid` has now have used, in seconds, to the
/// nanosecond (/proc's schedstat; cpuSeconds counts 10 ms ticks, but also the threads
/// that have ended): for short, single-threaded work such as reading input.
func preciseCPUSeconds(of pid: pid_t) -> Double? {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
    var total: Double? = nil
    for task in tasks {
        guard let line = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
              let first = line.split(separator: " ").first, let nanoseconds = Double(first) else { continue }
        total = (total ?? 0) + nanoseconds / 1e9
    }
    return total
}

/// Whether process `pid` has exited and waits to be reaped (a zombie, whose CPU times
/// /proc still gives, all threads counted).
func hasExited(_ pid: pid_t) -> Bool {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
}
