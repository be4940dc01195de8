//! The log line of an admitted payment: `127.0.0.1:50412 paid: 763e1783…30c00e -> alice,
//! 20 coins (id 1a2b3c4d…)`. A payment is the news a person watches for, so it names
//! sender, recipient and amount at the default level; but a script posting a thousand a
//! second must not flood the terminal, so past [`SHOWN_PER_SECOND`] in one second the rest
//! are counted and told in one summary line when that second is over.

use crate::clock::now_ms;
use crate::core::block::Transaction;
use crate::http::brief::short_key;
use log::{debug, info};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

/// Payments logged one by one in a second; the rest of that second share one line.
pub const SHOWN_PER_SECOND: u32 = 3;

/// The process's payment log: the second being counted, shared by the HTTP threads.
static WINDOW: Mutex<Window> = Mutex::new(Window::new());

/// Logs the payment `transaction` that `client` had admitted (or counts it, past the
/// first few of this second).
pub fn admitted(client: &SocketAddr, transaction: &Transaction) {
    let now = now_ms();
    let line = format!(
        "{client} paid: {} -> {}, {} (id {}…)",
        short_key(&transaction.sender),
        short_key(&transaction.recipient),
        coins(transaction.amount),
        &transaction.id.to_string()[..8]
    );
    let (lines, start_flusher) = {
        let mut window = WINDOW
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        window.admit(now, line.clone(), transaction.amount)
    };
    if !lines.contains(&line) {
        debug!("{line}");
    }
    for line in lines {
        info!("{line}");
    }
    if let Some(second) = start_flusher {
        // Tells the counted rest once this second is over, even if no payment follows.
        let wait = Duration::from_millis((second + 1) * 1000 - now.min((second + 1) * 1000));
        std::thread::spawn(move || {
            std::thread::sleep(wait);
            let summary = WINDOW
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .flush(second);
            if let Some(summary) = summary {
                info!("{summary}");
            }
        });
    }
}

/// `1 coin`, `20 coins`.
fn coins(amount: u64) -> String {
    if amount == 1 {
        "1 coin".to_string()
    } else {
        format!("{amount} coins")
    }
}

/// One second of payments: how many were shown, and what was only counted.
#[derive(Debug)]
struct Window {
    /// The second (since the Unix epoch) being counted.
    second: u64,
    /// Payments of this second logged one by one.
    shown: u32,
    /// Payments of this second only counted, and their coins.
    hidden: u64,
    hidden_coins: u64,
}

impl Window {
    const fn new() -> Window {
        Window {
            second: 0,
            shown: 0,
            hidden: 0,
            hidden_coins: 0,
        }
    }

    /// A payment at `now_ms`: the lines to log now (an earlier second's summary, this
    /// payment's line), and the second whose summary a flusher must tell later, when this
    /// payment is the first one counted in it.
    fn admit(&mut self, now_ms: u64, line: String, amount: u64) -> (Vec<String>, Option<u64>) {
        let second = now_ms / 1000;
        let mut lines = Vec::new();
        if second != self.second {
            lines.extend(self.flush(self.second));
            self.second = second;
            self.shown = 0;
        }
        if self.shown < SHOWN_PER_SECOND {
            self.shown += 1;
            lines.push(line);
            return (lines, None);
        }
        self.hidden += 1;
        self.hidden_coins = self.hidden_coins.saturating_add(amount);
        (lines, (self.hidden == 1).then_some(second))
    }

    /// The summary of `second`'s counted payments, once; `None` when there is none (or it
    /// was told already).
    fn flush(&mut self, second: u64) -> Option<String> {
        if second != self.second || self.hidden == 0 {
            return None;
        }
        let (h, m, s) = (second / 3600 % 24, second / 60 % 60, second % 60);
        let summary = format!(
            "{} more payment{} at {h:02}:{m:02}:{s:02}, {} in all (RUST_LOG=debug lists each)",
            self.hidden,
            if self.hidden == 1 { "" } else { "s" },
            coins(self.hidden_coins)
        );
        self.hidden = 0;
        self.hidden_coins = 0;
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_few_of_a_second_are_shown_and_the_rest_told_in_one_line() {
        let mut window = Window::new();
        let mut shown = Vec::new();
        let mut flushers = Vec::new();
        for i in 0..10 {
            let (lines, flusher) = window.admit(5_000 + i, format!("payment {i}"), 2);
            shown.extend(lines);
            flushers.extend(flusher);
        }
        assert_eq!(shown, ["payment 0", "payment 1", "payment 2"]);
        assert_eq!(flushers, [5], "one flusher for the second");
        assert_eq!(
            window.flush(5).as_deref(),
            Some("7 more payments at 00:00:05, 14 coins in all (RUST_LOG=debug lists each)")
        );
        assert_eq!(window.flush(5), None, "told once");
    }

    #[test]
    fn a_new_second_tells_the_last_one_first_and_starts_again() {
        let mut window = Window::new();
        for i in 0..5 {
            window.admit(1_000 + i, format!("p{i}"), 1);
        }
        let (lines, flusher) = window.admit(2_500, "next".into(), 1);
        assert_eq!(
            lines,
            [
                "2 more payments at 00:00:01, 2 coins in all (RUST_LOG=debug lists each)",
                "next"
            ]
        );
        assert_eq!(flusher, None);
        assert_eq!(window.flush(1), None, "the late flusher finds nothing");
    }

    #[test]
    fn amounts_read_as_coins() {
        assert_eq!(coins(1), "1 coin");
        assert_eq!(coins(20), "20 coins");
    }
}
