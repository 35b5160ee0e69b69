//! The printed report: one Markdown table row per function (medians over the runs), then
//! each Rust function against the Python baseline as ratios, the worker's per-message
//! figures, and each Rust function against the performance targets, met or not.

use crate::process::BYTES_PER_MB;
use crate::run::{Measurement, Workload, RSS_MARK};

/// Largest stripped binary: "6 MB" read as 6,000,000 bytes, the stricter reading (the deploy
/// script allows 6 MiB).
pub const BINARY_LIMIT_BYTES: f64 = 6_000_000.0;
/// Longest init (exec → first `next`, Lambda's *Init Duration*).
pub const INIT_LIMIT_MS: f64 = 8.0;
/// Least factor by which a function's init beats the Python baseline's.
pub const INIT_FACTOR: f64 = 40.0;
/// Most the peak RSS may grow from event [`RSS_MARK`] to event [`RSS_GROWTH_EVENTS`]:
/// "0.5 MB" read as 500,000 bytes.
pub const RSS_GROWTH_LIMIT_BYTES: f64 = 500_000.0;
/// The run the memory target is about: this many events in one execution environment.
pub const RSS_GROWTH_EVENTS: usize = 30_000;

/// How the figures were taken, for the header.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub events: usize,
    pub runs: usize,
    pub machine: &'a str,
    /// Whether the functions reached the AWS services over TLS (the proxy) or plain HTTP.
    pub tls: bool,
    /// The architecture the binaries were built for (`std::env::consts::ARCH`'s names): the
    /// size target is arm64's, Lambda's architecture here, so another one's size only
    /// informs.
    pub arch: &'a str,
}

/// A function's medians over its runs, and its package sizes.
#[derive(Debug, Clone)]
pub struct Summary {
    pub label: String,
    pub workload: Workload,
    pub median: Measurement,
    /// The stripped executable (`None` for the Python handler, which has none).
    pub binary_mb: Option<f64>,
    /// The deployment zip: the binary as `bootstrap`, or the handler's source.
    pub zip_mb: Option<f64>,
    pub is_baseline: bool,
}

/// The median of each figure over `runs` (not empty).
pub fn medians(runs: &[Measurement]) -> Measurement {
    let median = |field: fn(&Measurement) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(field).collect();
        values.sort_by(f64::total_cmp);
        let n = values.len();
        if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        }
    };
    Measurement {
        init_ms: median(|m| m.init_ms),
        first_response_ms: median(|m| m.first_response_ms),
        warm_p50_ms: median(|m| m.warm_p50_ms),
        warm_p99_ms: median(|m| m.warm_p99_ms),
        cpu_ms_per_event: median(|m| m.cpu_ms_per_event),
        peak_rss_mb: median(|m| m.peak_rss_mb),
        rss_growth_mb: median(|m| m.rss_growth_mb),
        events_per_s: median(|m| m.events_per_s),
    }
}

