//! End to end through the local server and the worker, the real vendor adapters and the
//! simulators of Lever and the vendors: what a recruiter would see in Lever, and what a
//! sender is answered. The rules of the product are tested fast in the library's flow
//! tests; these show they hold through HTTP, the adapters and the strict simulators.

mod support;

mod bulk_move;
mod checkr;
mod console;
mod drive;
mod examples;
mod faults;
mod hrlogics_esr;
mod http;
mod lifecycle;
mod load;
mod oauth;
mod registry;
mod safety_net;
mod setup_rules;
mod sterling;
mod xref;
