//! String enumerations that keep values they do not know.

use serde::{Deserialize, Deserializer, Serializer};

/// A string enumeration of the wire protocol (error codes, trade statuses, product codes) with a
/// catch-all variant, so a value Alipay adds later decodes instead of failing.
///
/// Every generated error-code enum implements it, and so do [`TradeStatus`](crate::TradeStatus),
/// [`ProductCode`](crate::ProductCode) and [`GatewayCode`](crate::GatewayCode).
///
/// ```
/// use alipay_model::{CodeEnum, TradeStatus};
///
/// assert_eq!(TradeStatus::from_code("TRADE_SUCCESS"), TradeStatus::TradeSuccess);
/// let new = TradeStatus::from_code("TRADE_PENDING_REVIEW");
/// assert!(new.is_unknown());
/// assert_eq!(new.as_str(), "TRADE_PENDING_REVIEW");
/// ```
pub trait CodeEnum: Sized {
    /// The variant for a wire value; values not listed become the catch-all variant.
    fn from_code(code: &str) -> Self;

    /// The wire value.
    fn as_str(&self) -> &str;

    /// Whether this is the catch-all variant (a value this version does not list).
    fn is_unknown(&self) -> bool;

    /// Serialises as the wire string.
    ///
    /// # Errors
    /// The serializer's own errors.
    fn serialize_code<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }

    /// Deserialises from a string; any string is accepted.
    ///
    /// # Errors
    /// When the input is not a string.
    fn deserialize_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(Self::from_code(&code))
    }
}

/// Implements [`CodeEnum`], `Display` and serde for a hand-written code enumeration.
macro_rules! code_enum {
    ($name:ident { $($variant:ident => $code:literal,)* }) => {
        impl $crate::CodeEnum for $name {
            fn from_code(code: &str) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
            fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Unknown(other) => other,
                }
            }
            fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::CodeEnum::as_str(self))
            }
        }
        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(code: &str) -> Result<Self, Self::Err> {
                Ok($crate::CodeEnum::from_code(code))
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::CodeEnum::serialize_code(self, serializer)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::CodeEnum::deserialize_code(deserializer)
            }
        }
    };
}
pub(crate) use code_enum;

/// The error codes of an operation whose spec lists none of its own: every value is kept as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoOperationErrorCode {
    /// The code as received.
    Unknown(String),
}

code_enum!(NoOperationErrorCode {});
