//! Shared helpers for the integration tests: connections to the real servers the store tests
//! use, with a clear message when one is down, and isolated stores of every kind.

#[cfg(feature = "dynamodb")]
pub mod dynamodb_server;
#[cfg(feature = "redis")]
pub mod redis_cluster;
#[cfg(feature = "redis")]
pub mod redis_server;

#[cfg(feature = "postgres")]
pub mod postgres_server;

pub mod captured;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "sqlite")]
pub mod orders;
#[cfg(feature = "postgres")]
pub mod orders_pg;
pub mod stores;
