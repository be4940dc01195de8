//! Command-line flags (SPEC §2): parsed by hand into a [`Config`], with one-line errors.

use crate::flags::{Flag, Flags};
use crate::wire::address::MAX_PEERS;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a node is started with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Port to listen on; 0 lets the OS pick one (printed at start).
    pub port: u16,
    /// Address to bind.
    pub host: String,
    /// This node's files; `None` means `data/<port>`.
    pub data_dir: Option<PathBuf>,
    /// Leading zero bits every block hash needs (1–64).
    pub difficulty: u32,
    /// Coins each coinbase pays.
    pub reward: u64,
    /// Who receives this node's rewards; `None` means the node wallet's key address.
    pub miner: Option<String>,
    /// Nonce-search threads for `/mine`.
    pub threads: usize,
    /// Peers to register (and register with) at start.
    pub peers: Vec<String>,
    /// Limit for every call to a peer.
    pub peer_timeout: Duration,
    /// Announcements, transaction relay, sync and peer exchange (SPEC §6a); off with
    /// `--no-relay`, the original's manual flow.
    pub relay: bool,
    /// How often the node resolves with its peers in the background.
    pub sync_interval: Duration,
    /// A peer unreachable this long is dropped.
    pub peer_expiry: Duration,
    /// How many peers announcements are pushed to (SPEC §6b); 0: every peer.
    pub relay_peers: usize,
    /// How long new transaction ids are gathered before they are announced.
    pub relay_batch: Duration,
    /// Most transactions the pool holds; more are refused with 400 until a block is mined.
    pub pool_max: usize,
    /// Tree height of the keys the node's wallet makes: 5, 10 or 15.
    pub wallet_height: u32,
    /// Time a client has to send a request head, then its body; idle connections close
    /// after it too.
    pub request_timeout: Duration,
    /// Client connections open at once; more are answered 503 (SPEC §6c: a quarter of
    /// them per client address, 64 more for loopback).
    pub max_connections: usize,
    /// The URL this node gives its peers for itself (`--advertise`), normalised; `None`:
    /// the address each peer sees it connect from (SPEC §6c).
    pub advertise: Option<String>,
    /// MiB that request bodies being read may hold in all (SPEC §6c); a body that does
    /// not fit is answered 503, so stalled uploads cannot exhaust memory.
    pub max_body_buffer_mb: usize,
}

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
// Made once at start and matched at once: the size of `Run` costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run a node.
    Run(Config),
    /// Print the usage and exit 0.
    Help,
}

pub use crate::flags::FlagError;

/// The text `--help` prints.
pub const USAGE: &str = "\
usage: minichain [--port N] [--host ADDR] [--data-dir DIR] [--difficulty BITS] [--reward N]
                 [--miner ADDR] [--threads N] [--peer URL]... [--peer-timeout-ms N]
                 [--no-relay] [--sync-interval-ms N] [--peer-expiry-ms N]
                 [--relay-peers N] [--relay-batch-ms N]
                 [--pool-max N] [--wallet-height 5|10|15]
                 [--request-timeout-ms N] [--max-connections N]
                 [--max-body-buffer-mb N] [--advertise URL]

A proof-of-work blockchain node answering JSON over HTTP.

  --port N               port to listen on (default 5000; 0 picks a free one)
  --host ADDR            address to bind (default 127.0.0.1; 0.0.0.0 lets other machines
                         of the network in: a classroom)
  --advertise URL        the address peers reach this node at, given to each peer it
                         registers with (default: the address that peer sees it connect
                         from); for a node behind port forwarding or a name
  --data-dir DIR         this node's files (default data/<port>); two nodes never share one
  --difficulty BITS      leading zero bits a block hash needs, 1-64 (default 20)
  --reward N             coins the coinbase of each block pays its miner (default 50)
  --miner ADDR           who receives this node's rewards (default: the node wallet's key
                         address; a name makes them an open account)
  --threads N            threads searching for a nonce during /mine (default: all cores)
  --peer URL             a peer to register at start, repeatable; the node also registers
                         itself with that peer
  --peer-timeout-ms N    limit for every call to a peer (default 3000)
  --no-relay             no announcements, no transaction relay, no background sync or
                         peer exchange: peers meet only through /nodes/resolve
  --sync-interval-ms N   how often the node resolves with its peers in the background
                         (default 10000)
  --peer-expiry-ms N     a peer unreachable this long is dropped (default 600000)
  --relay-peers N        how many peers this node pushes announcements to, chosen at
                         random among those up (default 8; 0 means every peer)
  --relay-batch-ms N     how long new transaction ids are gathered before they are
                         announced (default 50)
  --pool-max N           most pending transactions; beyond it a payment is refused with
                         400 \"pool is full\" until a block is mined (default 100000)
  --wallet-height H      tree height of the keys the node's wallet makes: 5, 10 or 15
                         (2^H - 1 signatures each; default 10)
  --request-timeout-ms N time a client has to send a request's head, then its body
                         (else 408); idle connections are closed after it, and
                         those that take three times it to read an answer (default 10000)
  --max-connections N    client connections open at once; more get 503 (default 4096);
                         one client address may hold a quarter of them, and this
                         machine (loopback) 64 more
  --max-body-buffer-mb N MiB that request bodies being read may hold in all, 1-65536;
                         a body that does not fit gets 503 (default 256)
  minichain wallet ...   the command-line wallet: `minichain wallet --help`
  --help                 print this help

