//! (being written)

use super::DrillError;

/// The drill's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {}

/// What the drill measured.
#[derive(Debug, Clone)]
pub struct Report {}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(not written yet)")
    }
}

/// Runs the drill.
pub async fn run(_options: &Options) -> Result<Report, DrillError> {
    Err("not written yet".into())
}
