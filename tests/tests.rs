//! One integration-test binary (one link step on a two-core machine); a module per capability.
//! Every test talks to a real PostgreSQL through tests/support.

mod support;

mod agent_history;
mod agent_states;
mod agents;
mod annotations;
mod architecture;
mod attempts;
mod bad_input;
mod call_data;
mod calls_columns;
mod calls_filters;
mod calls_shapes;
mod check;
mod columns;
mod conversations;
mod conversations_shapes;
mod datasets;
mod demo;
mod docs;
mod errors;
mod formats;
mod hostile;
mod index_use;
mod levels;
mod metrics;
mod nightly;
mod object_storage;
mod output_safety;
mod profiles;
mod pseudonyms;
mod queues;
mod readonly_role;
mod recordings;
mod reliability;
mod reports;
mod schema_gaps;
mod security;
mod signals;
mod xlsx;
