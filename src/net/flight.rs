//! Two small concurrency tools for peer work: [`SingleFlight`] makes concurrent callers
//! of one operation share a single run, and [`map_bounded`] asks many peers at once with
//! a bounded number of threads, keeping the answers in the order of the input.

use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Instant;

/// Most threads [`map_bounded`] starts for one call.
pub const MAX_PARALLEL: usize = 16;

/// Runs `work` on every item with at most `workers` threads at once and returns the
/// results in the order of `items`: each item's outcome is independent of the others.
pub fn map_bounded<T, R, F>(items: &[T], workers: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_bounded_until(items, workers, None, work, |_| unreachable!("no deadline"))
}

/// Like [`map_bounded`], but no item is started after `deadline`: those left get
/// `late(item)`. So however many peers hang, a caller waits about the deadline plus one
/// call's own time limit, never one limit per group of [`MAX_PARALLEL`] peers.
pub fn map_bounded_until<T, R, F, L>(
    items: &[T],
    workers: usize,
    deadline: Option<Instant>,
    work: F,
    late: L,
) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    L: Fn(&T) -> R + Sync,
{
    let in_time = || deadline.is_none_or(|deadline| Instant::now() < deadline);
    let workers = workers.clamp(1, MAX_PARALLEL).min(items.len());
    if workers <= 1 {
        return items
            .iter()
            .map(|item| if in_time() { work(item) } else { late(item) })
            .collect();
    }
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(|p| p.into_inner());
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(item) = items.get(index) else { break };
                    let result = if in_time() { work(item) } else { late(item) };
                    results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|result| result.expect("every item was worked on"))
        .collect()
}

/// Concurrent callers of [`SingleFlight::run`] share one run: the first caller runs the
/// work, the others wait for it and get a clone of its answer. A caller that arrives after
/// the run finished starts a new one.
pub struct SingleFlight<T> {
    running: Mutex<Option<Arc<Flight<T>>>>,
}

/// One run in progress: its answer once it is known.
struct Flight<T> {
    answer: Mutex<Option<T>>,
    done: Condvar,
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight {
            running: Mutex::new(None),
        }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Runs `work`, or waits for the run already under way and returns its answer.
    pub fn run(&self, work: impl FnOnce() -> T) -> T {
        let (flight, leader) = {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            match running.as_ref() {
                Some(flight) => (Arc::clone(flight), false),
                None => {
                    let flight = Arc::new(Flight {
                        answer: Mutex::new(None),
                        done: Condvar::new(),
                    });
                    *running = Some(Arc::clone(&flight));
                    (flight, true)
                }
            }
        };
        if !leader {
            let mut answer = flight.answer.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(answer) = answer.as_ref() {
                    return answer.clone();
                }
                answer = flight.done.wait(answer).unwrap_or_else(|p| p.into_inner());
            }
        }
        // Clears the slot even if `work` panics, so later callers start a fresh run.
        struct Finish<'a, T>(&'a SingleFlight<T>);
        impl<T> Drop for Finish<'_, T> {
            fn drop(&mut self) {
                *self.0.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
        }
        let finish = Finish(self);
        let answer = work();
        drop(finish);
        *flight.answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer.clone());
        flight.done.notify_all();
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    #[test]
    fn map_bounded_keeps_order_and_runs_in_parallel() {
        let items: Vec<u64> = (0..8).collect();
        let started = Instant::now();
        let out = map_bounded(&items, 8, |n| {
            thread::sleep(Duration::from_millis(100));
            n * 2
        });
        assert_eq!(out, vec![0, 2, 4, 6, 8, 10, 12, 14]);
        assert!(started.elapsed() < Duration::from_millis(600));
    }

    #[test]
    fn concurrent_callers_share_one_run() {
        let flight = SingleFlight::<usize>::default();
        let runs = AtomicUsize::new(0);
        let answers: Vec<usize> = thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        flight.run(|| {
                            thread::sleep(Duration::from_millis(200));
                            runs.fetch_add(1, Ordering::SeqCst) + 1
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let runs = runs.load(Ordering::SeqCst);
        assert!(runs < 8, "{runs} runs for 8 concurrent callers");
        assert!(answers.iter().all(|&a| a >= 1 && a <= runs));
        // A later caller starts a new run.
        assert_eq!(flight.run(|| 99), 99);
    }
}
