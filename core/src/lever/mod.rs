//! Everything Lever: the webhooks it sends us, the API we write back through, and OAuth for
//! integrations connected as authorized apps.

mod api;
pub mod client;
pub mod model;
pub mod oauth;
pub mod webhook;

pub use api::{LeverApi, LeverError};
pub use client::{AccessTokens, LeverAuth, LeverClient};
pub use model::{NewNote, Note, Opportunity, Posting, Stage, Webhook};
