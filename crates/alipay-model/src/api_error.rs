//! Alipay's answers that are not plain success: the v2 `code` / `msg` / `sub_code` / `sub_msg`
//! quadruple ([`ApiError`], [`V2Response`]) and the v3 error body ([`V3ErrorBody`]).

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::CodeEnum;
use crate::code::code_enum;
use crate::common::CommonErrorCode;

/// The gateway `code` of a v2 response (PROTOCOL §2.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GatewayCode {
    /// `10000`: the call succeeded.
    Success,
    /// `10003`: order created, payment in progress; the outcome is not known yet.
    PaymentInProcess,
    /// `20000`: service unavailable (`isp.unknow-error`, `aop.unknow-error`); retry later or query.
    ServiceUnavailable,
    /// `20001`: insufficient authorisation (`aop.invalid-auth-token`, `aop.invalid-app-auth-token`, ...).
    InsufficientAuthorization,
    /// `40001`: a required parameter is missing (`isv.missing-signature`, ...).
    MissingParameter,
    /// `40002`: invalid arguments (`isv.invalid-signature`, `isv.code-invalid`, ...).
    InvalidArguments,
    /// `40003`: insufficient conditions (`isv.decryption-error-unknown`, ...).
    InsufficientConditions,
    /// `40004`: business failure; `sub_code` says which (`ACQ.TRADE_NOT_EXIST`, ...).
    BusinessFailed,
    /// `40005`: call frequency limit.
    CallLimited,
    /// `40006`: insufficient permissions.
    InsufficientPermissions,
    /// A code this version does not know, kept as received.
    Unknown(String),
}

code_enum!(GatewayCode {
    Success => "10000",
    PaymentInProcess => "10003",
    ServiceUnavailable => "20000",
    InsufficientAuthorization => "20001",
    MissingParameter => "40001",
    InvalidArguments => "40002",
    InsufficientConditions => "40003",
    BusinessFailed => "40004",
    CallLimited => "40005",
    InsufficientPermissions => "40006",
});

/// A v2 response whose `code` is not `10000`, or an `error_response`.
///
/// ```
/// use alipay_model::{ApiError, GatewayCode};
///
/// let err: ApiError = serde_json::from_str(
///     r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"系统错误"}"#,
/// ).unwrap();
/// assert_eq!(err.gateway_code(), GatewayCode::BusinessFailed);
/// assert!(err.is_retryable() && err.is_unknown_outcome());
/// assert_eq!(err.to_string(), "40004 Business Failed: ACQ.SYSTEM_ERROR (系统错误)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The gateway code: `40004`.
    pub code: String,
    /// Its message: `Business Failed`.
    #[serde(default)]
    pub msg: String,
    /// The detailed code: `ACQ.TRADE_NOT_EXIST`, `isv.invalid-signature`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_code: Option<String>,
    /// Its message, in Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_msg: Option<String>,
}

impl ApiError {
    /// An error from its four fields.
    #[must_use]
    pub fn new(
        code: impl Into<String>,
        msg: impl Into<String>,
        sub_code: Option<String>,
        sub_msg: Option<String>,
    ) -> Self {
        Self {
            code: code.into(),
            msg: msg.into(),
            sub_code,
            sub_msg,
        }
    }

    /// The gateway code as an enumeration.
    #[must_use]
    pub fn gateway_code(&self) -> GatewayCode {
        GatewayCode::from_code(&self.code)
    }

    /// A `sub_code` of the "system error, try again" kind: `ACQ.SYSTEM_ERROR`, any `*.SYSTEM_ERROR`,
    /// `isp.unknow-error`, `aop.unknow-error`.
    fn sub_code_is_system_error(&self) -> bool {
        self.sub_code.as_deref().is_some_and(|s| {
            s == "SYSTEM_ERROR" || s.ends_with(".SYSTEM_ERROR") || s.ends_with(".unknow-error")
        })
    }

