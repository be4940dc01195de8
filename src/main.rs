//! The `minichain` binary: parse flags, set up logging, run a node. No logic lives here.

use minichain::app::{RunError, init_logging, run};
use minichain::config::{Command, USAGE, parse_args};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("wallet") {
        return ExitCode::from(minichain::wallet_cli::main(args.skip(1).collect()));
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
