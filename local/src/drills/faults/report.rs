//! What the drill measured: figures grouped by scenario, each reported only or required to
//! hold, and the problems behind any that failed. Shown as a markdown table (or JSON).

use super::{Options, Size};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// At most this many problems are kept: enough to see what went wrong.
const MAX_PROBLEMS: usize = 60;

/// A measured value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Value {
    Count(u64),
    Percent(f64),
    Seconds(f64),
}

impl Value {
    pub fn count(n: usize) -> Self {
        Value::Count(n as u64)
    }

    /// `part` of `whole` in percent (100 % of nothing).
    pub fn share(part: usize, whole: usize) -> Self {
        if whole == 0 {
            return Value::Percent(100.0);
        }
        Value::Percent(part as f64 * 100.0 / whole as f64)
    }

    /// The number, whatever its unit.
    pub fn number(self) -> f64 {
        match self {
            Value::Count(n) => n as f64,
            Value::Percent(p) | Value::Seconds(p) => p,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Percent(p) if (p - p.round()).abs() < 0.05 => write!(f, "{p:.0} %"),
            Value::Percent(p) => write!(f, "{p:.1} %"),
            Value::Seconds(s) => write!(f, "{s:.1} s"),
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub scenario: &'static str,
    pub name: String,
    pub value: Value,
    /// What it must be, as shown (`0`, `≥ 100`); `None` when it is reported only.
    pub required: Option<String>,
    /// Whether it is what it must be (true when nothing is required).
    pub held: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub size: Size,
    pub seed: u64,
    pub store: String,
    pub lever_failure_rate: f64,
    pub ambiguous_writes: f64,
    pub lever_latency_ms: u64,
    /// How long the whole drill took, set-up included.
    pub seconds: f64,
    pub figures: Vec<Figure>,
    /// What lies behind failed figures, one line each (the first few).
    pub problems: Vec<String>,
    #[serde(skip)]
    json: bool,
}

impl Report {
    pub fn new(options: &Options, store: String) -> Self {
        Report {
            size: options.size,
            seed: options.seed,
            store,
            lever_failure_rate: options.lever_failure_rate,
            ambiguous_writes: options.ambiguous_writes,
            lever_latency_ms: options.lever_latency_ms,
            seconds: 0.0,
            figures: Vec::new(),
            problems: Vec::new(),
            json: options.json,
        }
    }

    /// A figure reported, not required.
    pub fn info(&mut self, scenario: &'static str, name: impl Into<String>, value: Value) {
        self.figures.push(Figure {
            scenario,
            name: name.into(),
            value,
            required: None,
            held: true,
        });
    }

    /// A figure that must be what `required` says; `held` says whether it is.
    pub fn require(
        &mut self,
        scenario: &'static str,
        name: impl Into<String>,
        value: Value,
        required: impl Into<String>,
        held: bool,
    ) {
        self.figures.push(Figure {
            scenario,
            name: name.into(),
            value,
            required: Some(required.into()),
            held,
        });
    }

    /// A count that must be 0.
    pub fn zero(&mut self, scenario: &'static str, name: impl Into<String>, count: usize) {
        self.require(scenario, name, Value::count(count), "0", count == 0);
    }

    /// A count that must equal `expected` (named `what` in the table).
    pub fn equal(
        &mut self,
        scenario: &'static str,
        name: impl Into<String>,
        count: usize,
        expected: usize,
        what: &str,
    ) {
        let required = format!("= {what} ({expected})");
        self.require(
            scenario,
            name,
            Value::count(count),
            required,
            count == expected,
        );
    }

    /// A count that must be at least `least`.
    pub fn at_least(
        &mut self,
        scenario: &'static str,
        name: impl Into<String>,
        count: usize,
        least: usize,
    ) {
        self.require(
            scenario,
            name,
            Value::count(count),
            format!("≥ {least}"),
            count >= least,
        );
    }

    /// Why a figure failed, in a sentence.
    pub fn problem(&mut self, text: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text.into());
        }
    }

    pub fn finish(&mut self, elapsed: Duration) {
        self.seconds = elapsed.as_secs_f64();
    }

    /// Every required figure holds.
    pub fn passed(&self) -> bool {
        self.figures.iter().all(|figure| figure.held)
    }

    pub fn failed(&self) -> Vec<&Figure> {
        self.figures.iter().filter(|figure| !figure.held).collect()
    }

    pub fn figure(&self, scenario: &str, name: &str) -> Option<&Figure> {
        self.figures
            .iter()
            .find(|figure| figure.scenario == scenario && figure.name == name)
    }

    /// The value of a figure as a number, if the report has it.
    pub fn number(&self, scenario: &str, name: &str) -> Option<f64> {
        self.figure(scenario, name)
            .map(|figure| figure.value.number())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.json {
            let json = serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?;
            return f.write_str(&json);
        }
        let size = match self.size {
            Size::Small => "small",
            Size::Full => "full",
        };
        writeln!(
            f,
            "Fault-injection drill: size {size}, seed {}, store {}; Lever answers in {} ms and \
             fails {} of API calls, {} of note and tag writes lose their answer; {:.1} s",
            self.seed,
            self.store,
            self.lever_latency_ms,
            Value::Percent(self.lever_failure_rate * 100.0),
            Value::Percent(self.ambiguous_writes * 100.0),
            self.seconds
        )?;
        writeln!(f)?;
        writeln!(f, "| scenario | figure | value | required |")?;
        writeln!(f, "|---|---|---:|---|")?;
        for figure in &self.figures {
            let required = match (&figure.required, figure.held) {
                (None, _) => String::new(),
                (Some(required), true) => required.clone(),
                (Some(required), false) => format!("{required} — **FAILED**"),
            };
            writeln!(
                f,
                "| {} | {} | {} | {required} |",
                figure.scenario, figure.name, figure.value
            )?;
        }
        writeln!(f)?;
        let failed = self.failed();
        if failed.is_empty() {
            write!(f, "PASS: every required figure holds")?;
        } else {
            write!(f, "FAIL: {} required figure(s) do not hold", failed.len())?;
        }
        if !self.problems.is_empty() {
            writeln!(f)?;
            writeln!(f)?;
            write!(f, "Problems:")?;
            for problem in &self.problems {
                write!(f, "\n- {problem}")?;
            }
        }
        Ok(())
    }
}
