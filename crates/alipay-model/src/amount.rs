//! Money: [`Amount`], a whole number of fen.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in yuan (CNY), exact to the fen (0.01 yuan), never negative.
///
/// Stored as an integer number of fen: no floats anywhere. It parses what Alipay and merchants write
/// (`"88.88"`, `"1"`, `"0.1"`) and always prints two decimal places (`"88.88"`, `"1.00"`, `"0.10"`),
/// as PROTOCOL §9 asks. On the wire it is a JSON string.
///
/// ```
/// use alipay_model::Amount;
///
/// let price: Amount = "88.8".parse().unwrap();
/// assert_eq!(price.fen(), 8880);
/// assert_eq!(price.to_string(), "88.80");
/// assert!("1.005".parse::<Amount>().unwrap_err().is_too_many_decimals());
/// assert!(Amount::payment(Amount::ZERO).is_err()); // Alipay wants 0.01..=100000000
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount {
    fen: u64,
}

impl Amount {
    /// 0.00
    pub const ZERO: Self = Self { fen: 0 };
    /// The smallest amount Alipay accepts for a payment or refund: 0.01.
    pub const MIN_PAYMENT: Self = Self { fen: 1 };
    /// The largest amount Alipay accepts for a payment: 100000000.00 yuan.
    pub const MAX_PAYMENT: Self = Self {
        fen: 10_000_000_000,
    };

    /// An amount of `fen` hundredths of a yuan.
    #[must_use]
    pub const fn from_fen(fen: u64) -> Self {
        Self { fen }
    }

    /// A whole number of yuan, or `None` on overflow.
    #[must_use]
    pub const fn from_yuan(yuan: u64) -> Option<Self> {
        match yuan.checked_mul(100) {
            Some(fen) => Some(Self { fen }),
            None => None,
        }
    }

    /// The amount in fen.
    #[must_use]
    pub const fn fen(self) -> u64 {
        self.fen
    }

    /// Checks Alipay's range for payment amounts (`total_amount`, `refund_amount`, ...):
    /// 0.01 to 100000000.00 inclusive.
    ///
    /// # Errors
    /// [`AmountError::is_out_of_range`] outside that range.
    pub fn payment(amount: Self) -> Result<Self, AmountError> {
        if (Self::MIN_PAYMENT..=Self::MAX_PAYMENT).contains(&amount) {
            Ok(amount)
        } else {
            Err(AmountError::new(AmountErrorKind::OutOfRange))
        }
    }

    /// Parses a string and checks the payment range (see [`Amount::payment`]).
    ///
    /// # Errors
    /// As for [`FromStr`], plus [`AmountError::is_out_of_range`].
    pub fn parse_payment(text: &str) -> Result<Self, AmountError> {
        Self::payment(text.parse()?)
    }

    /// `self + other`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.fen.checked_add(other.fen) {
            Some(fen) => Some(Self { fen }),
            None => None,
        }
    }

    /// `self - other`, or `None` if the result would be negative.
    #[must_use]
    pub const fn checked_sub(self, other: Self) -> Option<Self> {
        match self.fen.checked_sub(other.fen) {
            Some(fen) => Some(Self { fen }),
            None => None,
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.fen / 100, self.fen % 100)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({self})")
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    /// Digits, optionally followed by `.` and one or two digits. No sign, no spaces, no exponent.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |kind| Err(AmountError::new(kind));
        let unsigned = match text.strip_prefix('-') {
            Some(rest) => {
                return if is_decimal(rest) {
                    err(AmountErrorKind::Negative)
                } else {
                    err(AmountErrorKind::NotANumber)
                };
            }
            None => text,
        };
        if !is_decimal(unsigned) {
            return err(AmountErrorKind::NotANumber);
        }
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if fraction.len() > 2 {
            return err(AmountErrorKind::TooManyDecimals);
        }
        let mut fen: u64 = 0;
        for digit in whole
            .bytes()
            .chain(fraction.bytes())
            .chain("00".bytes().take(2 - fraction.len()))
        {
            fen = match fen
                .checked_mul(10)
                .and_then(|f| f.checked_add(u64::from(digit - b'0')))
            {
                Some(fen) => fen,
                None => return err(AmountErrorKind::Overflow),
            };
        }
        Ok(Self { fen })
    }
}