    /// Whether the same request may be sent again: gateway code `20000`, or a system-error
    /// `sub_code` (`ACQ.SYSTEM_ERROR`, `isp.unknow-error`). Whether it is *safe* to resend depends on
    /// the operation too: queries yes; refunds and transfers only with the same idempotency key
    /// (`out_request_no`, `out_biz_no`); `alipay.trade.pay` never (query, then cancel).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.gateway_code() == GatewayCode::ServiceUnavailable || self.sub_code_is_system_error()
    }

    /// Whether the outcome of a state-changing call is unknown, so the trade must be queried:
    /// `10003` (payment in process), `20000`, or a system-error `sub_code`.
    #[must_use]
    pub fn is_unknown_outcome(&self) -> bool {
        matches!(
            self.gateway_code(),
            GatewayCode::PaymentInProcess | GatewayCode::ServiceUnavailable
        ) || self.sub_code_is_system_error()
    }

    /// A definite business failure: `40004` with a `sub_code` that is not a system error.
    #[must_use]
    pub fn is_business_failure(&self) -> bool {
        self.gateway_code() == GatewayCode::BusinessFailed && !self.sub_code_is_system_error()
    }

    /// The signature of the request was not accepted (`isv.invalid-signature`); the `sub_msg` quotes
    /// the string the gateway signed.
    #[must_use]
    pub fn is_invalid_signature(&self) -> bool {
        self.sub_code.as_deref() == Some("isv.invalid-signature")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.msg)?;
        if let Some(sub_code) = &self.sub_code {
            write!(f, ": {sub_code}")?;
        }
        if let Some(sub_msg) = &self.sub_msg {
            write!(f, " ({sub_msg})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A v2 response node: `code`, `msg`, `sub_code`, `sub_msg` beside the business fields `T`.
///
/// Dereferences to `T`. Fields neither here nor in `T` land in `T`'s `extra` map.
///
/// ```
/// use alipay_model::{V2Response, TradeStatus};
/// use alipay_model::trade::QueryResponse;
///
/// let node = r#"{"code":"10000","msg":"Success","trade_no":"2024","trade_status":"TRADE_SUCCESS",
///               "total_amount":"88.88","brand_new_field":1}"#;
/// let response: V2Response<QueryResponse> = serde_json::from_str(node).unwrap();
/// assert!(response.is_success());
/// assert_eq!(response.trade_status, Some(TradeStatus::TradeSuccess));
/// assert_eq!(response.extra["brand_new_field"], 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct V2Response<T> {
    /// The gateway code: `10000` on success.
    pub code: String,
    /// Its message.
    pub msg: String,
    /// The detailed code on failure.
    pub sub_code: Option<String>,
    /// Its message.
    pub sub_msg: Option<String>,
    /// The business fields.
    pub body: T,
}

#[derive(Serialize, Deserialize)]
struct V2Wire<T> {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub_msg: Option<String>,
    #[serde(flatten)]
    body: T,
}

impl<T> V2Response<T> {
    /// `code` is `10000`.
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.code == "10000"
    }

    /// The error, unless `code` is `10000`. A `10003` (payment in process) is an error whose
    /// [`ApiError::is_unknown_outcome`] holds; its business fields are still in [`Self::body`].
    #[must_use]
    pub fn error(&self) -> Option<ApiError> {
        (!self.is_success()).then(|| ApiError {
            code: self.code.clone(),
            msg: self.msg.clone(),
            sub_code: self.sub_code.clone(),
            sub_msg: self.sub_msg.clone(),
        })
    }

    /// The business fields on `10000`, the error otherwise.
    ///
    /// # Errors
    /// The [`ApiError`] of any other code.
    pub fn into_result(self) -> Result<T, ApiError> {
        match self.error() {
            None => Ok(self.body),
            Some(err) => Err(err),
        }
    }
}

impl<T> Deref for V2Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.body
    }
}

impl<T> DerefMut for V2Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.body
    }
}

impl<T: Serialize> Serialize for V2Response<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        V2Wire {
            code: self.code.clone(),
            msg: self.msg.clone(),
            sub_code: self.sub_code.clone(),
            sub_msg: self.sub_msg.clone(),
            body: &self.body,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for V2Response<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = V2Wire::<T>::deserialize(deserializer)?;
        Ok(Self {
            code: wire.code,
            msg: wire.msg,
            sub_code: wire.sub_code,
            sub_msg: wire.sub_msg,
            body: wire.body,
        })
    }
}

/// The `code` of a v3 error body: the operation's own code, or one every operation shares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum V3ErrorCode<C> {
    /// A code of the operation (`ACQ.TRADE_NOT_EXIST`), or a code listed nowhere (its `Unknown`).
    Operation(C),
    /// A code every operation may return (`invalid-auth-token`, `invalid-signature`, ...).
    Common(CommonErrorCode),
}

impl<C: CodeEnum> V3ErrorCode<C> {
    /// The wire code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Operation(code) => code.as_str(),
            Self::Common(code) => code.as_str(),
        }
    }
}

impl<C: CodeEnum> CodeEnum for V3ErrorCode<C> {
    /// The operation's own code if it lists it, else a common code if that lists it, else the
    /// operation's `Unknown`.
    fn from_code(code: &str) -> Self {
        let own = C::from_code(code);
        if own.is_unknown() {
            let common = CommonErrorCode::from_code(code);
            if !common.is_unknown() {
                return Self::Common(common);
            }
        }
        Self::Operation(own)
    }

    fn as_str(&self) -> &str {
        Self::as_str(self)
    }

    fn is_unknown(&self) -> bool {
        matches!(self, Self::Operation(code) if code.is_unknown())
    }
}

impl<C: CodeEnum> Serialize for V3ErrorCode<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_code(serializer)
    }
}

impl<'de, C: CodeEnum> Deserialize<'de> for V3ErrorCode<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::deserialize_code(deserializer)
    }
}

