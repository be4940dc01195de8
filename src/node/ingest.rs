//! Group commit of admitted transactions (issue 8): concurrent admissions share one write
//! and one fsync, and the chain mutex is never held while the disk works.
//!
//! How an admission goes:
//! 1. Under the chain mutex, `Node::add_transaction` validates the transaction, appends it to
//!    the in-memory pool and to the **queue** ([`Ingest::enqueue`]), and lets go of the mutex.
//! 2. The commit thread ([`run_commits`]) takes the whole queue as one batch, writes it as one
//!    pool log file (fsync'd, [`PoolLog::append`]) holding only the log lock, and answers every
//!    request of the batch. The HTTP answer (201) is sent only then.
//! 3. If the write fails, the batch's transactions leave the pool again, and so does every
//!    queued transaction that no longer fits without them (it spent coins they brought):
//!    the pool is rebuilt without the batch, under the chain mutex. Each of those requests is
//!    answered with the storage error (500). Nothing acknowledged is touched: batches are
//!    written in order, so everything before a failed batch is on disk and nothing after it
//!    has been answered.
//!
//! **Invariants.**
//! - The queue holds the pool's not-yet-durable transactions, in pool order: they are the
//!   pool's last entries. Lock order is chain → log → queue, so a batch taken for writing
//!   (under the log lock) is always the oldest unwritten one.
//! - A change that rewrites the pool base (mining, a chain switch, restart) first calls
//!   [`Ingest::flush`] with the chain mutex held: it waits for the batch being written,
//!   finishes a failed batch's rollback, and writes what is queued, keeping the log lock for
//!   the caller's own write. So a mined block only holds transactions already durable in the
//!   pool files and answered 201 (a 201 can never turn into a 500 for a transaction in a
//!   block), and a compaction never writes a transaction whose request may still fail.
//! - Reads (`/chain`, `/pool`, `/balances`) take only the chain mutex, which no fsync of an
//!   admission holds; `/pool` may list a transaction whose write is still under way.

use super::{Node, NodeError, State};
use crate::core::block::Transaction;
use crate::core::hash::TxId;
use crate::core::pool::Pool;
use crate::store::StoreError;
use crate::store::pool_log::PoolLog;
use log::{error, warn};
use std::collections::HashSet;
use std::io;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

/// Longest a batch waits for more requests to join it (see [`run_commits`]).
const MAX_GATHER: Duration = Duration::from_millis(1);

/// The group-commit machinery of one node.
pub(super) struct Ingest {
    /// The pool's files, and a failed batch whose rollback is still to be done. Held while a
    /// batch is written; taken after the chain mutex, never before it.
    log: Mutex<LogState>,
    /// Admitted transactions not yet taken for writing, oldest first.
    queue: Mutex<Vec<Waiting>>,
    /// Wakes the commit thread when the queue gets an entry.
    wake: Condvar,
}

/// What the log lock guards.
pub(super) struct LogState {
    /// The pool's log files; compacted through this by whoever holds the lock.
    pub(super) log: PoolLog,
    /// A batch whose write failed, until its transactions have left the pool.
    failed: Option<Failed>,
}

/// A request waiting for its batch to be durable.
pub(super) struct Ticket(mpsc::Receiver<Result<(), NodeError>>);

struct Waiting {
    tx: Transaction,
    reply: mpsc::SyncSender<Result<(), NodeError>>,
}

struct Failed {
    batch: Vec<Waiting>,
    error: StoreError,
}

impl Ticket {
    /// Blocks until the transaction is durable (Ok) or was rolled back (the reason).
    pub(super) fn wait(self) -> Result<(), NodeError> {
        self.0.recv().unwrap_or_else(|_| {
            Err(NodeError::Store(StoreError::Io {
                path: PathBuf::new(),
                source: io::Error::other(
                    "the pool's commit thread stopped; the transaction was not admitted",
                ),
            }))
        })
    }
}

impl Ingest {
    /// Group commit over the pool's files as loaded at start-up.
    pub(super) fn new(log: PoolLog) -> Ingest {
        Ingest {
            log: Mutex::new(LogState { log, failed: None }),
            queue: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        }
    }