Logging: RUST_LOG=debug shows every request and sync step.";

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 5000,
            host: "127.0.0.1".to_string(),
            data_dir: None,
            difficulty: 20,
            reward: 50,
            miner: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            peers: Vec::new(),
            peer_timeout: Duration::from_millis(3000),
            relay: true,
            sync_interval: Duration::from_millis(10_000),
            peer_expiry: Duration::from_millis(600_000),
            relay_peers: 8,
            relay_batch: Duration::from_millis(50),
            pool_max: crate::core::pool::MAX_POOL_TRANSACTIONS,
            wallet_height: 10,
            request_timeout: Duration::from_millis(10_000),
            max_connections: 4096,
            advertise: None,
            max_body_buffer_mb: 256,
        }
    }
}

impl Config {
    /// The data directory, defaulting to `data/<port>`.
    pub fn data_dir(&self, bound_port: u16) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data").join(bound_port.to_string()))
    }
}

/// Parses the arguments after the program name.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, FlagError> {
    let mut config = Config::default();
    let mut flags = Flags::new(args.into_iter());
    while let Some(flag) = flags.next_flag() {
        if flag.is_help() {
            return Ok(Command::Help);
        }
        match flag.name.as_str() {
            "--port" => config.port = flags.number(&flag, 0, u16::MAX as u64)? as u16,
            "--host" => config.host = flags.non_empty(&flag)?,
            "--data-dir" => config.data_dir = Some(PathBuf::from(flags.non_empty(&flag)?)),
            "--difficulty" => config.difficulty = flags.number(&flag, 1, 64)? as u32,
            "--reward" => config.reward = flags.number(&flag, 1, crate::core::block::MAX_AMOUNT)?,
            "--miner" => {
                let miner = flags.value(&flag)?;
                crate::core::block::check_address("--miner", &miner)
                    .map_err(|error| FlagError(error.to_string()))?;
                if miner == crate::core::block::COINBASE_SENDER {
                    return Err(FlagError(
                        "--miner \"0\" is reserved for the coinbase sender".into(),
                    ));
                }
                config.miner = Some(miner);
            }
            "--threads" => config.threads = flags.number(&flag, 1, 1024)? as usize,
            "--peer" => config.peers.push(flags.non_empty(&flag)?),
            "--peer-timeout-ms" => config.peer_timeout = millis(&mut flags, &flag, 1, 3_600_000)?,
            "--no-relay" => {
                flags.switch(&flag)?;
                config.relay = false;
            }
            "--sync-interval-ms" => {
                config.sync_interval = millis(&mut flags, &flag, 10, 86_400_000)?
            }
            "--peer-expiry-ms" => {
                config.peer_expiry = millis(&mut flags, &flag, 10, 31_536_000_000)?
            }
            "--relay-peers" => {
                config.relay_peers = flags.number(&flag, 0, MAX_PEERS as u64)? as usize
            }
            "--relay-batch-ms" => config.relay_batch = millis(&mut flags, &flag, 0, 60_000)?,
            "--wallet-height" => {
                config.wallet_height = match flags.value(&flag)?.as_str() {
                    "5" => 5,
                    "10" => 10,
                    "15" => 15,
                    other => {
                        return Err(FlagError(format!(
                            "--wallet-height {other:?}: choose 5, 10 or 15 (2^H - 1 signatures per key)"
                        )));
                    }
                }
            }
            "--pool-max" => config.pool_max = flags.number(&flag, 1, 100_000_000)? as usize,
            "--request-timeout-ms" => {
                config.request_timeout = millis(&mut flags, &flag, 1, 3_600_000)?
            }
            "--max-connections" => {
                config.max_connections = flags.number(&flag, 1, 1_000_000)? as usize
            }
            "--advertise" => {
                let url = crate::wire::address::normalize_peer(&flags.value(&flag)?)
                    .map_err(|error| FlagError(format!("--advertise: {error}")))?;
                config.advertise = Some(url.to_string());
            }
            "--max-body-buffer-mb" => {
                config.max_body_buffer_mb = flags.number(&flag, 1, 65_536)? as usize
            }
            _ => return Err(FlagError(format!("unknown flag {:?}", flag.written))),
        }
    }
    Ok(Command::Run(config))
}

