//! Drills: the whole product on one machine under load and under faults, with figures.
//! Each drill is a command of `lever-screening-local` that prints a table, and a test in
//! `local/tests/it` that runs it at a small size and asserts what must hold.

pub mod bulk_move;
pub mod faults;
pub mod iam;
pub mod load;

/// What a drill fails with: its set-up, not what it measures (that is in its report).
pub type DrillError = Box<dyn std::error::Error + Send + Sync>;
