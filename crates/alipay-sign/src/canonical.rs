//! The v2 string to sign (PROTOCOL §1.4) and the notification rules V1/V2 (§3.2).
//!
//! Parameters are sorted by key bytes, empty values are dropped, and `k=v` pairs are joined with
//! `&` with the values raw (not URL-encoded).

use crate::charset::Charset;
use crate::error::Error;
use crate::signer::{SignType, Signer, Verifier};

/// Which parameters are left out of the signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Requests, redirect forms, app order strings: drop `sign` (keep `sign_type`).
    Request,
    /// `rsaCheckV1`, for trade notifications and `return_url` parameters: drop `sign` and
    /// `sign_type`.
    NotifyV1,
    /// `rsaCheckV2`, for gateway messages: drop only `sign`.
    NotifyV2,
}

impl Rule {
    fn excludes(self, key: &str) -> bool {
        match self {
            Rule::Request | Rule::NotifyV2 => key == "sign",
            Rule::NotifyV1 => key == "sign" || key == "sign_type",
        }
    }
}

/// What to do with parameters whose value is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EmptyValues {
    /// Leave them out, as the Java SDK and the gateway do (the default).
    #[default]
    Drop,
    /// Keep them as `k=`, as the Node and Python SDKs do (only for reproducing their strings).
    Keep,
}

/// The canonical string of `params` under `rule`, dropping empty values.
///
/// ```
/// use alipay_sign::{canonical_string, Rule};
/// let s = canonical_string(
///     [("method", "alipay.trade.query"), ("app_id", "2021"), ("sign", "x"), ("empty", "")],
///     Rule::Request,
/// );
/// assert_eq!(s, "app_id=2021&method=alipay.trade.query");
/// ```
pub fn canonical_string<I, K, V>(params: I, rule: Rule) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    canonical_string_with(params, rule, EmptyValues::Drop)
}

/// [`canonical_string`] with a choice about empty values.
pub fn canonical_string_with<I, K, V>(params: I, rule: Rule, empty: EmptyValues) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let items: Vec<(K, V)> = params.into_iter().collect();
    let mut kept: Vec<(&str, &str)> = items
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| {
            !k.is_empty() && !rule.excludes(k) && (empty == EmptyValues::Keep || !v.is_empty())
        })
        .collect();
    // Sort by key bytes; ties (duplicate keys) by value so the result never depends on order.
    kept.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(b.1)));
    let len = kept.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(len);
    for (i, (k, v)) in kept.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A signed v2 parameter set: the exact string that was signed and the base64 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedContent {
    /// The canonical string (before charset encoding).
    pub content: String,
    /// Base64 signature.
    pub sign: String,
}

/// Canonicalizes `params` with [`Rule::Request`], encodes the string in `charset`, and signs it.
pub fn sign_params<I, K, V>(
    signer: &dyn Signer,
    params: I,
    sign_type: SignType,
    charset: Charset,
) -> Result<SignedContent, Error>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let content = canonical_string(params, Rule::Request);
    let bytes = charset.encode(&content)?;
    let sign = signer.sign_base64(sign_type, &bytes)?;
    Ok(SignedContent { content, sign })
}

/// Verifies a parameter set (e.g. decoded notification fields or `return_url` query) that
/// carries its own `sign`: canonicalizes with `rule`, encodes in `charset`, and checks the
/// signature. A missing `sign` is an error, never a pass.
pub fn verify_params<I, K, V>(
    verifier: &dyn Verifier,
    params: I,
    rule: Rule,
    sign_type: SignType,
    charset: Charset,
) -> Result<String, Error>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let items: Vec<(K, V)> = params.into_iter().collect();
    let sign = items
        .iter()
        .find(|(k, _)| k.as_ref() == "sign")
        .map(|(_, v)| v.as_ref().to_owned())
        .ok_or_else(|| Error::invalid_signature("the parameters carry no sign"))?;
    let content = canonical_string(items.iter().map(|(k, v)| (k.as_ref(), v.as_ref())), rule);
    let bytes = charset.encode(&content)?;
    verifier.verify_base64(sign_type, &bytes, &sign)?;
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_worked_example() {
        let params = [
            ("app_id", "2021000000000000"),
            ("method", "alipay.trade.query"),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", "2024-05-13 17:49:20"),
            ("version", "1.0"),
            ("biz_content", r#"{"out_trade_no":"T1"}"#),
            ("app_auth_token", ""),
        ];
        assert_eq!(
            canonical_string(params, Rule::Request),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"T1"}&charset=utf-8&format=JSON&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0"#
        );
        assert_eq!(
            canonical_string_with(params, Rule::Request, EmptyValues::Keep),
            r#"app_auth_token=&app_id=2021000000000000&biz_content={"out_trade_no":"T1"}&charset=utf-8&format=JSON&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0"#
        );
    }

    #[test]
    fn notify_rules() {
        let p = [("b", "2"), ("sign_type", "RSA2"), ("sign", "s"), ("a", "1")];
        assert_eq!(canonical_string(p, Rule::NotifyV1), "a=1&b=2");
        assert_eq!(
            canonical_string(p, Rule::NotifyV2),
            "a=1&b=2&sign_type=RSA2"
        );
        assert_eq!(canonical_string(p, Rule::Request), "a=1&b=2&sign_type=RSA2");
    }

    #[test]
    fn byte_order_not_locale_order() {
        let p = [("a_b", "1"), ("aB", "2"), ("a", "3"), ("A", "4")];
        assert_eq!(canonical_string(p, Rule::Request), "A=4&a=3&aB=2&a_b=1");
    }
}
