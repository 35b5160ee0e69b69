//! What a command answers: a heading and a table (or a sentence) for people, JSON for
//! scripts.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use std::io::Write;

/// A table of strings.
pub struct Table(comfy_table::Table);

impl Table {
    pub fn new<const N: usize>(headers: [&str; N]) -> Self {
        let mut table = comfy_table::Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header(headers);
        Table(table)
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.0.add_row(cells);
    }

    fn is_empty(&self) -> bool {
        self.0.row_count() == 0
    }
}

/// A command's answer; a failing one (problems found) is still printed in full, then the
/// command exits 1 with its failure.
pub struct Answer {
    heading: String,
    table: Option<Table>,
    json: serde_json::Value,
    failure: Option<String>,
}

impl Answer {
    pub fn sentence(text: String, json: serde_json::Value) -> Self {
        Answer {
            heading: text,
            table: None,
            json,
            failure: None,
        }
    }

    pub fn table(heading: String, table: Table, json: serde_json::Value) -> Self {
        Answer {
            heading,
            table: Some(table),
            json,
            failure: None,
        }
    }

    /// This answer, printed as usual, makes the command fail with `failure`.
    pub fn failing(mut self, failure: String) -> Self {
        self.failure = Some(failure);
        self
    }

    /// Why the command fails, once its answer is printed.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The answer for people.
    pub fn text(&self) -> String {
        match &self.table {
            Some(table) if !table.is_empty() => format!("{}\n{}", self.heading, table.0),
            _ => self.heading.clone(),
        }
    }

    pub fn write(&self, out: &mut dyn Write, json: bool) -> std::io::Result<()> {
        if json {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&self.json).unwrap_or_default()
            )
        } else {
            writeln!(out, "{}", self.text())
        }
    }
}
