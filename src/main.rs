//! The `minichain` binary: parse flags, set up logging, run a node. No logic lives here.

use minichain::config::{Command, USAGE, parse_args};
use minichain::http::server::{RunError, run};
use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("wallet") {
        return ExitCode::from(minichain::wallet::cli::main(args.skip(1).collect()));
    }
    let config = match parse_args(args) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            // A reader that stops early (`--help | grep -q …`) is not an error.
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("minichain: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Flag(message)) => {
            eprintln!("minichain: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(RunError::Fatal(error)) => {
            eprintln!("minichain: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The log: with `RUST_LOG` set, env_logger's full format (date, level, module path); without
/// it, what a person reads at a terminal: the time of day (UTC), the level only when it is
/// not `INFO`, and the message, at the default level `info`.
fn init_logging() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if std::env::var_os("RUST_LOG").is_none() {
        builder.format(|out, record| {
            let seconds = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs());
            let (h, m, s) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
            match record.level() {
                log::Level::Info => writeln!(out, "{h:02}:{m:02}:{s:02} {}", record.args()),
                level => writeln!(out, "{h:02}:{m:02}:{s:02} {level} {}", record.args()),
            }
        });
    }
    builder.init();
}
