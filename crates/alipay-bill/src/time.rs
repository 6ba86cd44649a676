//! Times and dates as bills print them.

use core::fmt;
use core::str::FromStr;

use jiff::ToSpan;
use jiff::civil::{Date, DateTime};

use crate::error::Error;

/// Parses `yyyy-MM-dd HH:mm:ss` (the time cells of every table).
pub(crate) fn parse_cell_time(text: &[u8]) -> Option<DateTime> {
    if text.len() != 19 || text[4] != b'-' || text[7] != b'-' || text[10] != b' ' {
        return None;
    }
    if text[13] != b':' || text[16] != b':' {
        return None;
    }
    let year = digits(text, 0, 4)?;
    let month = digits(text, 5, 2)?;
    let day = digits(text, 8, 2)?;
    let hour = digits(text, 11, 2)?;
    let minute = digits(text, 14, 2)?;
    let second = digits(text, 17, 2)?;
    civil(year, month, day, hour, minute, second)
}

/// Parses `yyyy年MM月dd日 HH:mm:ss` (header and footer times, without the brackets).
pub(crate) fn parse_chinese_time(text: &str) -> Option<DateTime> {
    let (year, rest) = text.split_once('年')?;
    let (month, rest) = rest.split_once('月')?;
    let (day, clock) = rest.split_once("日 ")?;
    let mut parts = clock.split(':');
    let hour = parts.next()?;
    let minute = parts.next()?;
    let second = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let num = |s: &str, len: usize| {
        let b = s.as_bytes();
        if b.len() == len {
            digits(b, 0, len)
        } else {
            None
        }
    };
    civil(
        num(year, 4)?,
        num(month, 2)?,
        num(day, 2)?,
        num(hour, 2)?,
        num(minute, 2)?,
        num(second, 2)?,
    )
}

fn digits(text: &[u8], at: usize, len: usize) -> Option<u16> {
    let mut value: u16 = 0;
    for &b in text.get(at..at + len)? {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u16::from(b - b'0');
    }
    Some(value)
}

fn civil(year: u16, month: u16, day: u16, hour: u16, minute: u16, second: u16) -> Option<DateTime> {
    let small = |v: u16| i8::try_from(v).ok();
    DateTime::new(
        i16::try_from(year).ok()?,
        small(month)?,
        small(day)?,
        small(hour)?,
        small(minute)?,
        small(second)?,
        0,
    )
    .ok()
}

/// `yyyy-MM-dd HH:mm:ss`.
pub(crate) struct CellTime(pub(crate) DateTime);

impl fmt::Display for CellTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// `yyyy年MM月dd日 HH:mm:ss`.
pub(crate) struct ChineseTime(pub(crate) DateTime);

impl fmt::Display for ChineseTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}年{:02}月{:02}日 {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// The day or month a bill covers: `bill_date` of `alipay.data.dataservice.bill.downloadurl.query`.
///
/// ```
/// use alipay_bill::BillDate;
/// let day: BillDate = "2019-09-16".parse().unwrap();
/// let month: BillDate = "2019-09".parse().unwrap();
/// assert_eq!(day.compact(), "20190916");
/// assert_eq!(month.compact(), "201909");
/// assert_eq!(month.to_string(), "2019-09");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BillDate {
    /// A daily bill (`yyyy-MM-dd`).
    Day(Date),
    /// A monthly bill (`yyyy-MM`); the date is the first of the month.
    Month(Date),
}

impl BillDate {
    /// The daily bill of `date`.
    #[must_use]
    pub fn day(date: Date) -> Self {
        Self::Day(date)
    }

    /// The monthly bill of the month holding `date`.
    #[must_use]
    pub fn month(date: Date) -> Self {
        Self::Month(date.first_of_month())
    }

    /// The first day covered.
    #[must_use]
    pub fn start(self) -> Date {
        match self {
            Self::Day(d) | Self::Month(d) => d,
        }
    }

    /// The start and (exclusive) end of the bill's period, as its header prints them.
    ///
    /// # Errors
    /// At the end of the supported calendar (year 9999).
    pub fn period(self) -> Result<Period, Error> {
        let start = self.start();
        let end = match self {
            Self::Day(d) => d.tomorrow(),
            Self::Month(d) => d.checked_add(1.month()),
        }
        .map_err(|_| Error::invalid(format!("the period of {self}")))?;
        Ok(Period {
            start: start.to_datetime(jiff::civil::Time::midnight()),
            end: end.into(),
        })
    }

    /// `yyyyMMdd` or `yyyyMM`, as in entry and file names.
    #[must_use]
    pub fn compact(self) -> String {
        match self {
            Self::Day(d) => format!("{:04}{:02}{:02}", d.year(), d.month(), d.day()),
            Self::Month(d) => format!("{:04}{:02}", d.year(), d.month()),
        }
    }
}

impl fmt::Display for BillDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Day(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            Self::Month(d) => write!(f, "{:04}-{:02}", d.year(), d.month()),
        }
    }
}

