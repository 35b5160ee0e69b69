//! What the kernel says about the function process, from `/proc/<pid>`:
//!
//! - CPU time, user + system, of every thread the process has or had (`/proc/<pid>/stat`
//!   fields 14 and 15, in clock ticks, usually 10 ms). Differences over many events are
//!   exact to a tick or two in total, so the per-event figure is good to `2 ticks / events`.
//! - Peak resident set size (`VmHWM` in `/proc/<pid>/status`): the most memory the process
//!   ever had resident, which is what a Lambda memory setting must hold.
//!
//! Linux only, like Lambda.

use std::io;

/// Bytes in the `_mb` figures (MiB, as Lambda counts memory).
pub const BYTES_PER_MB: f64 = 1024.0 * 1024.0;

/// Clock ticks per second, the unit of `/proc/<pid>/stat`'s CPU times.
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system and has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// User + system CPU time the process `pid` has used so far, in milliseconds.
pub fn cpu_ms(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    cpu_ticks_from_stat(&stat)
        .map(|ticks| ticks as f64 * 1000.0 / ticks_per_second())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc/<pid>/stat"))
}

/// `utime + stime` from a `/proc/<pid>/stat` line. The command name (field 2) is in
/// parentheses and may itself contain spaces and parentheses, so fields are counted from
/// the last `)`: field 3 (state) is the first after it, utime (14) the 12th, stime (15) the 13th.
fn cpu_ticks_from_stat(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The process's peak resident set size (`VmHWM`), in MiB.
pub fn peak_rss_mb(pid: u32) -> io::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status_kib(&status, "VmHWM:")
        .map(|kib| kib as f64 * 1024.0 / BYTES_PER_MB)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmHWM in /proc/<pid>/status"))
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The machine, for the report: logical CPUs and the CPU model.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cpus} CPUs ({model}), Linux {kernel}, {}",
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 37 5 0 0 20 0 3 0";
        assert_eq!(cpu_ticks_from_stat(stat), Some(42));
    }

    #[test]
    fn peak_rss_is_read_from_vmhwm() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  20000 kB\nVmHWM:\t    7168 kB\nVmRSS:\t 7000 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(7168));
    }

    #[test]
    fn this_process_can_be_measured() {
        let pid = std::process::id();
        assert!(cpu_ms(pid).unwrap() >= 0.0);
        assert!(peak_rss_mb(pid).unwrap() > 0.0);
    }
}
