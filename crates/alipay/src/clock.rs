//! Time: the injected [`Clock`] and the one place timestamps are formatted (UTC+8).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::tz::Offset;

use crate::error::Error;

/// Where the client reads the time: v2 `timestamp`, v3 auth timestamps, certificate validity.
///
/// ```
/// use alipay::{Clock, FixedClock};
/// let clock = FixedClock::from_v2_timestamp("2024-05-13 17:49:20")?;
/// assert_eq!(alipay::format_v2_timestamp(clock.now()), "2024-05-13 17:49:20");
/// # Ok::<(), alipay::Error>(())
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "this is the one system clock of the workspace; everything else takes a Clock"
    )]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant (tests, and the CLI's `--timestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub SystemTime);

impl FixedClock {
    /// Reads `yyyy-MM-dd HH:mm:ss` in UTC+8, the v2 `timestamp` format.
    pub fn from_v2_timestamp(text: &str) -> Result<Self, Error> {
        parse_v2_timestamp(text).map(FixedClock)
    }

    /// At `ms` milliseconds after the Unix epoch.
    pub fn from_unix_millis(ms: u64) -> Self {
        FixedClock(UNIX_EPOCH + Duration::from_millis(ms))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

const UTC8: Offset = Offset::constant(8);
const V2_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Formats `t` as the v2 `timestamp` parameter: `yyyy-MM-dd HH:mm:ss` in UTC+8 (GMT+8, as the
/// Java SDK and the gateway read it), whatever the machine's time zone.
pub fn format_v2_timestamp(t: SystemTime) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => UTC8.to_datetime(ts).strftime(V2_FORMAT).to_string(),
        // Only times outside years -9999..=9999 fail; the epoch is as good as any there.
        Err(_) => "1970-01-01 08:00:00".to_owned(),
    }
}

/// Parses a v2 `timestamp` (`yyyy-MM-dd HH:mm:ss`, UTC+8).
pub fn parse_v2_timestamp(text: &str) -> Result<SystemTime, Error> {
    let bad = |e: jiff::Error| {
        Error::config(format!(
            "\"{text}\" is not a timestamp of the form yyyy-MM-dd HH:mm:ss (UTC+8)"
        ))
        .with_source(e)
    };
    let dt = jiff::civil::DateTime::strptime(V2_FORMAT, text).map_err(bad)?;
    let ts = UTC8.to_timestamp(dt).map_err(bad)?;
    SystemTime::try_from(ts).map_err(bad)
}

/// Milliseconds since the Unix epoch (the v3 auth `timestamp`); 0 before 1970.
pub(crate) fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc8_formatting_and_parsing() {
        // 2024-05-13T09:49:20Z is 17:49:20 in UTC+8.
        let t = UNIX_EPOCH + Duration::from_secs(1_715_593_760);
        assert_eq!(format_v2_timestamp(t), "2024-05-13 17:49:20");
        assert_eq!(parse_v2_timestamp("2024-05-13 17:49:20").unwrap(), t);
        assert_eq!(unix_millis(t), 1_715_593_760_000);
        let err = parse_v2_timestamp("2024-05-13T17:49:20").unwrap_err();
        assert!(err.is_config());
        assert_eq!(
            err.to_string(),
            "\"2024-05-13T17:49:20\" is not a timestamp of the form yyyy-MM-dd HH:mm:ss (UTC+8)"
        );
        // Midnight rollover: 2023-12-31T16:00:00Z is 2024-01-01 00:00:00 in UTC+8.
        let t = parse_v2_timestamp("2024-01-01 00:00:00").unwrap();
        assert_eq!(unix_millis(t), 1_704_038_400_000);
        assert_eq!(
            format_v2_timestamp(FixedClock(t).now()),
            "2024-01-01 00:00:00"
        );
    }
}
