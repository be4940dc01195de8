//! The wall clock, read in one place: milliseconds since the Unix epoch, the unit of every
//! timestamp (SPEC §3). A leaf every floor above `core` may use; `core` itself never reads
//! the clock (callers pass `now`), so its rules stay pure.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch; 0 for a clock set before 1970.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
