//! `webitel-export run --config export.toml`: the nightly job. Every job of a run reads one
//! snapshot; incremental jobs export `[watermark, bound)` of their column; files are published
//! all at once, then the watermarks move. See docs/nightly.md.

mod archive;
pub mod commit;
pub mod config;
pub mod delta;
mod execute;
mod jobs;
mod log;
mod manifest;
mod metrics;
pub mod object_root;
pub mod parts;
mod plan;
mod run;
mod setup;
mod snapshot;
mod standby;
pub mod state;
mod sweep;

use std::path::PathBuf;

use crate::source::ConnArgs;
pub use log::{LogFormat, json_line, json_requested, stderr_line};
pub use run::run;

/// `webitel-export run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The run configuration (TOML; see docs/nightly.md).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    /// Print the plan (jobs and windows) and exit without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// No per-job lines on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// text: lines for people; json: one JSON object per line (journald, ELK), errors included.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// A test hook: when `WEBITEL_EXPORT_FAILPOINT` names this point of a commit, the process
/// kills itself there (SIGKILL: no cleanup, no unwinding), so the tests can prove that the next
/// run recovers from a crash at exactly that point.
fn failpoint(name: &str) {
    if std::env::var("WEBITEL_EXPORT_FAILPOINT").is_ok_and(|point| point == name) {
        // SAFETY: raise() only sends a signal to this process.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
