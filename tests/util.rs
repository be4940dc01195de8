//! Helpers shared by every integration test: a real `minichain` process per node, a small
//! HTTP client around it, and an independent implementation of the hashing rules of
//! SPEC §3 so the tests re-check what the node computes instead of trusting it.

#![allow(dead_code)] // each test module uses a different subset of the helpers

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a node may take to print its `listening on` line, or a failing start to exit.
pub const START_DEADLINE: Duration = Duration::from_secs(20);
/// Limit for every HTTP call a test makes; generous because tests run in parallel.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Difficulty every test node runs at unless a test passes its own: mining is instant.
pub const TEST_DIFFICULTY: &str = "8";
/// Wallet tree height of every test node unless a test passes its own: 31 signatures.
pub const TEST_WALLET_HEIGHT: &str = "5";
/// `RUST_LOG` of every test node unless a test asks for the default: this crate at debug,
/// so each request has its log line (tests count them), reads included.
pub const TEST_RUST_LOG: &str = "info,minichain=debug";

/// The path of the binary under test, built by cargo for this integration target.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_minichain")
}

/// A fresh, empty directory under cargo's scratch space for integration tests, named
/// after the running test so a failure leaves an easy-to-find trail. Never shared.
pub fn fresh_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let test_name = thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-")
        .replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
            "_",
        );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("minichain-tests")
        .join(format!(
            "{test_name}-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().expect("the scratch path has a parent"))
        .expect("can create the scratch directory for test data");
    dir
}

/// One HTTP answer from a node: status, content type, raw body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON; panics with the raw body when it is not JSON (SPEC §5: every
    /// answer is JSON, errors included).
    pub fn json(&self, what: &str) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{what}: answer {} is not JSON ({e}); content-type {:?}; body: {:?}",
                self.status,
                self.content_type,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// A running node; killed on drop so a failing test leaks no process.
pub struct TestNode {
    child: Child,
    /// `http://127.0.0.1:PORT`, as printed by the node.
    pub url: String,
    pub port: u16,
    pub data_dir: PathBuf,
    /// Flags after `--port P --data-dir DIR [--difficulty 8]`, replayed by `restart`.
    extra_args: Vec<String>,
    /// Everything the node wrote to stderr so far, drained by a thread so the node never
    /// blocks on a full pipe.
    stderr: Arc<Mutex<Vec<u8>>>,
    command_line: String,
    /// The data directory was made by `start` and is removed when the test passes.
    owns_dir: bool,
    /// The node's `RUST_LOG`; `None`: unset, the level a user gets by default.
    rust_log: Option<String>,
    /// A command the binary runs under (`ip netns exec NAME`), replayed by `restart`;
    /// empty: the binary is started directly.
    launcher: Vec<String>,
}

impl TestNode {
    /// Starts a node on a free port with a fresh data directory and `extra_args`
    /// (`--difficulty 8` unless `extra_args` sets a difficulty).
    pub fn start(extra_args: &[&str]) -> TestNode {
        let dir = fresh_dir("node");
        let mut node = TestNode::start_in(&dir, extra_args);
        node.owns_dir = true;
        node
    }

    /// Like [`TestNode::start`], with `RUST_LOG` unset: the node logs what a user sees by
    /// default (not [`TEST_RUST_LOG`]).
    pub fn start_with_default_log(extra_args: &[&str]) -> TestNode {
        let dir = fresh_dir("node");
        let extra: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let mut node = TestNode::try_spawn_from(Some(&dir), None, "0", extra, None)
            .unwrap_or_else(|why| panic!("{why}"));
        node.owns_dir = true;
        node
    }

    /// Starts a node through `launcher` (a command that runs the binary it is given, such
    /// as `ip netns exec NAME`, which execs it in place, so killing the child kills the
    /// node) on `port`, with a fresh data directory and `extra_args`. `Err` is a ready-made
    /// failure message (command line, exit status, stderr).
    pub fn start_via(
        launcher: &[&str],
        port: u16,
        extra_args: &[&str],
    ) -> Result<TestNode, String> {
        let dir = fresh_dir("node");
        let launcher: Vec<String> = launcher.iter().map(|s| s.to_string()).collect();
        let extra: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let mut node = TestNode::try_spawn_via(
            &launcher,
            Some(&dir),
            None,
            &port.to_string(),
            extra,
            Some(TEST_RUST_LOG),
        )?;
        node.owns_dir = true;
        Ok(node)
    }

    /// Starts a node on a free port on the given data directory (which may hold the
    /// files of an earlier node, or may not exist yet).
    pub fn start_in(data_dir: &Path, extra_args: &[&str]) -> TestNode {
        let extra: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        TestNode::spawn(data_dir, "0", extra)
    }

    /// Starts a node without `--data-dir`, in `working_dir`; its data goes to the default
    /// `data/<port>` there. `restart` then names that directory explicitly.
    pub fn start_without_data_dir(working_dir: &Path, extra_args: &[&str]) -> TestNode {
        let extra: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        TestNode::try_spawn_from(None, Some(working_dir), "0", extra, Some(TEST_RUST_LOG))
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// SIGKILL (`Child::kill` is SIGKILL on unix): no chance to flush or clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (what `kill PID` and service managers send); the node must exit within
    /// the start deadline. Returns its exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.as_ref().is_ok_and(|s| s.success()),
            "kill -TERM {pid}: {sent:?}"
        );
        let status = wait_for_exit(&mut self.child, START_DEADLINE);
        status.unwrap_or_else(|| {
            panic!(
                "node {pid} still running {START_DEADLINE:?} after SIGTERM\nstderr:\n{}",
                tail(&self.stderr(), 4000)
            )
        })
    }

    /// The node's process id, which a lock error must name.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the node with SIGKILL (if it still runs) and starts it again on the same data
    /// directory, with
    /// the same flags and the same port (so its own URL, and with it the default miner
    /// address, stays the same).
    pub fn restart(&mut self) {
        self.kill9();
        let dir = self.data_dir.clone();
        let port = self.port.to_string();
        let extra = self.extra_args.clone();
        let log = self.rust_log.clone();
        let launcher = self.launcher.clone();
        // The old process is dead, so its port is free again (Rust's listener sets
        // SO_REUSEADDR); should another test's node have taken it meanwhile, any port will do.
        let spawn = |port: &str, extra: Vec<String>| {
            TestNode::try_spawn_via(&launcher, Some(&dir), None, port, extra, log.as_deref())
        };
        let fresh = spawn(&port, extra.clone())
            .or_else(|_| spawn("0", extra))
            .unwrap_or_else(|why| panic!("restart: {why}"));
        let owns_dir = self.owns_dir;
        self.owns_dir = false; // the old value is dropped below and must not delete the dir
        let old = std::mem::replace(self, fresh);
        drop(old);
        self.owns_dir = owns_dir;
    }

    /// Starts a second process with this node's data directory and flags (the node itself
    /// may be running or stopped) and expects it to refuse to start.
    pub fn start_again_expecting_failure(&self) -> FailedStart {
        let extra: Vec<&str> = self.extra_args.iter().map(String::as_str).collect();
        start_expecting_failure(&self.data_dir, &extra)
    }

    /// What the node wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// The node's log with every line it wrote before this call: asks for a path it
    /// refuses (a line at every log level) and waits until that line has been read, since
    /// the thread that reads stderr may lag behind what the node has written.
    pub fn log_so_far(&self) -> String {
        static MARKERS: AtomicUsize = AtomicUsize::new(0);
        let path = format!("/log-so-far-{}", MARKERS.fetch_add(1, Ordering::SeqCst));
        let reply = self.request("GET", &path, None, None);
        assert_eq!(reply.status, 404, "GET {path}");
        let line = format!(" GET {path} -> 404");
        assert!(
            wait_until(START_DEADLINE, || self.stderr().contains(&line)),
            "the refused GET {path} was never logged:\n{}",
            tail(&self.stderr(), 4000)
        );
        self.stderr()
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(body))
    }

    pub fn delete(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("DELETE", path, Some(body))
    }

    /// Any method, a JSON body or none; the answer must be JSON.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let reply = match body {
            Some(body) => self.request(
                method,
                path,
                Some(serde_json::to_vec(body).unwrap()),
                Some("application/json"),
            ),
            None => self.request(method, path, None, None),
        };
        let json = reply.json(&format!("{method} {path}"));
        (reply.status, json)
    }

    /// POST of arbitrary bytes, with the given Content-Type or none at all.
    pub fn post_raw(&self, path: &str, body: Vec<u8>, content_type: Option<&str>) -> Reply {
        self.request("POST", path, Some(body), content_type)
    }

    /// The one place that talks HTTP; panics with the node's stderr when there is no answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Reply {
        let url = format!("{}{}", self.url, path);
        match send(method, &url, body, content_type, HTTP_TIMEOUT) {
            Ok(reply) => reply,
            Err(e) => panic!(
                "{method} {url}: no answer ({e})\nnode: {}\nnode stderr:\n{}",
                self.command_line,
                tail(&self.stderr(), 4000)
            ),
        }
    }

    /// POST /mine and return the block, checking the status.
    pub fn mine(&self) -> Value {
        let (status, block) = self.post("/mine", &Value::Null);
        assert_eq!(status, 200, "POST /mine: {block}");
        block
    }

    /// POST /transactions/new with sender, recipient and amount; returns (status, answer).
    pub fn pay(&self, sender: &str, recipient: &str, amount: u64) -> (u16, Value) {
        self.post(
            "/transactions/new",
            &serde_json::json!({"sender": sender, "recipient": recipient, "amount": amount}),
        )
    }

    /// The node's wallet address (`GET /wallet`): its default miner.
    pub fn wallet_address(&self) -> String {
        let (status, wallet) = self.get("/wallet");
        assert_eq!(status, 200, "GET /wallet: {wallet}");
        wallet["address"].as_str().expect("an address").to_string()
    }

    /// A payment from the node's own wallet (no sender: the node signs); must be accepted.
    pub fn pay_from_wallet(&self, recipient: &str, amount: u64) -> Value {
        let (status, answer) = self.post(
            "/transactions/new",
            &serde_json::json!({"recipient": recipient, "amount": amount}),
        );
        assert_eq!(
            status, 201,
            "wallet payment to {recipient} of {amount}: {answer}"
        );
        answer["transaction"].clone()
    }

    /// Like `pay`, but the payment must be accepted; returns the pooled transaction.
    pub fn pay_ok(&self, sender: &str, recipient: &str, amount: u64) -> Value {
        let (status, answer) = self.pay(sender, recipient, amount);
        assert_eq!(
            status, 201,
            "payment {sender} -> {recipient} of {amount}: {answer}"
        );
        answer["transaction"].clone()
    }

    /// GET /chain and return the blocks.
    pub fn chain(&self) -> Vec<Value> {
        let (status, answer) = self.get("/chain");
        assert_eq!(status, 200, "GET /chain: {answer}");
        answer["chain"]
            .as_array()
            .expect("chain is an array")
            .clone()
    }

    /// GET /pool and return the pooled transactions.
    pub fn pool(&self) -> Vec<Value> {
        let (status, answer) = self.get("/pool");
        assert_eq!(status, 200, "GET /pool: {answer}");
        answer["pool"].as_array().expect("pool is an array").clone()
    }

    /// GET /nodes/register and return the peer list.
    pub fn peers(&self) -> Vec<Value> {
        let (status, answer) = self.get("/nodes/register");
        assert_eq!(status, 200, "GET /nodes/register: {answer}");
        answer["total_nodes"]
            .as_array()
            .expect("total_nodes is an array")
            .clone()
    }

    fn spawn(data_dir: &Path, port: &str, extra_args: Vec<String>) -> TestNode {
        TestNode::try_spawn(data_dir, port, extra_args).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts the binary and reads its first stdout line; Err is a ready-made panic message
    /// with the command line, the exit status and the node's stderr.
    fn try_spawn(data_dir: &Path, port: &str, extra_args: Vec<String>) -> Result<TestNode, String> {
        TestNode::try_spawn_from(Some(data_dir), None, port, extra_args, Some(TEST_RUST_LOG))
    }

    /// Starts the binary in `working_dir` (or ours) with `--data-dir` when one is given; a
    /// node without one uses `data/<port>` under its working directory (SPEC §2).
    /// `rust_log`: its `RUST_LOG`, or `None` to unset it.
    fn try_spawn_from(
        data_dir: Option<&Path>,
        working_dir: Option<&Path>,
        port: &str,
        extra_args: Vec<String>,
        rust_log: Option<&str>,
    ) -> Result<TestNode, String> {
        TestNode::try_spawn_via(&[], data_dir, working_dir, port, extra_args, rust_log)
    }

    /// [`TestNode::try_spawn_from`] under `launcher` (empty: the binary itself).
    fn try_spawn_via(
        launcher: &[String],
        data_dir: Option<&Path>,
        working_dir: Option<&Path>,
        port: &str,
        extra_args: Vec<String>,
        rust_log: Option<&str>,
    ) -> Result<TestNode, String> {
        let mut args: Vec<String> = vec!["--port".into(), port.into()];
        if let Some(data_dir) = data_dir {
            args.extend(["--data-dir".to_string(), data_dir.display().to_string()]);
        }
        // A test that needs another difficulty passes its own; flags are given once each.
        if !extra_args.iter().any(|a| a == "--difficulty") {
            args.extend(["--difficulty".to_string(), TEST_DIFFICULTY.to_string()]);
        }
        // A height-5 wallet key is made in milliseconds even in a debug build.
        if !extra_args.iter().any(|a| a == "--wallet-height") {
            args.extend([
                "--wallet-height".to_string(),
                TEST_WALLET_HEIGHT.to_string(),
            ]);
        }
        args.extend(extra_args.iter().cloned());
        let mut command_line = format!("{} {}", binary(), args.join(" "));
        let mut command = match launcher.split_first() {
            Some((program, launcher_args)) => {
                command_line = format!("{} {command_line}", launcher.join(" "));
                let mut command = Command::new(program);
                command.args(launcher_args).arg(binary());
                command
            }
            None => Command::new(binary()),
        };
        command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(working_dir) = working_dir {
            command.current_dir(working_dir);
        }
        match rust_log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if !launcher.is_empty() => {
                return Err(format!("cannot spawn {command_line}: {e}"));
            }
            Err(e) => panic!("cannot spawn {command_line}: {e}"),
        };

        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_done = drain(
            child.stderr.take().expect("stderr is piped"),
            stderr.clone(),
        );

        let (first_line_tx, first_line_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = first_line_tx.send(line);
            // Keep draining so the node never blocks writing to stdout.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });

        let fail = |mut child: Child, why: String| -> Result<TestNode, String> {
            let status = wait_for_exit(&mut child, Duration::from_secs(2));
            let _ = child.kill();
            let _ = child.wait();
            let _ = stderr_done.join(); // the pipe closes once the process is gone
            let err = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
            Err(format!(
                "node did not start: {why}\ncommand: {command_line}\nexit status: {}\nstderr:\n{}",
                status.map_or("still running (killed)".to_string(), |s| s.to_string()),
                tail(&err, 4000)
            ))
        };

        let line = match first_line_rx.recv_timeout(START_DEADLINE) {
            Ok(line) => line,
            Err(_) => {
                return fail(
                    child,
                    format!("no line on stdout within {START_DEADLINE:?}"),
                );
            }
        };
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            return fail(
                child,
                format!("first stdout line {line:?} is not `listening on http://127.0.0.1:PORT`"),
            );
        };
        let url = url.trim_end_matches('/').to_string();
        let bound_port = match url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()) {
            Some(bound) if bound != 0 => bound,
            _ => return fail(child, format!("no port in the first stdout line {line:?}")),
        };
        if port != "0" && port != bound_port.to_string() {
            return fail(
                child,
                format!("asked for port {port}, listening on {bound_port}"),
            );
        }
        Ok(TestNode {
            child,
            url,
            port: bound_port,
            data_dir: match data_dir {
                Some(data_dir) => data_dir.to_path_buf(),
                None => working_dir
                    .map_or_else(|| std::env::current_dir().unwrap(), Path::to_path_buf)
                    .join("data")
                    .join(bound_port.to_string()),
            },
            extra_args,
            stderr,
            command_line,
            owns_dir: false,
            rust_log: rust_log.map(str::to_string),
            launcher: launcher.to_vec(),
        })
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir && !thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// The outcome of a node that was expected not to start.
pub struct FailedStart {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub command_line: String,
}