/// A figure with a precision that suits its size.
fn figure(value: f64) -> String {
    if !value.is_finite() {
        "—".to_owned()
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn optional(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".to_owned(),
        |v| {
            if v < 0.1 {
                format!("{:.1} kB", v * 1024.0)
            } else {
                figure(v)
            }
        },
    )
}

/// `baseline / value` as "N× better" (or "N× worse" when it is below 1).
fn ratio(name: &str, baseline: f64, value: f64, better: &str, worse: &str) -> String {
    match factor(baseline, value) {
        None => format!("{name} —"),
        Some(factor) if factor >= 1.0 => format!("{name} {}× {better}", figure(factor)),
        Some(factor) => format!("{name} {}× {worse}", figure(1.0 / factor)),
    }
}

/// `baseline / value`, when both are figures (not NaN, not zero).
fn factor(baseline: f64, value: f64) -> Option<f64> {
    let factor = baseline / value;
    (factor.is_finite() && factor > 0.0).then_some(factor)
}

/// The whole report, as printed.
pub fn render(summaries: &[Summary], setup: &Setup<'_>) -> String {
    let Setup {
        events,
        runs,
        machine,
        tls,
        arch: _,
    } = *setup;
    let mut out = String::new();
    out.push_str(&format!(
        "lever-screening bench: {events} events per run, {runs} run(s) per function, medians; {machine}\n"
    ));
    out.push_str(if tls {
        "AWS calls over TLS, as in Lambda: HTTPS to a local TLS-terminating proxy (rustls) in front of \
         DynamoDB Local and moto, so each first response includes its connections' handshakes\n\n"
    } else {
        "AWS calls over plain HTTP to DynamoDB Local and moto (--plain-http): no TLS handshake is paid, \
         unlike in Lambda\n\n"
    });
    out.push_str(&format!(
        "| function | init ms | first response ms | warm p50 ms | warm p99 ms | CPU ms/event | peak RSS MB | RSS growth after {} events MB | binary MB | zip MB |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
        thousands(RSS_MARK)
    ));
    for s in summaries {
        let m = &s.median;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.label,
            figure(m.init_ms),
            figure(m.first_response_ms),
            figure(m.warm_p50_ms),
            figure(m.warm_p99_ms),
            figure(m.cpu_ms_per_event),
            figure(m.peak_rss_mb),
            growth(m.rss_growth_mb),
            optional(s.binary_mb),
            optional(s.zip_mb),
        ));
    }
    let baseline = summaries.iter().find(|s| s.is_baseline);
    let compared = summaries.iter().any(|s| !s.is_baseline);
    if let Some(baseline) = baseline.filter(|_| compared) {
        let b = &baseline.median;
        out.push_str(&format!("\nAgainst the baseline ({}):\n", baseline.label));
        for s in summaries.iter().filter(|s| !s.is_baseline) {
            let m = &s.median;
            let mut ratios = vec![ratio("init", b.init_ms, m.init_ms, "faster", "slower")];
            if s.workload != Workload::Idle {
                ratios.push(ratio(
                    "peak RSS",
                    b.peak_rss_mb,
                    m.peak_rss_mb,
                    "smaller",
                    "larger",
                ));
            }
            if s.workload == baseline.workload {
                ratios.splice(
                    1..1,
                    [
                        ratio(
                            "first response",
                            b.first_response_ms,
                            m.first_response_ms,
                            "faster",
                            "slower",
                        ),
                        ratio("warm p50", b.warm_p50_ms, m.warm_p50_ms, "faster", "slower"),
                        ratio("warm p99", b.warm_p99_ms, m.warm_p99_ms, "faster", "slower"),
                        ratio(
                            "CPU/event",
                            b.cpu_ms_per_event,
                            m.cpu_ms_per_event,
                            "less",
                            "more",
                        ),
                    ],
                );
            }
            let note = match s.workload {
                w if w == baseline.workload => "",
                Workload::Idle => " (started only: its RSS is at init, not compared)",
                _ => " (per-event figures: another handler's events, not compared)",
            };
            out.push_str(&format!("- {}: {}{note}\n", s.label, ratios.join(", ")));
        }
    }
    for s in summaries {
        if let Workload::WorkerBatch { messages } = s.workload {
            let m = &s.median;
            out.push_str(&format!(
                "\n{}: {} ms CPU per message, {} messages/s (batches of {messages}, one tenant, one execution environment)\n",
                s.label,
                figure(m.cpu_ms_per_event / messages as f64),
                figure(m.events_per_s * messages as f64),
            ));
        }
    }
    out.push_str(&targets(summaries, setup));
    out
}

/// An RSS growth in MiB, signed ("+0.12").
fn growth(mb: f64) -> String {
    if mb.is_finite() {
        format!("+{}", figure(mb.max(0.0)))
    } else {
        figure(mb)
    }
}

/// `n` with thousands separated: "30,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The "Targets" section: each Rust function's binary size, init, init against the
/// baseline's and (for those with a workload) RSS growth, each against its target, "met",
/// "NOT met" or "not measured (why)". Its MB are 10^6 bytes.
fn targets(summaries: &[Summary], setup: &Setup<'_>) -> String {
    let events = setup.events;
    let functions: Vec<&Summary> = summaries.iter().filter(|s| !s.is_baseline).collect();
    if functions.is_empty() {
        return String::new();
    }
    let baseline = summaries.iter().find(|s| s.is_baseline);
    let mut out = format!(
        "\nTargets (MB here are 10^6 bytes: \"6 MB\" and \"0.5 MB\" read the stricter way, where the table's MB \
         are MiB; binaries are this machine's {arch} builds, Lambda runs arm64 ones):\n",
        arch = setup.arch
    );
    for s in functions {
        let mut parts = vec![binary_target(s, setup.arch), init_target(s)];
        parts.push(init_factor_target(s, baseline));
        if s.workload != Workload::Idle {
            parts.push(rss_growth_target(s, events));
        }
        out.push_str(&format!("- {}: {}\n", s.label, parts.join("; ")));
    }
    out
}

