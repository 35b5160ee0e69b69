//! The one library behind every lever-screening Lambda function and the local server.
//!
//! - [`lever`]: Lever webhooks (payloads, signature check) and the Lever API client.
//! - [`vendors`]: one adapter module per screening vendor, behind [`vendors::VendorAdapter`].
//! - [`store`]: small storage traits with a DynamoDB and an in-memory implementation.
//! - [`secrets`]: tenant secrets from Secrets Manager or a local file, cached.
//! - [`callback_auth`]: the Standard Webhooks check vendors' callbacks carry.
//! - [`flows`]: the use cases (order on stage change, apply a vendor status, replay the outbox).
//! - [`http`]: API Gateway requests in, JSON responses out; the one place errors become statuses.

pub mod app;
pub mod callback_auth;
pub mod error;
pub mod flows;
pub mod http;
pub mod lever;
pub mod model;
pub mod retry;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod vendors;

pub use app::{App, Settings};
pub use error::AppError;