/// Runs the binary with exactly `args` and waits (with a deadline) for it to exit. Panics if
/// it is still running at the deadline, e.g. because it started serving.
pub fn run_to_exit(args: &[&str]) -> FailedStart {
    let command_line = format!("{} {}", binary(), args.join(" "));
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {command_line}: {e}"));
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let stdout_done = drain(child.stdout.take().unwrap(), stdout.clone());
    let stderr_done = drain(child.stderr.take().unwrap(), stderr.clone());
    let status = wait_for_exit(&mut child, START_DEADLINE);
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "expected `{command_line}` to exit, but it was still running after {START_DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&stdout.lock().unwrap()),
            tail(&String::from_utf8_lossy(&stderr.lock().unwrap()), 4000)
        );
    };
    let _ = stdout_done.join();
    let _ = stderr_done.join();
    let stdout = String::from_utf8_lossy(&stdout.lock().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
    FailedStart {
        status,
        stdout,
        stderr,
        command_line,
    }
}

/// Starts a node on `data_dir` (port 0, test difficulty, `extra_args`) and expects it to
/// refuse to start: it must exit with a non-zero status within the deadline.
pub fn start_expecting_failure(data_dir: &Path, extra_args: &[&str]) -> FailedStart {
    let dir = data_dir.display().to_string();
    let mut args = vec![
        "--port",
        "0",
        "--data-dir",
        &dir,
        "--difficulty",
        TEST_DIFFICULTY,
    ];
    args.extend_from_slice(extra_args);
    let outcome = run_to_exit(&args);
    assert!(
        !outcome.status.success(),
        "expected `{}` to fail, but it exited with {}\nstdout:\n{}\nstderr:\n{}",
        outcome.command_line,
        outcome.status,
        outcome.stdout,
        outcome.stderr
    );
    outcome
}