impl FromStr for BillDate {
    type Err = Error;

    /// Parses `yyyy-MM-dd` (a day) or `yyyy-MM` (a month).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let bad = || Error::value("a bill date yyyy-MM-dd or yyyy-MM", s);
        if !(b.len() == 7 || b.len() == 10) || b[4] != b'-' {
            return Err(bad());
        }
        let year = digits(b, 0, 4)
            .and_then(|y| i16::try_from(y).ok())
            .ok_or_else(bad)?;
        let month = digits(b, 5, 2)
            .and_then(|m| i8::try_from(m).ok())
            .ok_or_else(bad)?;
        if b.len() == 7 {
            return Date::new(year, month, 1)
                .map(Self::Month)
                .map_err(|_| bad());
        }
        if b[7] != b'-' {
            return Err(bad());
        }
        let day = digits(b, 8, 2)
            .and_then(|d| i8::try_from(d).ok())
            .ok_or_else(bad)?;
        Date::new(year, month, day)
            .map(Self::Day)
            .map_err(|_| bad())
    }
}

/// The 起始日期 and 终止日期 of a bill's header: the period it covers, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Period {
    /// 起始日期, e.g. 2019-09-16 00:00:00.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::time::serde_time"))]
    pub start: DateTime,
    /// 终止日期, e.g. 2019-09-17 00:00:00.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::time::serde_time"))]
    pub end: DateTime,
}

impl Period {
    /// The daily or monthly bill this period is exactly, if it is one.
    #[must_use]
    pub fn bill_date(&self) -> Option<BillDate> {
        let midnight = jiff::civil::Time::midnight();
        if self.start.time() != midnight || self.end.time() != midnight {
            return None;
        }
        let start = self.start.date();
        let end = self.end.date();
        if start.tomorrow().ok() == Some(end) {
            return Some(BillDate::Day(start));
        }
        if start.day() == 1 && start.checked_add(1.month()).ok() == Some(end) {
            return Some(BillDate::Month(start));
        }
        None
    }
}

#[cfg(feature = "serde")]
pub(crate) fn serde_time<S: serde::Serializer>(t: &DateTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&CellTime(*t))
}

#[cfg(feature = "serde")]
#[allow(
    clippy::ref_option,
    reason = "the signature serde's serialize_with requires"
)]
pub(crate) fn serde_opt_time<S: serde::Serializer>(
    t: &Option<DateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(&CellTime(*t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, datetime};

    #[test]
    fn cell_times() {
        assert_eq!(
            parse_cell_time(b"2019-09-16 10:55:16"),
            Some(datetime(2019, 9, 16, 10, 55, 16, 0))
        );
        for bad in [
            "2019-09-16 10:55",
            "2019-02-30 10:55:16",
            "2019/09/16 10:55:16",
            "2019-09-16T10:55:16",
            "２019-09-16 10:55:1",
        ] {
            assert_eq!(parse_cell_time(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(
            CellTime(datetime(2019, 9, 6, 1, 2, 3, 0)).to_string(),
            "2019-09-06 01:02:03"
        );
    }

    #[test]
    fn chinese_times() {
        let t = parse_chinese_time("2019年09月17日 05:46:49");
        assert_eq!(t, Some(datetime(2019, 9, 17, 5, 46, 49, 0)));
        assert_eq!(
            ChineseTime(datetime(2019, 9, 17, 5, 46, 49, 0)).to_string(),
            "2019年09月17日 05:46:49"
        );
        assert_eq!(parse_chinese_time("2019年9月17日 05:46:49"), None);
        assert_eq!(parse_chinese_time("2019年09月17日 05:46"), None);
    }

    #[test]
    fn bill_dates_and_periods() {
        let day: BillDate = "2019-09-16".parse().unwrap();
        assert_eq!(day, BillDate::Day(date(2019, 9, 16)));
        let p = day.period().unwrap();
        assert_eq!(
            (p.start, p.end),
            (
                datetime(2019, 9, 16, 0, 0, 0, 0),
                datetime(2019, 9, 17, 0, 0, 0, 0)
            )
        );
        assert_eq!(p.bill_date(), Some(day));

        let month: BillDate = "2019-12".parse().unwrap();
        let p = month.period().unwrap();
        assert_eq!(p.end, datetime(2020, 1, 1, 0, 0, 0, 0));
        assert_eq!(p.bill_date(), Some(month));
        assert_eq!(BillDate::month(date(2019, 12, 25)), month);

        let odd = Period {
            start: datetime(2019, 9, 16, 0, 0, 0, 0),
            end: datetime(2019, 9, 18, 0, 0, 0, 0),
        };
        assert_eq!(odd.bill_date(), None);
        for bad in [
            "2019-13",
            "2019-9-16",
            "2019-02-30",
            "20190916",
            "2019-09-16x",
            "",
        ] {
            assert!(bad.parse::<BillDate>().is_err(), "{bad}");
        }
    }
}
