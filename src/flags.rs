//! The one command-line flag reader both programs use: the node's flags (`config`) and
//! the wallet's (`wallet_cli`). Flags are `--name value` or `--name=value`; a switch takes
//! no value; `--help`/`-h` asks for the usage. Every error is one line naming the flag.

use std::fmt;

/// A bad command line: printed on one line, followed by the usage; exit status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct FlagError(pub String);

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FlagError {}

/// One flag as written: its name, and a value given after `=` if any.
#[derive(Debug)]
pub struct Flag {
    /// `--port`, as typed (or `-h`).
    pub name: String,
    /// The text after `=` in `--name=value`.
    inline: Option<String>,
    /// The whole argument, for "unknown flag" messages.
    pub written: String,
}

impl Flag {
    /// Whether this is `--help` or `-h`.
    pub fn is_help(&self) -> bool {
        self.name == "--help" || self.name == "-h"
    }
}

/// Reads flags one by one from the arguments after the program (and command) name.
pub struct Flags<I: Iterator<Item = String>> {
    args: I,
}

impl<I: Iterator<Item = String>> Flags<I> {
    /// A reader over `args`.
    pub fn new(args: I) -> Flags<I> {
        Flags { args }
    }

    /// The next argument as a flag; `None` when the command line is used up.
    pub fn next_flag(&mut self) -> Option<Flag> {
        let written = self.args.next()?;
        let (name, inline) = match written.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_string(), Some(value.to_string()))
            }
            _ => (written.clone(), None),
        };
        Some(Flag {
            name,
            inline,
            written,
        })
    }

    /// The next argument taken as it is (a command word before the flags).
    pub fn next_word(&mut self) -> Option<String> {
        self.args.next()
    }

    /// The value of `flag`: after its `=`, or the next argument.
    pub fn value(&mut self, flag: &Flag) -> Result<String, FlagError> {
        flag.inline
            .clone()
            .or_else(|| self.args.next())
            .ok_or_else(|| FlagError(format!("{} needs a value", flag.name)))
    }

    /// Checks that `flag` is used as a switch (`--no-relay`, not `--no-relay=yes`).
    pub fn switch(&self, flag: &Flag) -> Result<(), FlagError> {
        match flag.inline {
            None => Ok(()),
            Some(_) => Err(FlagError(format!("{} takes no value", flag.name))),
        }
    }

    /// The value of `flag` as a whole number from `min` to `max`.
    pub fn number(&mut self, flag: &Flag, min: u64, max: u64) -> Result<u64, FlagError> {
        let text = self.value(flag)?;
        number(&flag.name, &text, min, max)
    }

    /// The value of `flag`, refused when empty.
    pub fn non_empty(&mut self, flag: &Flag) -> Result<String, FlagError> {
        let text = self.value(flag)?;
        if text.is_empty() {
            Err(FlagError(format!("{} must not be empty", flag.name)))
        } else {
            Ok(text)
        }
    }
}

/// `text` as a whole number from `min` to `max`, or an error naming `flag`.
pub fn number(flag: &str, text: &str, min: u64, max: u64) -> Result<u64, FlagError> {
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(FlagError(format!(
            "{flag} must be a whole number from {min} to {max}, got {text:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(line: &str) -> Flags<std::vec::IntoIter<String>> {
        Flags::new(
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }

    #[test]
    fn values_come_inline_or_next_and_numbers_are_checked() {
        let mut flags = reader("--port=5001 --peer a:1 --difficulty 65 --no-relay=yes --x");
        let port = flags.next_flag().unwrap();
        assert_eq!(flags.number(&port, 0, 65_535), Ok(5001));
        let peer = flags.next_flag().unwrap();
        assert_eq!(flags.non_empty(&peer).as_deref(), Ok("a:1"));
        let difficulty = flags.next_flag().unwrap();
        assert_eq!(
            flags.number(&difficulty, 1, 64),
            Err(FlagError(
                "--difficulty must be a whole number from 1 to 64, got \"65\"".into()
            ))
        );
        let relay = flags.next_flag().unwrap();
        assert!(flags.switch(&relay).is_err());
        let last = flags.next_flag().unwrap();
        assert_eq!(
            flags.value(&last),
            Err(FlagError("--x needs a value".into()))
        );
        assert!(flags.next_flag().is_none());
    }
}