/// Sends one HTTP request with a total time limit; any answer, whatever its status, is Ok.
pub fn send(
    method: &str,
    url: &str,
    body: Option<Vec<u8>>,
    content_type: Option<&str>,
    timeout: Duration,
) -> Result<Reply, attohttpc::Error> {
    let method: attohttpc::Method = method.parse().expect("a valid HTTP method");
    let mut builder = attohttpc::RequestBuilder::new(method, url)
        .timeout(timeout)
        .proxy_settings(attohttpc::ProxySettings::builder().build())
        .follow_redirects(false);
    if let Some(content_type) = content_type {
        builder = builder.header("Content-Type", content_type);
    }
    let response = match body {
        // `bytes` adds application/octet-stream only when no Content-Type was set; to send
        // none at all, remove it again.
        Some(body) => {
            let mut builder = builder.bytes(body);
            if content_type.is_none() {
                builder.headers_mut().remove("Content-Type");
            }
            builder.send()?
        }
        None => builder.send()?,
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let declared = response
        .headers()
        .get("Content-Length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = response.bytes()?;
    // A body cut short (the node died mid-answer) is no answer, as for any HTTP client.
    if declared.is_some_and(|length| body.len() < length) {
        return Err(attohttpc::Error::from(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the answer ended before its Content-Length",
        )));
    }
    Ok(Reply {
        status,
        content_type,
        body,
    })
}

/// This machine's address as another machine on its network would reach it: the source
/// address the system picks for an outside destination. Choosing it sends no packet (a
/// UDP `connect` only looks up the route); traffic then goes to this machine only.
pub fn lan_address() -> Option<IpAddr> {
    for probe in ["198.51.100.1:9", "10.255.255.1:9", "192.0.2.1:9"] {
        let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
        if socket.connect(probe).is_ok()
            && let Ok(local) = socket.local_addr()
            && !local.ip().is_loopback()
            && !local.ip().is_unspecified()
        {
            return Some(local.ip());
        }
    }
    None
}

/// The LAN address, or `None` with a note (a machine with no network at all); on CI the
/// test must run, so there it fails instead.
pub fn lan_or_skip(test: &str) -> Option<IpAddr> {
    let address = lan_address();
    if address.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "{test}: this machine has no non-loopback address to test from"
        );
        println!("note: {test} skipped: this machine has no non-loopback address");
    }
    address
}