/// A flag's value in milliseconds, from `min` to `max`.
fn millis<I: Iterator<Item = String>>(
    flags: &mut Flags<I>,
    flag: &Flag,
    min: u64,
    max: u64,
) -> Result<Duration, FlagError> {
    Ok(Duration::from_millis(flags.number(flag, min, max)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, FlagError> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_match_the_spec() {
        let Command::Run(config) = parse(&[]).unwrap() else {
            panic!("expected a config")
        };
        assert_eq!(config.port, 5000);
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.difficulty, 20);
        assert_eq!(config.reward, 50);
        assert_eq!(config.peer_timeout, Duration::from_millis(3000));
        assert_eq!(config.data_dir(5000), PathBuf::from("data/5000"));
        assert_eq!(config.pool_max, 100_000);
        assert_eq!(config.max_connections, 4096);
        assert_eq!(config.max_body_buffer_mb, 256);
    }

    #[test]
    fn the_body_buffer_is_1_to_65536_mib() {
        let Command::Run(config) = parse(&["--max-body-buffer-mb", "2"]).unwrap() else {
            panic!("expected a config")
        };
        assert_eq!(config.max_body_buffer_mb, 2);
        let Command::Run(config) = parse(&["--max-body-buffer-mb=65536"]).unwrap() else {
            panic!("expected a config")
        };
        assert_eq!(config.max_body_buffer_mb, 65_536);
        for bad in ["0", "65537", "-1", "1.5", ""] {
            assert!(
                parse(&["--max-body-buffer-mb", bad]).is_err(),
                "{bad:?} was accepted"
            );
        }
        assert!(USAGE.contains("--max-body-buffer-mb N"));
    }

    #[test]
    fn parses_every_flag() {
        let Command::Run(config) = parse(&[
            "--port",
            "5001",
            "--host",
            "0.0.0.0",
            "--data-dir",
            "/tmp/x",
            "--difficulty=8",
            "--reward",
            "7",
            "--miner",
            "alice",
            "--threads",
            "2",
            "--peer",
            "a:1",
            "--peer",
            "b:2",
            "--peer-timeout-ms",
            "500",
        ])
        .unwrap() else {
            panic!("expected a config")
        };
        assert_eq!(config.port, 5001);
        assert_eq!(config.difficulty, 8);
        assert_eq!(config.miner.as_deref(), Some("alice"));
        assert_eq!(config.peers, ["a:1", "b:2"]);
        assert_eq!(config.peer_timeout, Duration::from_millis(500));
    }

    #[test]
    fn relay_flags() {
        let Command::Run(config) = parse(&[]).unwrap() else {
            panic!("expected a config")
        };
        assert!(config.relay);
        assert_eq!(config.sync_interval, Duration::from_millis(10_000));
        assert_eq!(config.peer_expiry, Duration::from_millis(600_000));
        assert_eq!(config.relay_peers, 8);
        assert_eq!(config.relay_batch, Duration::from_millis(50));
        let Command::Run(config) = parse(&[
            "--no-relay",
            "--sync-interval-ms",
            "250",
            "--peer-expiry-ms=1500",
        ])
        .unwrap() else {
            panic!("expected a config")
        };
        assert!(!config.relay);
        assert_eq!(config.sync_interval, Duration::from_millis(250));
        assert_eq!(config.peer_expiry, Duration::from_millis(1500));
        for bad in [
            &["--no-relay=yes"][..],
            &["--sync-interval-ms", "0"],
            &["--peer-expiry-ms", "x"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn refuses_bad_flags_with_a_reason() {
        for bad in [
            &["--difficulty", "0"][..],
            &["--difficulty", "65"],
            &["--port", "abc"],
            &["--port"],
            &["--frobnicate"],
            &["--miner", "0"],
            &["--pool-max", "0"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(parse(&["--help"]).unwrap(), Command::Help);
    }
}