    /// Queues `tx`, just appended to the pool; the caller holds the chain mutex, so the
    /// queue is in pool order. Wait on the ticket after letting go of the mutex.
    pub(super) fn enqueue(&self, tx: Transaction) -> Ticket {
        let (reply, receiver) = mpsc::sync_channel(1);
        lock(&self.queue).push(Waiting { tx, reply });
        self.wake.notify_one();
        Ticket(receiver)
    }

    /// With the chain mutex held (`state`): makes the pool on disk equal to the pool in
    /// memory — waits for the batch being written, rolls back a failed one, writes the queue
    /// (rolling it back if that fails) — and returns the log lock, so that nothing is
    /// appended until the caller's own change is written.
    pub(super) fn flush<'a>(&'a self, state: &mut State) -> MutexGuard<'a, LogState> {
        let mut log = lock(&self.log);
        if let Some(failed) = log.failed.take() {
            self.roll_back(state, failed);
        }
        let batch = std::mem::take(&mut *lock(&self.queue));
        if !batch.is_empty()
            && let Err(failed) = write(&mut log.log, batch)
        {
            self.roll_back(state, failed);
        }
        log
    }

    /// Takes a failed batch out of the pool, then every queued transaction that no longer
    /// fits without it, answering each with the error.
    fn roll_back(&self, state: &mut State, failed: Failed) {
        let Failed { batch, error } = failed;
        let ids: HashSet<TxId> = batch.iter().map(|waiting| waiting.tx.id).collect();
        let candidates: Vec<Transaction> = state
            .pool
            .transactions()
            .iter()
            .filter(|tx| !ids.contains(&tx.id))
            .cloned()
            .collect();
        let (pool, dropped) = Pool::rebuild(state.chain.ledger(), candidates);
        state.pool = pool;
        let dropped: HashSet<TxId> = dropped.iter().map(|(tx, _)| tx.id).collect();
        error!(
            "could not save {} pooled transactions ({error}); they and {} queued after them that spent from them were rolled back",
            batch.len(),
            dropped.len()
        );
        for waiting in batch {
            let reason = "the transaction was not admitted; send it again";
            let _ = waiting.reply.send(Err(storage_error(&error, reason)));
        }
        lock(&self.queue).retain(|waiting| {
            if !dropped.contains(&waiting.tx.id) {
                return true;
            }
            let reason = "the transaction was not admitted: it spends coins from a transaction that could not be saved; send both again";
            let _ = waiting.reply.send(Err(storage_error(&error, reason)));
            false
        });
    }
}