fn binary_target(s: &Summary, arch: &str) -> String {
    let limit = format!("≤ {} MB on arm64", BINARY_LIMIT_BYTES / 1e6);
    match s.binary_mb.map(|mb| mb * BYTES_PER_MB) {
        Some(bytes) if arch == "aarch64" => format!(
            "binary {} MB (arm64) vs {limit}: {}",
            figure(bytes / 1e6),
            verdict(bytes <= BINARY_LIMIT_BYTES)
        ),
        Some(bytes) => format!(
            "binary {} MB ({arch}) vs {limit}: not measured (an {arch} build; \
             scripts/sizes builds arm64)",
            figure(bytes / 1e6),
        ),
        None => format!("binary vs {limit}: not measured (no executable)"),
    }
}

fn init_target(s: &Summary) -> String {
    let init = s.median.init_ms;
    let limit = format!("≤ {INIT_LIMIT_MS} ms");
    if init.is_finite() {
        format!(
            "init {} ms vs {limit}: {}",
            figure(init),
            verdict(init <= INIT_LIMIT_MS)
        )
    } else {
        format!("init vs {limit}: not measured")
    }
}

fn init_factor_target(s: &Summary, baseline: Option<&Summary>) -> String {
    let limit = format!("≥ {INIT_FACTOR}×");
    let Some(baseline) = baseline else {
        return format!(
            "init against Python's vs {limit} faster: not measured (no Python baseline in this run)"
        );
    };
    match factor(baseline.median.init_ms, s.median.init_ms) {
        Some(factor) => format!(
            "init {}× faster than Python vs {limit}: {}",
            figure(factor),
            verdict(factor >= INIT_FACTOR)
        ),
        None => format!("init against Python's vs {limit} faster: not measured (no init figure)"),
    }
}

