//! Exact money: a signed count of fen (分, 0.01 yuan).

use core::fmt;
use core::iter::Sum;
use core::ops::{Add, AddAssign, Neg, Sub};
use core::str::FromStr;

/// An exact amount of yuan, stored as a signed integer number of fen (0.01 yuan).
///
/// Bills print amounts with two decimals (`0.01`, `-3000.00`); refunds are negative. Parsing also
/// accepts a leading `+` and zero or one decimal (`1`, `1.5`), never more than two decimals, and never
/// goes through floating point.
///
/// ```
/// use alipay_bill::Money;
/// let refund: Money = "-3000.00".parse().unwrap();
/// assert_eq!(refund.fen(), -300_000);
/// assert_eq!((refund + Money::from_fen(1)).to_string(), "-2999.99");
/// assert_eq!("1".parse::<Money>().unwrap().to_string(), "1.00");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Zero yuan.
    pub const ZERO: Self = Self(0);

    /// An amount of `fen` hundredths of a yuan.
    #[must_use]
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    /// The amount in fen.
    #[must_use]
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Whether the amount is zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the amount is below zero (a refund or an expense).
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The sum, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Parses the ASCII text of an amount cell.
    ///
    /// # Errors
    /// When the bytes are not `[+-]digits[.d[d]]` or overflow `i64` fen.
    pub fn parse_bytes(text: &[u8]) -> Result<Self, ParseMoneyError> {
        let (negative, digits) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            Some(_) => (false, text),
            None => return Err(ParseMoneyError(())),
        };
        let (whole, frac) = match digits.iter().position(|&b| b == b'.') {
            Some(dot) => (&digits[..dot], &digits[dot + 1..]),
            None => (digits, &[][..]),
        };
        if whole.is_empty() || frac.len() > 2 || (frac.is_empty() && digits.len() != whole.len()) {
            return Err(ParseMoneyError(()));
        }
        // i128 so that the most negative amount, -92233720368547758.08, parses too.
        let mut value: i128 = 0;
        for &b in whole {
            if !b.is_ascii_digit() {
                return Err(ParseMoneyError(()));
            }
            value = value * 10 + i128::from(b - b'0');
            if value > i128::from(i64::MAX) + 1 {
                return Err(ParseMoneyError(()));
            }
        }
        let mut cents: i128 = 0;
        for i in 0..2 {
            let digit = match frac.get(i) {
                Some(&b) if b.is_ascii_digit() => i128::from(b - b'0'),
                Some(_) => return Err(ParseMoneyError(())),
                None => 0,
            };
            cents = cents * 10 + digit;
        }
        let value = value * 100 + cents;
        let value = if negative { -value } else { value };
        i64::try_from(value)
            .map(Self)
            .map_err(|_| ParseMoneyError(()))
    }
}

impl FromStr for Money {
    type Err = ParseMoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_bytes(s.as_bytes())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Money {
    type Output = Self;

    /// Adds two amounts; saturates at the bounds of `i64` fen (±92 233 720 368 547 758.07 yuan).
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl Sub for Money {
    type Output = Self;

    /// Subtracts; saturates like [`Add`].
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Money {
    type Output = Self;

    fn neg(self) -> Self {
        Self(self.0.saturating_neg())
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Money {
    /// Serialises as the bill's text, `"-0.01"`: a JSON string, so no reader turns it into a float.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The text is not an amount like `0.01`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseMoneyError(());

impl fmt::Display for ParseMoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected an amount like 0.01 or -3000.00")
    }
}

impl std::error::Error for ParseMoneyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bill_amounts() {
        let cases = [
            ("0.01", 1),
            ("-0.01", -1),
            ("-3000.00", -300_000),
            ("28790.16", 2_879_016),
            ("1", 100),
            ("1.5", 150),
            ("+2.30", 230),
            ("0", 0),
            ("-0.00", 0),
            ("92233720368547758.07", i64::MAX),
            ("-92233720368547758.08", i64::MIN),
        ];
        for (text, fen) in cases {
            assert_eq!(text.parse::<Money>(), Ok(Money::from_fen(fen)), "{text}");
        }
    }

    #[test]
    fn rejects_non_amounts() {
        for text in [
            "",
            "-",
            "+",
            ".",
            "1.",
            ".5",
            "1.234",
            "1,00",
            "abc",
            "1e3",
            " 1",
            "1 ",
            "--1",
            "1.-1",
            "0.0a",
            "92233720368547758.08",
            "-92233720368547758.09",
            "99999999999999999999",
        ] {
            assert_eq!(text.parse::<Money>(), Err(ParseMoneyError(())), "{text:?}");
        }
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_fen(0).to_string(), "0.00");
        assert_eq!(Money::from_fen(-4).to_string(), "-0.04");
        assert_eq!(Money::from_fen(2_879_016).to_string(), "28790.16");
        assert_eq!(
            Money::from_fen(i64::MIN).to_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn arithmetic_is_exact() {
        let parts = ["0.01", "0.02", "-0.03", "100.10"].map(|t| t.parse::<Money>().unwrap());
        assert_eq!(parts.into_iter().sum::<Money>(), Money::from_fen(10_010));
        assert_eq!(-Money::from_fen(5), Money::from_fen(-5));
        assert_eq!(Money::from_fen(5) - Money::from_fen(7), Money::from_fen(-2));
        assert_eq!(
            Money::from_fen(i64::MAX).checked_add(Money::from_fen(1)),
            None
        );
    }
}