/// The commit thread: writes the queue batch by batch until the process ends.
///
/// The clients answered by one batch usually send their next request at once; a batch
/// taken the moment the previous one is answered would hold only the first of them, and
/// the rest would wait a whole write. So the thread gathers until as many requests as the
/// last batch held are queued, for at most half the last write's time (and
/// [`MAX_GATHER`]): one client never waits, many share each write.
pub(super) fn run_commits(node: Node) {
    let ingest = &node.shared.ingest;
    let mut last_batch = 1;
    let mut last_write = Duration::ZERO;
    loop {
        {
            let mut queue = lock(&ingest.queue);
            while queue.is_empty() {
                queue = ingest
                    .wake
                    .wait(queue)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            let deadline = Instant::now() + (last_write / 2).min(MAX_GATHER);
            while queue.len() < last_batch {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                queue = ingest
                    .wake
                    .wait_timeout(queue, deadline - now)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0;
            }
        }
        let mut log = lock(&ingest.log);
        let batch = std::mem::take(&mut *lock(&ingest.queue));
        if batch.is_empty() {
            continue; // a flush wrote it
        }
        last_batch = batch.len();
        let started = Instant::now();
        let written = write(&mut log.log, batch);
        last_write = started.elapsed();
        match written {
            Ok(()) => {
                if let Err(error) = log.log.merge_if_due() {
                    warn!("could not merge pool log files (they stay as they are): {error}");
                }
            }
            Err(failed) => {
                // The rollback needs the chain mutex, which comes before the log lock.
                log.failed = Some(failed);
                drop(log);
                let mut state = node.lock();
                let mut log = lock(&ingest.log);
                if let Some(failed) = log.failed.take() {
                    ingest.roll_back(&mut state, failed);
                }
            }
        }
    }
}

/// Writes one batch durably and answers its requests; on failure hands the batch back.
fn write(log: &mut PoolLog, batch: Vec<Waiting>) -> Result<(), Failed> {
    let transactions: Vec<&Transaction> = batch.iter().map(|waiting| &waiting.tx).collect();
    match log.append(&transactions) {
        Ok(()) => {
            for waiting in batch {
                let _ = waiting.reply.send(Ok(()));
            }
            Ok(())
        }
        Err(error) => Err(Failed { batch, error }),
    }
}

/// The storage error of a failed batch, for one of its requests.
fn storage_error(error: &StoreError, outcome: &str) -> NodeError {
    let (path, kind, text) = match error {
        StoreError::Io { path, source } => (path.clone(), source.kind(), source.to_string()),
        other => (PathBuf::new(), io::ErrorKind::Other, other.to_string()),
    };
    NodeError::Store(StoreError::Io {
        path,
        source: io::Error::new(kind, format!("{text}; {outcome}")),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; should it, the data is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{Identity, NodeError};
    use crate::wire::protocol::NewTransaction;

    fn node_in(name: &str) -> (Node, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("minichain-ingest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let identity = |node_id| Identity {
            url: crate::wire::address::own_url("127.0.0.1", 1),
            bound_host: "127.0.0.1".into(),
            advertise: None,
            port: 1,
            node_id,
            miner: Some("alice".into()),
            wallet_height: 5,
            threads: 1,
            pool_max: 100,
        };
        let node = Node::start(&dir, 8, 50, identity).unwrap();
        (node, dir)
    }

    /// A client's payment, the node picking its timestamp.
    fn pay(node: &Node, request: NewTransaction) {
        node.new_transaction(request, || Ok::<(), NodeError>(()))
            .unwrap();
    }

    fn payment(sender: &str, recipient: &str, amount: u64) -> NewTransaction {
        NewTransaction {
            sender: Some(sender.into()),
            recipient: recipient.into(),
            amount,
            timestamp: None,
            id: None,
            signature: None,
        }
    }

    #[test]
    fn a_failed_batch_takes_the_queued_transactions_that_spend_from_it() {
        let (node, dir) = node_in("dependents");
        node.mine().unwrap();
        pay(&node, payment("alice", "zed", 1));
        let ingest = &node.shared.ingest;
        // A directory where the next log file goes: the rename fails, even for root.
        let obstacle = lock(&ingest.log).log.next_file_path();
        std::fs::create_dir_all(obstacle.join("x")).unwrap();

        let mut state = node.lock();
        let ledger = state.chain.ledger().clone();
        let to_bob = Transaction::new("alice", "bob", 10, 1);
        state.pool.admit(&ledger, to_bob).unwrap();
        let first = ingest.enqueue(Transaction::new("alice", "bob", 10, 1));
        // The commit thread takes the batch and fails; its rollback then waits for the chain
        // mutex, which this test holds while bob spends what the failed batch gave him.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lock(&ingest.queue).is_empty() {
            assert!(Instant::now() < deadline, "the commit thread took nothing");
            std::thread::sleep(Duration::from_millis(1));
        }
        let from_bob = Transaction::new("bob", "carol", 5, 2);
        state.pool.admit(&ledger, from_bob.clone()).unwrap();
        let second = ingest.enqueue(from_bob);
        drop(state);

        let first = first.wait().unwrap_err().to_string();
        assert!(first.contains("not admitted"), "{first}");
        let second = second.wait().unwrap_err().to_string();
        assert!(second.contains("spends coins"), "{second}");
        assert_eq!(
            node.pool().len(),
            1,
            "only the payment made before the failure"
        );

        std::fs::remove_dir_all(&obstacle).unwrap();
        pay(&node, payment("alice", "bob", 10));
        pay(&node, payment("bob", "carol", 5));
        assert_eq!(node.pool().len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