/// `123`, `123.`, `123.4`: at least one digit before an optional `.` that has at least one digit after.
fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    /// From a string (`"88.88"`), or from a JSON integer of yuan (`88`); never from a float.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount in yuan with at most two decimals, as a string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Amount, E> {
                text.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, yuan: u64) -> Result<Amount, E> {
                Amount::from_yuan(yuan)
                    .ok_or_else(|| E::custom(AmountError::new(AmountErrorKind::Overflow)))
            }
            fn visit_i64<E: de::Error>(self, yuan: i64) -> Result<Amount, E> {
                match u64::try_from(yuan) {
                    Ok(yuan) => self.visit_u64(yuan),
                    Err(_) => Err(E::custom(AmountError::new(AmountErrorKind::Negative))),
                }
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

/// Why a text is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountError {
    kind: AmountErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AmountErrorKind {
    NotANumber,
    Negative,
    TooManyDecimals,
    Overflow,
    OutOfRange,
}

impl AmountError {
    const fn new(kind: AmountErrorKind) -> Self {
        Self { kind }
    }

    /// Not digits with an optional `.` and decimals (empty, letters, spaces, `+`, exponents, `.5`).
    #[must_use]
    pub fn is_not_a_number(&self) -> bool {
        self.kind == AmountErrorKind::NotANumber
    }

    /// A negative amount.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.kind == AmountErrorKind::Negative
    }

    /// More than two decimal places (`1.001`): a fraction of a fen.
    #[must_use]
    pub fn is_too_many_decimals(&self) -> bool {
        self.kind == AmountErrorKind::TooManyDecimals
    }

    /// Too large to represent (more than `u64::MAX` fen).
    #[must_use]
    pub fn is_overflow(&self) -> bool {
        self.kind == AmountErrorKind::Overflow
    }

    /// Outside Alipay's payment range 0.01..=100000000.00.
    #[must_use]
    pub fn is_out_of_range(&self) -> bool {
        self.kind == AmountErrorKind::OutOfRange
    }
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            AmountErrorKind::NotANumber => "amount is not a decimal number of yuan",
            AmountErrorKind::Negative => "amount is negative",
            AmountErrorKind::TooManyDecimals => "amount has more than two decimal places",
            AmountErrorKind::Overflow => "amount is too large",
            AmountErrorKind::OutOfRange => "amount is outside 0.01..=100000000.00",
        })
    }
}

impl std::error::Error for AmountError {}

#[cfg(feature = "rust_decimal")]
mod decimal {
    use rust_decimal::Decimal;

    use super::{Amount, AmountError, AmountErrorKind};

    impl From<Amount> for Decimal {
        fn from(amount: Amount) -> Self {
            Self::from_i128_with_scale(i128::from(amount.fen), 2)
        }
    }

    impl TryFrom<Decimal> for Amount {
        type Error = AmountError;

        /// Exact conversion: negative values, fractions of a fen and values above `u64::MAX` fen fail.
        fn try_from(value: Decimal) -> Result<Self, Self::Error> {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(AmountError::new(AmountErrorKind::Negative));
            }
            let fen = value * Decimal::ONE_HUNDRED;
            if !fen.fract().is_zero() {
                return Err(AmountError::new(AmountErrorKind::TooManyDecimals));
            }
            u64::try_from(fen.trunc())
                .map(Self::from_fen)
                .map_err(|_| AmountError::new(AmountErrorKind::Overflow))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_forms_alipay_uses() {
        assert_eq!("88.88".parse::<Amount>().unwrap().fen(), 8888);
        assert_eq!("1".parse::<Amount>().unwrap().fen(), 100);
        assert_eq!("0.1".parse::<Amount>().unwrap().fen(), 10);
        assert_eq!("0.01".parse::<Amount>().unwrap().fen(), 1);
        assert_eq!(
            "100000000.00".parse::<Amount>().unwrap(),
            Amount::MAX_PAYMENT
        );
        assert_eq!("007.50".parse::<Amount>().unwrap().to_string(), "7.50");
    }

    #[test]
    fn prints_two_decimals() {
        assert_eq!(Amount::from_fen(8888).to_string(), "88.88");
        assert_eq!(Amount::from_fen(100).to_string(), "1.00");
        assert_eq!(Amount::from_fen(10).to_string(), "0.10");
        assert_eq!(Amount::ZERO.to_string(), "0.00");
        assert_eq!(format!("{:?}", Amount::from_fen(5)), "Amount(0.05)");
    }

