//! Emulator time: `start + scaled real time + advances`, and the one place times are formatted
//! (UTC+8, as Alipay writes them).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

const UTC8: Offset = Offset::constant(8);

/// One million: time scales are stored in millionths, so `1.5` is `1_500_000`.
pub(crate) const SCALE_ONE: u64 = 1_000_000;

/// The emulator's clock, shared by every part of one emulator.
///
/// Emulator time is the start time, plus the real time elapsed since the start multiplied by
/// the time scale, plus every [`Clock::advance`]. A time scale of 600 turns Alipay's 4-minute
/// notification retry into 0.4 s of real time; a scale of 0 stops the clock so that only
/// advances move it. Timeouts, notification retries, bill URL expiry and the 5 s delay of the
/// `…0003` bar-code outcome all run on this clock.
///
/// ```
/// # use std::time::Duration;
/// let clock = alipay_emulator::Clock::frozen_at_ms(1_715_593_760_000);
/// assert_eq!(clock.format_now(), "2024-05-13 17:49:20");
/// clock.advance(Duration::from_secs(3600));
/// assert_eq!(clock.format_now(), "2024-05-13 18:49:20");
/// ```
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    origin_ms: i64,
    real_origin: Instant,
    scale_micros: u64,
    advanced_ms: AtomicI64,
}

impl Clock {
    /// A clock that starts at `origin_ms` (milliseconds since the Unix epoch) and runs
    /// `scale_micros / 1_000_000` times as fast as real time.
    pub(crate) fn new(origin_ms: i64, scale_micros: u64) -> Self {
        Clock {
            inner: Arc::new(Inner {
                origin_ms,
                real_origin: Instant::now(),
                scale_micros,
                advanced_ms: AtomicI64::new(0),
            }),
        }
    }

    /// A stopped clock at `ms` milliseconds after the Unix epoch; only [`Clock::advance`] moves
    /// it. For examples and unit tests.
    pub fn frozen_at_ms(ms: i64) -> Self {
        Self::new(ms, 0)
    }

    /// Milliseconds since the Unix epoch, emulator time.
    pub fn now_ms(&self) -> i64 {
        let real_micros = self.inner.real_origin.elapsed().as_micros();
        let scaled_ms =
            real_micros.saturating_mul(u128::from(self.inner.scale_micros)) / 1_000_000_000;
        let scaled_ms = i64::try_from(scaled_ms).unwrap_or(i64::MAX / 4);
        self.inner
            .origin_ms
            .saturating_add(scaled_ms)
            .saturating_add(self.inner.advanced_ms.load(Ordering::SeqCst))
    }

    /// Emulator time as a [`SystemTime`].
    pub fn now(&self) -> SystemTime {
        match u64::try_from(self.now_ms()) {
            Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
            Err(_) => UNIX_EPOCH,
        }
    }

    /// Emulator time as Alipay prints it: `yyyy-MM-dd HH:mm:ss` in UTC+8.
    pub fn format_now(&self) -> String {
        format_time(self.now_ms())
    }

    /// Moves emulator time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.inner.advanced_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// The time scale in millionths (`1_000_000` = real time, `0` = stopped).
    pub fn scale_micros(&self) -> u64 {
        self.inner.scale_micros
    }

    /// How long, in real time, until emulator time reaches `until_ms`; `None` when the clock
    /// is stopped (only an advance can get there).
    pub(crate) fn real_wait(&self, until_ms: i64) -> Option<Duration> {
        let delta = until_ms.saturating_sub(self.now_ms());
        if delta <= 0 {
            return Some(Duration::ZERO);
        }
        if self.inner.scale_micros == 0 {
            return None;
        }
        let delta = u128::from(delta.unsigned_abs());
        let micros = delta.saturating_mul(1_000_000_000) / u128::from(self.inner.scale_micros);
        Some(Duration::from_micros(
            u64::try_from(micros).unwrap_or(u64::MAX),
        ))
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("now", &self.format_now())
            .field("scale_micros", &self.inner.scale_micros)
            .finish()
    }
}

/// The operating system's time, in milliseconds since the Unix epoch. The one place the crate
/// reads it: when an emulator starts.
#[allow(
    clippy::disallowed_methods,
    reason = "the emulator's clock starts from the system time once; everything else reads Clock"
)]
pub(crate) fn system_now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since.as_millis()).unwrap_or(0)
}

/// Milliseconds since the epoch of a [`SystemTime`] (0 before the epoch).
pub(crate) fn system_time_ms(t: SystemTime) -> i64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_millis()).unwrap_or(0)
}