/// Calls `check` until it returns true or `deadline` passes; returns whether it did.
pub fn wait_until(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(25));
    }
}

/// Polls the child until it exits or `deadline` passes.
fn wait_for_exit(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + deadline;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= end {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Copies a pipe into `sink` until it closes.
fn drain(
    mut pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// The last `max` bytes of a long log, cut on a character boundary.
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

// ---------------------------------------------------------------------------------------
// SPEC §3, implemented again here so the tests check the node against the rules, not
// against itself. `hashing_helpers_match_known_vectors` in api.rs pins these to
// vectors.json.

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|_| panic!("not hex: {hex:?}"))
        })
        .collect()
}

/// A 64-hex-character hash as 32 bytes.
pub fn hash32(hex: &str) -> [u8; 32] {
    let bytes = from_hex(hex);
    bytes
        .try_into()
        .unwrap_or_else(|_| panic!("{hex:?} is not 32 bytes of hex"))
}

/// The bytes a transaction id hashes: lengths as u32 LE, amount and timestamp as u64 LE.
pub fn tx_preimage(sender: &str, recipient: &str, amount: u64, timestamp: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&(sender.len() as u32).to_le_bytes());
    bytes.extend_from_slice(sender.as_bytes());
    bytes.extend_from_slice(&(recipient.len() as u32).to_le_bytes());
    bytes.extend_from_slice(recipient.as_bytes());
    bytes.extend_from_slice(&amount.to_le_bytes());
    bytes.extend_from_slice(&timestamp.to_le_bytes());
    bytes
}

