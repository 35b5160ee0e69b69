//! The printed report: one Markdown table row per function (medians over the runs), then
//! each Rust function against the Python baseline as ratios, and the worker's per-message
//! figures.

use crate::run::{Measurement, Workload, RSS_MARK};

/// How the figures were taken, for the header.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub events: usize,
    pub runs: usize,
    pub machine: &'a str,
    /// Whether the functions reached the AWS services over TLS (the proxy) or plain HTTP.
    pub tls: bool,
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
    let factor = baseline / value;
    if !factor.is_finite() || factor <= 0.0 {
        format!("{name} —")
    } else if factor >= 1.0 {
        format!("{name} {}× {better}", figure(factor))
    } else {
        format!("{name} {}× {worse}", figure(1.0 / factor))
    }
}

/// The whole report, as printed.
pub fn render(summaries: &[Summary], setup: &Setup<'_>) -> String {
    let Setup {
        events,
        runs,
        machine,
        tls,
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
    };

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
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(30_000), "30,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
