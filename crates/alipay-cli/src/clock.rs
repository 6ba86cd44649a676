//! The CLI's one system clock.

use std::time::SystemTime;

/// The current time, for `cert verify-chain` without `--at`. Nothing else reads the clock.
#[allow(clippy::disallowed_methods)] // the CLI's one system clock
pub(crate) fn system_now() -> SystemTime {
    SystemTime::now()
}