pub fn tx_id(sender: &str, recipient: &str, amount: u64, timestamp: u64) -> String {
    to_hex(&sha256(&tx_preimage(sender, recipient, amount, timestamp)))
}

/// The id a transaction in JSON should carry, computed from its other fields.
pub fn tx_id_of(tx: &Value) -> String {
    tx_id(
        tx["sender"]
            .as_str()
            .unwrap_or_else(|| panic!("no sender in {tx}")),
        tx["recipient"]
            .as_str()
            .unwrap_or_else(|| panic!("no recipient in {tx}")),
        tx["amount"]
            .as_u64()
            .unwrap_or_else(|| panic!("no integer amount in {tx}")),
        tx["timestamp"]
            .as_u64()
            .unwrap_or_else(|| panic!("no integer timestamp in {tx}")),
    )
}

/// Merkle root over hex ids: pairs hashed level by level, an odd last one paired with itself.
pub fn merkle_root(ids: &[String]) -> String {
    if ids.is_empty() {
        return to_hex(&[0u8; 32]);
    }
    let mut level: Vec<[u8; 32]> = ids.iter().map(|id| hash32(id)).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| {
                let right = if pair.len() == 2 { pair[1] } else { pair[0] };
                let mut both = pair[0].to_vec();
                both.extend_from_slice(&right);
                sha256(&both)
            })
            .collect();
    }
    to_hex(&level[0])
}

