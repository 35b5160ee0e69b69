//! in progress
pub mod xref;
