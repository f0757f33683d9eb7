//! Command-line definitions: global flags and one subcommand per dataset.

use clap::{Parser, Subcommand};

use crate::check::CheckArgs;
use crate::demo::DemoArgs;
use crate::job::RunArgs;
use crate::registry::{DatasetCommand, ReportCommand};

const AFTER_HELP: &str = "\
Exit codes: 0 success, 1 other error, 2 bad input, 3 database or connection error,
4 output error, 130/143 interrupted by SIGINT/SIGTERM (nothing is published).

Examples:
  webitel-export demo
  webitel-export run --config /etc/webitel-export/export.toml
  webitel-export calls --from 2026-09-01 --to 2026-10-01 --tz Europe/Kyiv -o calls.parquet
  webitel-export calls --domain 1 --number '+38050' --missed -o missed.csv
  webitel-export report agent-activity --from 2026-10-01 --to 2026-11-01 --tz Europe/Kyiv -o agents.csv";

/// Stream Webitel contact-center data from PostgreSQL to CSV, Parquet or JSON Lines.
///
/// Reads the Webitel database directly over SQL, in one read-only snapshot, and writes files
/// atomically (a temporary file renamed into place only when complete).
#[derive(Parser)]
#[command(name = "webitel-export", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// The datasets, one subcommand each (src/registry.rs).
    #[command(flatten)]
    Export(DatasetCommand),
    /// Check that every dataset and report can run here: server, TLS, schema level, missing
    /// tables or columns, SELECT privileges, row estimates. Exit 0 when all can run, else 1.
    Check(CheckArgs),
    /// The nightly job: every dataset of a config file, incremental, in one snapshot,
    /// Hive-partitioned, published atomically with a manifest (docs/nightly.md).
    Run(RunArgs),
    /// Aggregate reports per agent or queue and time bucket (time-zone and DST exact).
    #[command(subcommand)]
    Report(ReportCommand),
    /// Run everything on an embedded demo database: seed, export calls, clean up.
    Demo(DemoArgs),
    /// The data dictionary: every column of a dataset or report with its type, nullability,
    /// the Webitel release that fills it, its personal-data class and its description (all
    /// datasets: docs/datasets.md).
    Schema(SchemaArgs),
    /// Print the man page or a shell's completions (for packages).
    #[command(hide = true, subcommand)]
    Generate(Generate),
}

/// `webitel-export schema [DATASET] [--format markdown|json]`.
#[derive(clap::Args)]
pub struct SchemaArgs {
    /// A dataset or report (default: every dataset, as docs/datasets.md).
    pub dataset: Option<String>,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: SchemaFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    Markdown,
    Json,
}

impl SchemaArgs {
    /// The text to print, or exit 2 for an unknown dataset.
    pub fn render(&self) -> crate::error::Result<String> {
        use crate::registry;
        let Some(name) = &self.dataset else {
            return Ok(match self.format {
                SchemaFormat::Markdown => registry::render_dataset_docs(),
                SchemaFormat::Json => {
                    let all: Vec<String> = registry::all().map(registry::schema_json).collect();
                    format!("[\n{}\n]\n", all.join(",\n"))
                }
            });
        };
        let info = registry::find(name).ok_or_else(|| {
            crate::error::Error::input(format!(
                "unknown dataset '{name}': expected one of {}",
                registry::names()
            ))
        })?;
        Ok(match self.format {
            SchemaFormat::Markdown => registry::schema_markdown(info),
            SchemaFormat::Json => format!("{}\n", registry::schema_json(info)),
        })
    }
}

/// What `webitel-export generate` writes, for packages.
#[derive(Subcommand)]
pub enum Generate {
    /// The man pages, one file per command (`webitel-export.1`, `webitel-export-run.1`,
    /// `webitel-export-report-agent-activity.1`…), into DIR.
    Man {
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
    /// Completions for a shell, on standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Generate {
    /// Writes the man pages into their directory, or the completions to `out`.
    pub fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        use clap::CommandFactory;
        let command = Cli::command();
        match self {
            Generate::Man { dir } => clap_mangen::generate_to(command, dir),
            Generate::Completions { shell } => {
                // Into memory first: clap_complete panics on a write error (a closed pipe).
                let mut text = Vec::new();
                let mut command = command;
                clap_complete::generate(*shell, &mut command, "webitel-export", &mut text);
                if *shell == clap_complete::Shell::Bash {
                    text = bash_arms_spelled_as_the_loop(&text).into_bytes();
                }
                out.write_all(&text)
            }
        }
    }
}

/// clap_complete's bash script names the case arms of a hyphenated binary's subcommands
/// with the binary's hyphen escaped as a subcommand separator (`webitel__subcmd__export__…`)
/// while its loop over the words arrives at `webitel__export__…`: no arm matches and no
/// subcommand option completes (clap-rs/clap#6421, open). The arms are spelled as the loop
/// spells them; `.ci/package` and tests/docs.rs complete through bash itself.
fn bash_arms_spelled_as_the_loop(script: &[u8]) -> String {
    String::from_utf8_lossy(script).replace("webitel__subcmd__export", "webitel__export")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Flags whose values are parsed and checked before any connection.
    const VALUED_FLAGS: &[&str] = &[
        "--from",
        "--to",
        "--tz",
        "--stored-from",
        "--stored-to",
        "--answered-from",
        "--answered-to",
        "--var",
        "--user",
        "--agent",
        "--queue",
        "--id",
        "--parent-id",
        "--dependency-id",
        "--cause",
        "--min-duration",
        "--max-duration",
        "--min-talk",
        "--max-talk",
        "--direction",
        "--tag",
        "--amd-result",
        "--q",
        "--number",
        "--statement-timeout",
        "--connect-timeout",
        "--stall-timeout",
        "--format",
        "--parallel",
    ];

    proptest! {
        /// Arbitrary values for the calls flags: parsing and validation answer Ok or a one-line
        /// error, and never panic.
        #[test]
        fn calls_flags_never_panic(
            pairs in proptest::collection::vec(
                (proptest::sample::select(VALUED_FLAGS), any::<String>()), 0..6),
        ) {
            let mut argv = vec!["webitel-export".to_string(), "calls".to_string()];
            for (flag, value) in pairs {
                argv.push(format!("{flag}={value}"));
            }
            if let Ok(cli) = Cli::try_parse_from(&argv)
                && let Command::Export(DatasetCommand::Calls(cmd)) = cli.command
            {
                if let Err(e) = cmd.filters.to_filter() {
                    prop_assert!(!e.one_line().contains('\n'));
                }
                let _ = cmd.conn.validate();
                let _ = cmd.output.to_options::<crate::datasets::calls::CallRow>(&cmd.conn, "calls");
            }
        }

        /// The time and duration parsers take any text without panicking.
        #[test]
        fn time_parsers_never_panic(value in any::<String>()) {
            let _ = crate::timearg::parse_duration("--x", &value);
            let _ = crate::timearg::parse_tz(&value);
            let _ = crate::timearg::parse_instant("--x", &value, chrono_tz::UTC);
            let _ = value.parse::<crate::levels::Level>();
        }

        /// Dates that look almost right: digits and separators in date-like shapes.
        #[test]
        fn date_like_values_never_panic(value in "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}([T ][0-9]{1,3}(:[0-9]{1,3}){0,2})?") {
            let _ = crate::timearg::parse_instant("--x", &value, chrono_tz::Europe::Kyiv);
        }
    }
}