/// Peak RSS growth from event [`RSS_MARK`] to the run's last: met only over a run of
/// [`RSS_GROWTH_EVENTS`] events or more; over a shorter run, growth beyond the limit is
/// already "NOT met" (peak RSS only grows), and growth within it is "not measured". For the
/// worker, events are invocations (batches).
fn rss_growth_target(s: &Summary, events: usize) -> String {
    let last = s.workload.invocations(events);
    let (unit, units) = match s.workload.messages_per_event() {
        1 => ("event", "events".to_owned()),
        n => ("invocation", format!("invocations of {n} messages")),
    };
    let mark = thousands(RSS_MARK);
    let target_end = thousands(RSS_GROWTH_EVENTS);
    let limit = format!("≤ {} MB", RSS_GROWTH_LIMIT_BYTES / 1e6);
    let how = "scripts/bench --events 30000 --batch 1 --runs 1";
    let grown = s.median.rss_growth_mb * BYTES_PER_MB;
    if !grown.is_finite() {
        return format!(
            "RSS growth from {unit} {mark} to {target_end} vs {limit}: not measured (runs of {} \
             {units}; it takes more than {mark}: {how})",
            thousands(last)
        );
    }
    let measured = format!(
        "RSS growth from {unit} {mark} to {} {} MB",
        thousands(last),
        growth(grown / 1e6)
    );
    if grown > RSS_GROWTH_LIMIT_BYTES {
        format!("{measured} vs {limit}: NOT met")
    } else if last >= RSS_GROWTH_EVENTS {
        format!("{measured} vs {limit}: met")
    } else {
        format!(
            "{measured} vs {limit} to {unit} {target_end}: not measured (a shorter run, within \
             the limit so far: {how})"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(value: f64) -> Measurement {
        Measurement {
            init_ms: value,
            first_response_ms: value,
            warm_p50_ms: value,
            warm_p99_ms: value,
            cpu_ms_per_event: value,
            peak_rss_mb: value,
            rss_growth_mb: value,
            events_per_s: value,
        }
    }

    const SETUP: Setup<'static> = Setup {
        events: 200,
        runs: 1,
        machine: "test machine",
        tls: true,
        arch: "aarch64",
    };

    /// A Rust function's row: `binary_bytes` big, `init_ms` to start, RSS growing by
    /// `growth_bytes` after event 1,000.
    fn rust(
        label: &str,
        workload: Workload,
        binary_bytes: f64,
        init_ms: f64,
        growth_bytes: f64,
    ) -> Summary {
        Summary {
            label: label.into(),
            workload,
            median: Measurement {
                init_ms,
                rss_growth_mb: growth_bytes / BYTES_PER_MB,
                ..measurement(1.0)
            },
            binary_mb: Some(binary_bytes / BYTES_PER_MB),
            zip_mb: Some(2.0),
            is_baseline: false,
        }
    }

    fn python(init_ms: f64) -> Summary {
        Summary {
            label: "python".into(),
            workload: Workload::StageChange,
            median: measurement(init_ms),
            binary_mb: None,
            zip_mb: Some(0.003),
            is_baseline: true,
        }
    }

    /// The report's line for `label` in its Targets section.
    fn target_line(report: &str, label: &str) -> String {
        let targets = report
            .split_once("\nTargets")
            .unwrap_or_else(|| panic!("no Targets section: {report}"))
            .1;
        let prefix = format!("- {label}: ");
        targets
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no target line for {label}: {report}"))
            .to_owned()
    }

    #[test]
    fn medians_take_the_middle_run() {
        let m = medians(&[measurement(3.0), measurement(1.0), measurement(2.0)]);
        assert_eq!(m.init_ms, 2.0);
        let m = medians(&[measurement(1.0), measurement(2.0)]);
        assert_eq!(m.cpu_ms_per_event, 1.5);
    }

    #[test]
    fn ratios_say_which_way() {
        assert_eq!(
            ratio("init", 300.0, 10.0, "faster", "slower"),
            "init 30.0× faster"
        );
        assert_eq!(
            ratio("init", 10.0, 20.0, "faster", "slower"),
            "init 2.00× slower"
        );
    }

    #[test]
    fn the_table_has_a_row_per_function_and_ratios_against_the_baseline() {
        let summary = |label: &str, value: f64, is_baseline: bool| Summary {
            label: label.into(),
            workload: Workload::StageChange,
            median: measurement(value),
            binary_mb: (!is_baseline).then_some(5.0),
            zip_mb: Some(2.0),
            is_baseline,
        };
        let report = render(
            &[summary("rust", 1.0, false), summary("python", 30.0, true)],
            &SETUP,
        );
        assert!(report.contains("| rust | 1.00 | 1.00 |"), "{report}");
        assert!(
            report.contains("- rust: init 30.0× faster, first response 30.0× faster"),
            "{report}"
        );
    }

    #[test]
    fn a_function_only_started_shows_its_init_and_size_and_no_event_figures() {
        let idle = Summary {
            label: "lever-oauth-callback".into(),
            workload: Workload::Idle,
            median: Measurement {
                init_ms: 8.0,
                peak_rss_mb: 6.5,
                ..Measurement::NONE
            },
            binary_mb: Some(7.0),
            zip_mb: Some(3.0),
            is_baseline: false,
        };
        let python = Summary {
            label: "python".into(),
            workload: Workload::StageChange,
            median: measurement(400.0),
            binary_mb: None,
            zip_mb: Some(0.003),
            is_baseline: true,
        };
        let report = render(&[idle, python], &SETUP);
        assert!(
            report.contains(
                "| lever-oauth-callback | 8.00 | — | — | — | — | 6.50 | — | 7.00 | 3.00 |"
            ),
            "{report}"
        );
        assert!(
            report.contains(
                "- lever-oauth-callback: init 50.0× faster (started only: its RSS is at init, not compared)"
            ),
            "{report}"
        );
    }

    #[test]
    fn rss_growth_is_a_column_with_its_sign() {
        let summary = Summary {
            label: "rust".into(),
            workload: Workload::StageChange,
            median: Measurement {
                rss_growth_mb: 0.125,
                ..measurement(1.0)
            },
            binary_mb: Some(5.0),
            zip_mb: Some(2.0),
            is_baseline: false,
        };
        let report = render(
            &[summary],
            &Setup {
                events: 2_000,
                ..SETUP
            },
        );
        assert!(
            report.contains("| RSS growth after 1,000 events MB |"),
            "{report}"
        );
        assert!(report.contains("| 1.00 | +0.12 | 5.00 |"), "{report}");
    }

    #[test]
    fn the_header_says_how_the_aws_services_were_reached() {
        let report = render(&[python(400.0)], &SETUP);
        assert!(report.contains("AWS calls over TLS"), "{report}");
        let plain = render(
            &[python(400.0)],
            &Setup {
                tls: false,
                ..SETUP
            },
        );
        assert!(plain.contains("AWS calls over plain HTTP"), "{plain}");
    }

    #[test]
    fn targets_met_over_a_run_as_long_as_the_target_says() {
        let stage_change = rust(
            "stage-change",
            Workload::StageChange,
            5_900_000.0,
            4.0,
            120_000.0,
        );
        let report = render(
            &[stage_change, python(400.0)],
            &Setup {
                events: 30_000,
                ..SETUP
            },
        );
        assert!(
            report.contains("| stage-change | 4.00 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 | +0.11 |"),
            "{report}"
        );
        assert_eq!(
            target_line(&report, "stage-change"),
            format!(
                "binary 5.90 MB (arm64) vs ≤ 6 MB on arm64: met; init 4.00 ms vs ≤ 8 ms: met; \
                 init 100× faster than Python vs ≥ 40×: met; \
                 RSS growth from event 1,000 to 30,000 +0.12 MB vs ≤ 0.5 MB: met"
            )
        );
        assert!(!target_line(&report, "stage-change").contains("NOT"));
        assert!(!report.contains("- python:"), "{report}");
    }

    #[test]
    fn a_binary_of_another_architecture_is_not_judged_against_arm64s_budget() {
        let worker = rust(
            "worker",
            Workload::WorkerBatch { messages: 1 },
            7_200_000.0,
            4.0,
            0.0,
        );
        let report = render(
            &[worker, python(400.0)],
            &Setup {
                arch: "x86_64",
                ..SETUP
            },
        );
        let line = target_line(&report, "worker");
        assert!(
            line.starts_with(
                "binary 7.20 MB (x86_64) vs ≤ 6 MB on arm64: not measured (an x86_64 build; \
                 scripts/sizes builds arm64)"
            ),
            "{line}"
        );
        assert!(!line.contains("NOT"), "{line}");
    }

    #[test]
    fn targets_not_met_say_so() {
        // 6 MiB is over "6 MB" read as 6,000,000 bytes; 9 ms is too slow, and 10× too little.
        let worker = rust(
            "worker",
            Workload::WorkerBatch { messages: 1 },
            6.0 * BYTES_PER_MB,
            9.0,
            600_000.0,
        );
        let report = render(
            &[worker, python(90.0)],
            &Setup {
                events: 1_500,
                ..SETUP
            },
        );
        let line = target_line(&report, "worker");
        assert!(line.contains("binary 6.29 MB"), "{line}");
        assert!(line.contains("vs ≤ 6 MB on arm64: NOT met"), "{line}");
        assert!(line.contains("init 9.00 ms vs ≤ 8 ms: NOT met"), "{line}");
        assert!(
            line.contains("init 10.0× faster than Python vs ≥ 40×: NOT met"),
            "{line}"
        );
        // Peak RSS only grows: beyond the limit by event 1,500 is beyond it by 30,000.
        assert!(
            line.contains("RSS growth from event 1,000 to 1,500 +0.60 MB vs ≤ 0.5 MB: NOT met"),
            "{line}"
        );
    }

    #[test]
    fn targets_not_measured_say_why_and_never_met() {
        // No baseline, a run too short for the memory figure, and one shorter than the target.
        let worker = rust(
            "worker",
            Workload::WorkerBatch { messages: 10 },
            5_000_000.0,
            3.0,
            f64::NAN,
        );
        let report = render(&[worker], &SETUP);
        let line = target_line(&report, "worker");
        assert!(
            line.contains("init against Python's vs ≥ 40× faster: not measured (no Python baseline in this run)"),
            "{line}"
        );
        assert!(
            line.contains(
                "RSS growth from invocation 1,000 to 30,000 vs ≤ 0.5 MB: not measured \
                 (runs of 20 invocations of 10 messages; it takes more than 1,000: \
                 scripts/bench --events 30000 --batch 1 --runs 1)"
            ),
            "{line}"
        );

        let stage_change = rust(
            "stage-change",
            Workload::StageChange,
            5_000_000.0,
            3.0,
            10_000.0,
        );
        let report = render(
            &[stage_change],
            &Setup {
                events: 1_500,
                ..SETUP
            },
        );
        let line = target_line(&report, "stage-change");
        assert!(
            line.contains(
                "RSS growth from event 1,000 to 1,500 +0.01 MB vs ≤ 0.5 MB to event 30,000: \
                 not measured (a shorter run, within the limit so far"
            ),
            "{line}"
        );
        let memory = line.rsplit("; ").next().unwrap();
        assert!(!memory.ends_with(": met"), "{line}");
    }

    #[test]
    fn a_function_only_started_has_no_memory_target() {
        let idle = rust("oauth-callback", Workload::Idle, 5_000_000.0, 3.0, f64::NAN);
        let report = render(&[idle, python(400.0)], &SETUP);
        let line = target_line(&report, "oauth-callback");
        assert!(
            line.ends_with("init 133× faster than Python vs ≥ 40×: met"),
            "{line}"
        );
        assert!(!line.contains("RSS"), "{line}");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(30_000), "30,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
