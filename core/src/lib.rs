//! lever-screening: the library behind every Lambda function, the local server and the
//! operator command. From the bottom up:
//!
//! - [`ids`], [`clock`]: typed ids parsed once; time, dates and deadlines.
//! - [`vendors`]: each vendor as a [`vendors::VendorDescription`] (data) and a wire adapter;
//!   how an order shows in Lever ([`vendors::lever_view`](mod@vendors::lever_view)).
//! - [`tenant`], [`order`], [`work`]: the records — tenant configuration, the order and its
//!   rules (forward only), the queue's messages.
//! - [`lever`]: Lever's webhooks (signature check, events), its API behind
//!   [`lever::LeverApi`], OAuth.
//! - [`store`], [`secrets`], [`queue`]: storage, secrets and the work queue behind narrow
//!   traits, each with an AWS and an in-memory implementation.
//! - [`retry`], [`pacing`], [`callback_auth`], [`tls`]: the one retry helper, Lever's request
//!   budget, vendor callback authentication, TLS for every outbound call.
//! - [`telemetry`], [`xray`]: logs; an invocation's X-Ray trace on its AWS calls.
//! - [`directory`], [`connect`]: tenants as flows read them; a Lever client per integration.
//! - [`flows`]: the use cases — intake (no outbound calls), the worker, the scheduled
//!   checks, OAuth and operator actions.
//! - [`http`], [`lambda`], [`app`]: API Gateway in and out, Lambda entry points, wiring.
//! - [`setup`]: the setup rules the console and the operator command both apply before
//!   they store a tenant's settings or secrets.
//! - [`console`]: the setup console, server-rendered pages a tenant's Lever admin signs in
//!   to by an invitation link.
#![warn(missing_docs)]

pub mod app;
pub mod callback_auth;
pub mod clock;
pub mod config;
pub mod connect;
pub mod console;
pub mod delivery_log;
pub mod directory;
pub mod error;
pub mod flows;
pub mod http;
pub mod ids;
pub mod lambda;
pub mod lever;
pub mod order;
pub mod pacing;
pub mod queue;
pub mod retry;
pub mod secrets;
pub mod setup;
pub mod status;
pub mod store;
pub mod telemetry;
pub mod tenant;
pub mod tls;
pub mod vendors;
pub mod work;
pub mod xray;

pub use app::App;
pub use config::Settings;
pub use error::AppError;