fn civil(ms: i64) -> DateTime {
    let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    UTC8.to_datetime(ts)
}

/// `yyyy-MM-dd HH:mm:ss`, UTC+8.
pub(crate) fn format_time(ms: i64) -> String {
    let t = civil(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `yyyy-MM-dd HH:mm:ss.SSS`, UTC+8 (`gmt_refund` in notifications).
pub(crate) fn format_time_millis(ms: i64) -> String {
    format!("{}.{:03}", format_time(ms), ms.rem_euclid(1000))
}

/// `yyyyMMdd`, UTC+8.
pub(crate) fn format_compact_date(ms: i64) -> String {
    let t = civil(ms);
    format!("{:04}{:02}{:02}", t.year(), t.month(), t.day())
}

/// The UTC+8 calendar date of `ms`.
pub(crate) fn date_of(ms: i64) -> Date {
    civil(ms).date()
}

/// Milliseconds at 00:00:00 UTC+8 of `date`.
pub(crate) fn start_of_day_ms(date: Date) -> i64 {
    UTC8.to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map_or(0, Timestamp::as_millisecond)
}

/// The civil time (UTC+8) of `ms`, for bills.
pub(crate) fn civil_time(ms: i64) -> DateTime {
    civil(ms)
}

/// Reads `yyyy-MM-dd HH:mm:ss` (UTC+8) strictly.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i32> {
        let part = text.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let small = |v: i32| i8::try_from(v).ok();
    let dt = DateTime::new(
        i16::try_from(num(0, 4)?).ok()?,
        small(num(5, 2)?)?,
        small(num(8, 2)?)?,
        small(num(11, 2)?)?,
        small(num(14, 2)?)?,
        small(num(17, 2)?)?,
        0,
    )
    .ok()?;
    UTC8.to_timestamp(dt).ok().map(Timestamp::as_millisecond)
}

/// Parses a time scale such as `1`, `60`, `0.5` or `600` exactly (no floating point) into
/// millionths.
pub(crate) fn parse_scale(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 6 {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac_micros: u64 = 0;
    for (i, c) in frac.bytes().enumerate() {
        let place = 10u64.pow(5 - u32::try_from(i).ok()?);
        frac_micros += u64::from(c - b'0') * place;
    }
    whole.checked_mul(SCALE_ONE)?.checked_add(frac_micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_utc8() {
        // 2024-05-13 17:49:20 UTC+8 = 09:49:20 UTC.
        let ms = 1_715_593_760_000;
        assert_eq!(format_time(ms), "2024-05-13 17:49:20");
        assert_eq!(format_time_millis(ms + 47), "2024-05-13 17:49:20.047");
        assert_eq!(format_compact_date(ms), "20240513");
        assert_eq!(parse_time("2024-05-13 17:49:20"), Some(ms));
        assert_eq!(parse_time("2024-05-13T17:49:20"), None);
        assert_eq!(parse_time("2024-13-13 17:49:20"), None);
        assert_eq!(parse_time("2024-05-13 17:49:2"), None);
        assert_eq!(start_of_day_ms(date_of(ms)), 1_715_529_600_000);
    }

    #[test]
    fn frozen_clock_moves_only_by_advances() {
        let c = Clock::frozen_at_ms(1000);
        assert_eq!(c.now_ms(), 1000);
        c.advance(Duration::from_millis(2500));
        assert_eq!(c.now_ms(), 3500);
        assert_eq!(c.real_wait(3000), Some(Duration::ZERO));
        assert_eq!(c.real_wait(5000), None);
    }

    #[test]
    fn scaled_wait() {
        let c = Clock::new(0, 600 * SCALE_ONE);
        // 4 minutes of emulator time at 600x is 0.4 s of real time (minus what already ran).
        let wait = c.real_wait(c.now_ms() + 240_000).unwrap();
        assert!(wait <= Duration::from_millis(400) && wait > Duration::from_millis(390));
    }

    #[test]
    fn scales() {
        assert_eq!(parse_scale("1"), Some(1_000_000));
        assert_eq!(parse_scale("600"), Some(600_000_000));
        assert_eq!(parse_scale("0.5"), Some(500_000));
        assert_eq!(parse_scale(".25"), Some(250_000));
        assert_eq!(parse_scale("0"), Some(0));
        assert_eq!(parse_scale("1e3"), None);
        assert_eq!(parse_scale("-1"), None);
        assert_eq!(parse_scale("0.0000001"), None);
        assert_eq!(parse_scale(""), None);
    }
}
