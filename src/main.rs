//! The `webitel-export` binary: parse, run, map the outcome to one stderr line and an exit code.

use std::process::ExitCode;

use clap::Parser;
use webitel_export::cli::{Cli, Command};
use webitel_export::error::{self, Error, exit};
use webitel_export::{check, demo, job};

fn main() -> ExitCode {
    // ring for every TLS client of the process (PostgreSQL, S3, Pushgateway): rustls cannot
    // pick between the two providers linked in.
    webitel_export::sink::object::install_tls_provider();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&Error::Other(format!("starting the runtime: {e}")), false),
    };
    // `run --log-format json` reports its failure as a JSON line too.
    let json =
        matches!(&cli.command, Command::Run(args) if args.log_format == job::LogFormat::Json);
    match runtime.block_on(run_until_signal(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, json),
    }
}

/// Runs the command; SIGINT or SIGTERM drops it mid-way, which removes any temporary file.
async fn run_until_signal(cli: Cli) -> Result<(), Error> {
    use tokio::signal::unix::{SignalKind, signal};
    // Both handlers are installed before any file is created, so no signal can slip between.
    let listen =
        |kind| signal(kind).map_err(|e| Error::Other(format!("installing a signal handler: {e}")));
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    tokio::select! {
        result = run(cli) => result,
        _ = interrupt.recv() => Err(Error::Interrupted { name: "SIGINT", code: exit::SIGINT }),
        _ = terminate.recv() => Err(Error::Interrupted { name: "SIGTERM", code: exit::SIGTERM }),
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let summary = match cli.command {
        Command::Export(cmd) => cmd.run().await?,
        Command::Report(cmd) => cmd.run().await?,
        Command::Run(args) => return job::run(&args).await,
        Command::Check(args) => {
            return match check::run(&args).await? {
                true => Ok(()),
                false => Err(Error::CheckFailed),
            };
        }
        Command::Demo(args) => return demo::run(&args).await,
        Command::Schema(args) => {
            print!("{}", args.render()?);
            return Ok(());
        }
        Command::Generate(what) => {
            let mut stdout = std::io::stdout().lock();
            return what
                .write(&mut stdout)
                .map_err(|e| Error::output("standard output", e));
        }
    };
    report(&summary);
    Ok(())
}

/// The one summary line on stderr (rows, bytes, seconds), unless --quiet.
fn report(summary: &webitel_export::export::Summary) {
    if !summary.quiet {
        eprintln!("{}", summary.line());
    }
}

fn fail(e: &Error, json: bool) -> ExitCode {
    if e.is_broken_pipe() {
        // `webitel-export calls | head`: the reader left; that is success.
        return ExitCode::SUCCESS;
    }
    let message = match webitel_export::levels::missing_object_hint(e) {
        Some(hint) => format!("{} ({hint})", e.one_line()),
        None => e.one_line(),
    };
    error_line(&message, json);
    ExitCode::from(e.exit_code())
}

/// The one error line on stderr: a JSON record under `--log-format json`, else prefixed with
/// the program's name (with the journal's priority when stderr is the journal).
fn error_line(message: &str, json: bool) {
    if json {
        job::stderr_line("error", &job::json_line("error", message));
    } else {
        job::stderr_line("error", &format!("webitel-export: {message}"));
    }
}

/// clap's errors span several lines; keep help/version as they are and make errors one line.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(exit::INPUT);
    }
    let message = format!("{} (see --help)", error::clap_one_line(&e));
    // `--log-format json` keeps every line JSON, this one too.
    error_line(&message, job::json_requested(std::env::args_os()));
    ExitCode::from(exit::INPUT)
}
