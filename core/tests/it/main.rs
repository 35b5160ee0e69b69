//! The library's integration tests, in one binary: the product's rules as fast flow tests
//! on in-memory stores with fakes of Lever and the vendors, and the suites every store,
//! queue and secrets source must pass (DynamoDB Local and moto_server for the AWS ones).

mod support;

mod callbacks;
mod completion;
mod deliveries;
mod intake;
mod lever_client;
mod lifecycle;
mod operations;
mod ordering;
mod queue;
mod safety_net;
mod secrets;
mod store;
mod worker;
