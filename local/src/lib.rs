//! The local main job: every lever-screening function behind one HTTP server on its API
//! Gateway path, the worker as a task, an embedded store and queue, and simulators of Lever
//! and the vendors. No AWS account needed.

pub mod demo;
pub mod demo_tenant;
pub mod drills;
pub mod events;
pub mod fixture;
pub mod lever_auth;
pub mod lever_page;
pub mod server;
pub mod stack;
pub mod vendor_drive;
