//! Everything Lever: the webhooks it sends us and the API we write back through.

pub mod client;
pub mod model;
pub mod oauth;
pub mod webhook;

pub use client::{LeverAuth, LeverClient, LeverError};
pub use model::{NewNote, Opportunity, Posting, Stage};