/// 8 + 8 + 32 + 32 + 4 + 8 = 92 bytes: index, timestamp, parent, merkle root, difficulty, proof.
pub fn header_bytes(
    index: u64,
    timestamp: u64,
    previous_hash: &str,
    merkle_root: &str,
    difficulty: u32,
    proof: u64,
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(92);
    bytes.extend_from_slice(&index.to_le_bytes());
    bytes.extend_from_slice(&timestamp.to_le_bytes());
    bytes.extend_from_slice(&hash32(previous_hash));
    bytes.extend_from_slice(&hash32(merkle_root));
    bytes.extend_from_slice(&difficulty.to_le_bytes());
    bytes.extend_from_slice(&proof.to_le_bytes());
    assert_eq!(bytes.len(), 92);
    bytes
}

/// The hash a block in JSON should carry, computed from its header fields.
pub fn block_hash_of(block: &Value) -> String {
    let field = |name: &str| {
        block[name]
            .as_u64()
            .unwrap_or_else(|| panic!("no integer {name} in {block}"))
    };
    let text = |name: &str| {
        block[name]
            .as_str()
            .unwrap_or_else(|| panic!("no string {name} in {block}"))
    };
    to_hex(&sha256(&header_bytes(
        field("index"),
        field("timestamp"),
        text("previous_hash"),
        text("merkle_root"),
        field("difficulty") as u32,
        field("proof"),
    )))
}

