//! webitel-export: stream Webitel contact-center data from PostgreSQL to CSV, Parquet or
//! JSON Lines. See README.md.
//!
//! The data path: CLI args → validated filter → compile-checked query (`queries/*.sql`) →
//! typed row stream in one read-only snapshot → batches → sink → atomic publish.

pub mod check;
pub mod cli;
pub mod datasets;
pub mod demo;
pub mod error;
pub mod export;
pub mod job;
pub mod levels;
pub mod memory;
pub mod merge;
pub mod pg_server;
pub mod pseudonym;
pub mod record;
pub mod registry;
pub mod reports;
pub mod session;
pub mod sink;
pub mod source;
pub mod timearg;
pub mod view;

pub use error::{Error, Result};