    #[test]
    fn typed_errors() {
        let e = |s: &str| s.parse::<Amount>().unwrap_err();
        assert!(e("1.001").is_too_many_decimals());
        assert!(e("0.005").is_too_many_decimals());
        assert!(e("-1").is_negative());
        assert!(e("-0.01").is_negative());
        for bad in [
            "", "abc", "1a", " 1", "1 ", "+1", "1e3", ".5", "1.", "1.2.3", "--1", "-", "１",
        ] {
            assert!(e(bad).is_not_a_number(), "{bad:?}");
        }
        assert!(e("184467440737095516.16").is_overflow());
        assert_eq!(
            e("1.001").to_string(),
            "amount has more than two decimal places"
        );
    }

    #[test]
    fn payment_range() {
        assert!(Amount::parse_payment("0").unwrap_err().is_out_of_range());
        assert!(
            Amount::parse_payment("100000000.01")
                .unwrap_err()
                .is_out_of_range()
        );
        assert_eq!(Amount::parse_payment("0.01").unwrap(), Amount::MIN_PAYMENT);
        assert_eq!(
            Amount::parse_payment("100000000").unwrap(),
            Amount::MAX_PAYMENT
        );
        assert!(Amount::parse_payment("x").unwrap_err().is_not_a_number());
    }

    #[test]
    fn serde_uses_strings_and_refuses_floats() {
        let amount: Amount = serde_json::from_str(r#""0.1""#).unwrap();
        assert_eq!(serde_json::to_string(&amount).unwrap(), r#""0.10""#);
        assert_eq!(serde_json::from_str::<Amount>("12").unwrap().fen(), 1200);
        assert!(serde_json::from_str::<Amount>("12.5").is_err());
        assert!(serde_json::from_str::<Amount>("-1").is_err());
        assert!(serde_json::from_str::<Amount>(r#""1.234""#).is_err());
    }

    #[test]
    fn arithmetic() {
        let a = Amount::from_fen(150);
        assert_eq!(
            a.checked_add(Amount::from_fen(50)),
            Some(Amount::from_fen(200))
        );
        assert_eq!(a.checked_sub(Amount::from_fen(151)), None);
        assert_eq!(Amount::from_yuan(u64::MAX), None);
        assert_eq!(Amount::from_yuan(3), Some(Amount::from_fen(300)));
    }

    #[cfg(feature = "rust_decimal")]
    #[test]
    fn decimal_conversions() {
        use rust_decimal::Decimal;
        let d: Decimal = Amount::from_fen(8888).into();
        assert_eq!(d.to_string(), "88.88");
        assert_eq!(Amount::try_from(Decimal::new(15, 1)).unwrap().fen(), 150);
        assert!(
            Amount::try_from(Decimal::new(1001, 3))
                .unwrap_err()
                .is_too_many_decimals()
        );
        assert!(
            Amount::try_from(Decimal::new(-1, 0))
                .unwrap_err()
                .is_negative()
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(fen in any::<u64>()) {
            let amount = Amount::from_fen(fen);
            prop_assert_eq!(amount.to_string().parse::<Amount>().unwrap(), amount);
        }

        #[test]
        fn parses_like_integer_arithmetic(whole in 0u64..10_000_000_000, frac in "[0-9]{0,2}") {
            let text = if frac.is_empty() { whole.to_string() } else { format!("{whole}.{frac}") };
            let scale = match frac.len() { 0 => 100, 1 => 10, _ => 1 };
            let frac_fen = if frac.is_empty() { 0 } else { frac.parse::<u64>().unwrap() * scale };
            prop_assert_eq!(text.parse::<Amount>().unwrap().fen(), whole * 100 + frac_fen);
        }

        #[test]
        fn three_or_more_decimals_are_rejected(whole in 0u64..1_000_000, frac in "[0-9]{3,8}") {
            let err = format!("{whole}.{frac}").parse::<Amount>().unwrap_err();
            prop_assert!(err.is_too_many_decimals());
        }

        #[test]
        fn negatives_are_rejected(whole in 0u64..1_000_000, frac in "[0-9]{0,2}") {
            let text = if frac.is_empty() { format!("-{whole}") } else { format!("-{whole}.{frac}") };
            prop_assert!(text.parse::<Amount>().unwrap_err().is_negative());
        }

        #[test]
        fn text_with_other_characters_is_rejected(text in "[0-9]{0,3}[^0-9.][0-9.]{0,3}") {
            let err = text.parse::<Amount>().unwrap_err();
            prop_assert!(err.is_not_a_number() || err.is_negative(), "{}", text);
        }

        #[test]
        fn payment_range_matches_fen_bounds(fen in any::<u64>()) {
            let ok = Amount::payment(Amount::from_fen(fen)).is_ok();
            prop_assert_eq!(ok, (1..=10_000_000_000).contains(&fen));
        }
    }
}
