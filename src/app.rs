//! The node program's assembly: bind the port, open the data directory, attach the
//! network, register the `--peer`s, serve. The top floor: it may use every other part.

use crate::config::Config;
use crate::flags::FlagError;
use crate::http::guard::{Guard, Limits};
use crate::http::owner::Owner;
use crate::http::routes;
use crate::net::join;
use crate::net::network::{self, Network};
use crate::net::relay;
use crate::net::self_name::reachable_urls;
use crate::node::{Identity, Node};
use crate::store::owner_token;
use crate::wire::address::{PeerUrl, is_own_address, normalize_peer, own_url};
use crate::wire::client::PeerClient;
use log::{info, warn};
use std::error::Error;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// What the routes serve, set once the data directory is open: the node, its owner's
/// credentials and its network.
type Serving = (Node, Owner, Arc<Network>);

/// Why the node stopped before serving.
#[derive(Debug)]
pub enum RunError {
    /// A flag's value is unusable (exit status 2).
    Flag(FlagError),
    /// Anything else: cannot bind, damaged data, locked directory (exit status 1).
    Fatal(Box<dyn Error>),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Flag(error) => error.fmt(f),
            RunError::Fatal(error) => error.fmt(f),
        }
    }
}

impl Error for RunError {}

/// Runs a node until the process is stopped. Prints `listening on <url>` on standard
/// output once it answers requests (tests and scripts wait for that line).
pub fn run(config: Config) -> Result<(), RunError> {
    let mut peers = Vec::new();
    for peer in &config.peers {
        peers.push(
            normalize_peer(peer)
                .map_err(|error| RunError::Flag(FlagError(format!("--peer: {error}"))))?,
        );
    }

    // With a fixed port the data directory is known before binding, so it is locked first:
    // a second node on the same port and directory is told who holds it.
    let slot: Arc<OnceLock<Serving>> = Arc::new(OnceLock::new());
    let (server, node) = if config.port != 0 {
        let node = open_node(&config, config.port, &peers)?;
        let server = bind(&config, config.port, Arc::clone(&slot))?;
        (server, node)
    } else {
        let server = bind(&config, 0, Arc::clone(&slot))?;
        let node = open_node(&config, server.port(), &peers)?;
        (server, node)
    };
    // Attached before the first request is served; its threads start here too.
    let network = relay::start(
        &node,
        network::Settings {
            relay: config.relay,
            sync_interval: config.sync_interval,
            peer_expiry: config.peer_expiry,
            relay_peers: config.relay_peers,
            relay_batch: config.relay_batch,
        },
        PeerClient::new(config.peer_timeout),
    );
    let url = node.identity().url.clone();
    let data_dir = config.data_dir(node.identity().port);
    let (token, token_file) =
        owner_token::load_or_create(&data_dir).map_err(|error| RunError::Fatal(Box::new(error)))?;
    let _ = slot.set((
        node.clone(),
        Owner::new(token, &token_file),
        Arc::clone(&network),
    ));

    info!(
        "node {} at {url}: difficulty {}, reward {}, miner {}, data in {}",
        node.identity().node_id,
        config.difficulty,
        config.reward,
        crate::http::brief::short_key(&node.miner()),
        data_dir.display()
    );
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {url}");
    let _ = stdout.flush();
    info!("explorer page: open {url}/ in a browser");
    let reachable = reachable_urls(node.identity());
    if !reachable.is_empty() {
        info!(
            "other machines reach this node at {} (give classmates that address: --peer {})",
            reachable.join(" or "),
            reachable[0]
        );
    }
    if !is_loopback_bind(&config.host) {
        warn!(
            "bound to {}: other machines on the network can read this node, pay with signed \
             transactions or from names (open accounts), announce blocks and register as peers. \
             Mining, /restart, wallet payments and rotation, and forgetting peers answer only the \
             owner: this machine (127.0.0.1), or a request with `Authorization: Bearer <token>` \
             using the token in {} (keep it secret)",
            config.host,
            token_file.display()
        );
    }

    if !peers.is_empty() {
        let (node, network) = (node.clone(), Arc::clone(&network));
        std::thread::spawn(move || join::register_with_peers(&node, &network, &peers));
    }
    server.run();
    Ok(())
}

/// Opens the data directory of the node that will listen on `port`, and registers the
/// `--peer`s with it.
fn open_node(config: &Config, port: u16, peers: &[PeerUrl]) -> Result<Node, RunError> {
    let url = own_url(&config.host, port);
    for peer in peers {
        if is_own_address(peer, &config.host, port) {
            return Err(RunError::Flag(FlagError(format!(
                "--peer {peer} is this node itself; name another node"
            ))));
        }
    }
    let identity = |node_id| Identity {
        url: url.clone(),
        bound_host: config.host.clone(),
        advertise: config.advertise.clone(),
        port,
        node_id,
        miner: config.miner.clone(),
        wallet_height: config.wallet_height,
        threads: config.threads,
        pool_max: config.pool_max,
    };
    let node = Node::start(
        &config.data_dir(port),
        config.difficulty,
        config.reward,
        identity,
    )
    .map_err(|error| RunError::Fatal(Box::new(error)))?;
    if !peers.is_empty() {
        node.register_peers(peers)
            .map_err(|error| RunError::Fatal(Box::new(error)))?;
    }
    Ok(node)
}

/// The public front ([`guard`]) with the routes as its handler, bound and not yet
/// serving; requests get 503 until `slot` holds the node.
struct Listening {
    guard: Guard,
    slot: Arc<OnceLock<Serving>>,
}

impl Listening {
    /// The public port.
    fn port(&self) -> u16 {
        self.guard.port()
    }

    /// Serves forever on this thread.
    fn run(self) {
        let slot = self.slot;
        self.guard.serve(Box::new(move |request| match slot.get() {
            Some((node, owner, network)) => routes::handle(request, node, owner, network),
            None => routes::not_ready(),
        }));
    }
}

/// Binds the public port: the one port this node listens on (SPEC §5a).
fn bind(config: &Config, port: u16, slot: Arc<OnceLock<Serving>>) -> Result<Listening, RunError> {
    let limits = Limits {
        request_timeout: config.request_timeout,
        max_connections: config.max_connections,
        max_body: routes::MAX_BODY_BYTES,
        max_body_buffer: config.max_body_buffer_mb.saturating_mul(1024 * 1024),
    };
    let guard = Guard::bind(&config.host, port, limits).map_err(|error| {
        RunError::Fatal(
            format!(
                "cannot listen on {}:{port}: {error} (is another program using this port?)",
                config.host
            )
            .into(),
        )
    })?;
    Ok(Listening { guard, slot })
}

/// Whether `host` (the `--host` flag) accepts connections from this machine only.
fn is_loopback_bind(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The log: with `RUST_LOG` set, env_logger's full format (date, level, module path); without
/// it, what a person reads at a terminal: the time of day (UTC), the level only when it is
/// not `INFO`, and the message, at the default level `info`.
pub fn init_logging() {
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