/// A v3 error body (HTTP status ≥ 400, PROTOCOL §7.4):
/// `{"code":"ACQ.TRADE_NOT_EXIST","message":"…","links":[…]}`.
///
/// ```
/// use alipay_model::{AlipayRequest, V3ErrorBody, V3ErrorCode};
/// use alipay_model::common::CommonErrorCode;
/// use alipay_model::trade::{QueryErrorCode, QueryRequest};
///
/// let body = r#"{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在"}"#;
/// let err: V3ErrorBody<<QueryRequest as AlipayRequest>::ErrorCode> = serde_json::from_str(body).unwrap();
/// assert_eq!(err.code, V3ErrorCode::Operation(QueryErrorCode::AcqTradeNotExist));
///
/// let err: V3ErrorBody<QueryErrorCode> = serde_json::from_str(r#"{"code":"invalid-auth-token"}"#).unwrap();
/// assert_eq!(err.code, V3ErrorCode::Common(CommonErrorCode::InvalidAuthToken));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "C: CodeEnum", deserialize = "C: CodeEnum"))]
#[non_exhaustive]
pub struct V3ErrorBody<C> {
    /// The error code.
    pub code: V3ErrorCode<C>,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Links to solutions, as sent (an array of `{link, desc}` objects in practice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Value>,
    /// Other fields, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<C: CodeEnum> V3ErrorBody<C> {
    /// Whether the same request may be sent again: a `SYSTEM_ERROR` code (`ACQ.SYSTEM_ERROR`, ...)
    /// or `unknow-error`. See [`ApiError::is_retryable`] for when resending is safe.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        let code = self.code.as_str();
        code == "SYSTEM_ERROR" || code.ends_with(".SYSTEM_ERROR") || code == "unknow-error"
    }

    /// Whether the outcome of a state-changing call is unknown (the same codes as
    /// [`Self::is_retryable`]): query before acting again.
    #[must_use]
    pub fn is_unknown_outcome(&self) -> bool {
        self.is_retryable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, sub_code: Option<&str>) -> ApiError {
        ApiError::new(code, "m", sub_code.map(str::to_owned), None)
    }

    #[test]
    fn retry_and_outcome_knowledge() {
        let cases = [
            // code, sub_code, retryable, unknown outcome, business failure
            ("10000", None, false, false, false),
            ("10003", None, false, true, false),
            ("20000", Some("isp.unknow-error"), true, true, false),
            ("20000", None, true, true, false),
            ("40004", Some("ACQ.SYSTEM_ERROR"), true, true, false),
            ("40004", Some("ACQ.TRADE_NOT_EXIST"), false, false, true),
            (
                "40004",
                Some("ACQ.PAYMENT_AUTH_CODE_INVALID"),
                false,
                false,
                true,
            ),
            ("40002", Some("isv.invalid-signature"), false, false, false),
            ("20001", Some("aop.invalid-auth-token"), false, false, false),
            ("40005", None, false, false, false),
        ];
        for (code, sub, retry, unknown, business) in cases {
            let e = err(code, sub);
            assert_eq!(e.is_retryable(), retry, "{code} {sub:?}");
            assert_eq!(e.is_unknown_outcome(), unknown, "{code} {sub:?}");
            assert_eq!(e.is_business_failure(), business, "{code} {sub:?}");
        }
        assert!(err("40002", Some("isv.invalid-signature")).is_invalid_signature());
        assert_eq!(
            err("40006", None).gateway_code(),
            GatewayCode::InsufficientPermissions
        );
        assert_eq!(
            err("40007", None).gateway_code(),
            GatewayCode::Unknown("40007".into())
        );
    }

    #[test]
    fn error_response_decodes_without_sign_fields() {
        let e: ApiError = serde_json::from_str(
            r#"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}"#,
        )
        .unwrap();
        assert_eq!(
            e.to_string(),
            "40002 Invalid Arguments: isv.code-invalid (授权码code无效)"
        );
        assert_eq!(
            serde_json::to_string(&err("10003", None)).unwrap(),
            r#"{"code":"10003","msg":"m"}"#
        );
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Body {
        trade_no: Option<String>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    #[test]
    fn v2_node_keeps_code_fields_business_fields_and_unknown_fields() {
        let text = r#"{"code":"10003","msg":"Order success pay inprocess","trade_no":"T","new_field":[1]}"#;
        let node: V2Response<Body> = serde_json::from_str(text).unwrap();
        assert_eq!(node.code, "10003");
        assert_eq!(node.trade_no.as_deref(), Some("T"));
        assert_eq!(node.extra.len(), 1);
        assert_eq!(node.extra["new_field"], serde_json::json!([1]));
        assert!(node.error().unwrap().is_unknown_outcome());
        assert_eq!(
            serde_json::to_value(&node).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert!(node.into_result().is_err());
        let ok: V2Response<Body> =
            serde_json::from_str(r#"{"code":"10000","msg":"Success"}"#).unwrap();
        assert_eq!(ok.into_result().unwrap().trade_no, None);
    }
}
