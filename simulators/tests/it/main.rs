//! The simulators, exercised over real HTTP as the product and its tests use them: one test
//! binary (one link, one process), a module per simulated API.

mod checkr;
mod lever;
mod lever_api;
mod lever_oauth;
mod sterling;
mod support;
mod vendors;