/// Leading zero bits of a hash read as a big-endian 256-bit number.
pub fn leading_zero_bits(hash_hex: &str) -> u32 {
    let mut bits = 0;
    for byte in hash32(hash_hex) {
        if byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Checks everything SPEC §3-4 lets a client re-check about one block on its own: hash,
/// proof of work, merkle root and every transaction id. Panics with the block on failure.
pub fn assert_block_is_sound(block: &Value, difficulty: u32) {
    let hash = block["hash"]
        .as_str()
        .unwrap_or_else(|| panic!("no hash in {block}"));
    assert_eq!(
        block_hash_of(block),
        hash,
        "block hash is not the header's hash: {block}"
    );
    assert!(
        leading_zero_bits(hash) >= difficulty,
        "block hash {hash} has fewer than {difficulty} leading zero bits: {block}"
    );
    let transactions = block["transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transactions in {block}"));
    let ids: Vec<String> = transactions
        .iter()
        .map(|tx| {
            let id = tx["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id in {tx}"))
                .to_string();
            assert_eq!(
                tx_id_of(tx),
                id,
                "transaction id does not match its fields: {tx}"
            );
            id
        })
        .collect();
    assert_eq!(
        block["merkle_root"].as_str(),
        Some(merkle_root(&ids).as_str()),
        "merkle root does not match the transactions: {block}"
    );
}

/// Field names of a JSON object, sorted, for comparing shapes.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Asserts an error answer: the given status and `{"error": "<non-empty reason>"}`.
pub fn assert_error(what: &str, got: &(u16, Value), status: u16) {
    let (got_status, body) = got;
    assert_eq!(
        *got_status, status,
        "{what}: expected {status}, got {got_status}: {body}"
    );
    let reason = body["error"].as_str().unwrap_or("");
    assert!(
        !reason.trim().is_empty(),
        "{what}: error answer must be {{\"error\": \"<reason>\"}}, got {body}"
    );
}
