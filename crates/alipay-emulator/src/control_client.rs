//! A client of the control API, for tests (in process or against `alipay emulator`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::Error;
use crate::http::send;
pub use crate::state::FaultKind;

/// A fault to inject with [`ControlClient::fault`]: the next `count` calls of `method` fail
/// this way.
///
/// ```
/// use alipay_emulator::FaultSpec;
/// let f = FaultSpec::system_error("alipay.trade.refund").count(2).after();
/// assert_eq!(f.to_json()["phase"], "after");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultSpec {
    /// The API method (`alipay.trade.refund`; v3 calls use the same name), `*` for any, or
    /// `notify` for notification deliveries.
    pub method: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many calls are affected (default 1).
    pub count: u32,
    /// For [`FaultKind::Delay`]: how long, in real milliseconds.
    pub delay_ms: u64,
    /// Run the call first, then fail: the change happened but the answer is an error or is
    /// lost (default: fail before anything happens).
    pub after: bool,
    /// For [`FaultKind::BusinessError`].
    pub sub_code: Option<String>,
    /// For [`FaultKind::BusinessError`].
    pub sub_msg: Option<String>,
}

impl FaultSpec {
    fn new(method: &str, kind: FaultKind) -> Self {
        FaultSpec {
            method: method.to_owned(),
            kind,
            count: 1,
            delay_ms: 0,
            after: false,
            sub_code: None,
            sub_msg: None,
        }
    }

    /// `20000` `isp.unknow-error`.
    pub fn unknown_error(method: &str) -> Self {
        Self::new(method, FaultKind::UnknownError)
    }

    /// `40004` `ACQ.SYSTEM_ERROR`.
    pub fn system_error(method: &str) -> Self {
        Self::new(method, FaultKind::SystemError)
    }

    /// `40004` with this `sub_code` (e.g. `ACQ.SELLER_BALANCE_NOT_ENOUGH`).
    pub fn business_error(method: &str, sub_code: &str, sub_msg: &str) -> Self {
        let mut f = Self::new(method, FaultKind::BusinessError);
        f.sub_code = Some(sub_code.to_owned());
        f.sub_msg = Some(sub_msg.to_owned());
        f
    }

    /// The answer comes `delay` late.
    pub fn delay(method: &str, delay: Duration) -> Self {
        let mut f = Self::new(method, FaultKind::Delay);
        f.delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        f
    }

    /// The connection is closed without an answer.
    pub fn drop_connection(method: &str) -> Self {
        Self::new(method, FaultKind::Drop)
    }

    /// The next notification delivery is not sent (it is retried on schedule).
    pub fn drop_notification() -> Self {
        Self::new("notify", FaultKind::Drop)
    }

    /// The next notification is delivered twice.
    pub fn duplicate_notification() -> Self {
        Self::new("notify", FaultKind::Duplicate)
    }

    /// Affects the next `count` calls.
    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Runs the call before failing.
    #[must_use]
    pub fn after(mut self) -> Self {
        self.after = true;
        self
    }

    /// The JSON the control API takes.
    pub fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "kind": serde_json::to_value(self.kind).unwrap_or(Value::Null),
            "count": self.count,
            "delay_ms": self.delay_ms,
            "phase": if self.after { "after" } else { "before" },
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
        })
    }
}

/// A client of an emulator's control API (see `docs/emulator.md`). Every method answers the
/// API's JSON; a refusal (unknown trade, wrong state) is an error with
/// [`Error::is_control`] whose message is the API's explanation.
///
/// ```no_run
/// # async fn demo() -> Result<(), alipay_emulator::Error> {
/// let control = alipay_emulator::ControlClient::new("http://127.0.0.1:8080/control");
/// control.pay("T20240513001").await?;
/// control.advance(std::time::Duration::from_secs(240)).await?;
/// let log = control.notifications().await?;
/// # let _ = log; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ControlClient {
    base: String,
    timeout: Duration,
}

fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl ControlClient {
    /// A client of the control API at `control_url` (`http://127.0.0.1:<port>/control`).
    pub fn new(control_url: impl Into<String>) -> Self {
        ControlClient {
            base: control_url.into().trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Sets how long one call may take (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends `method` to `<control>/<path>` with an optional JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let (headers, bytes) = match body {
            Some(b) => (
                vec![("content-type", "application/json".to_owned())],
                serde_json::to_vec(b).unwrap_or_default(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let r = send(method, &url, &headers, bytes, self.timeout)
            .await
            .map_err(|e| Error::http(format!("{method} {url}: {e}")))?;
        let value: Value = serde_json::from_slice(&r.body).map_err(|e| {
            Error::http(format!(
                "{method} {url}: the answer ({}) is not JSON",
                r.status
            ))
            .with_source(e)
        })?;
        if r.status >= 400 {
            let message = value
                .get("error")
                .and_then(Value::as_str)
                .map_or_else(|| value.to_string(), str::to_owned);
            return Err(Error::control(message));
        }
        Ok(value)
    }

    /// `POST trades/{id}/pay`: the buyer pays a pending trade. Answers `{"trade", "return_url"}`.
    pub async fn pay(&self, id: &str) -> Result<Value, Error> {
        self.call("POST", &format!("trades/{}/pay", segment(id)), None)
            .await
    }

    /// `POST trades/{id}/cancel`: the buyer abandons a pending trade.
    pub async fn cancel(&self, id: &str) -> Result<Value, Error> {
        self.call("POST", &format!("trades/{}/cancel", segment(id)), None)
            .await
    }

    /// `POST trades/{id}/scan`: the buyer scans a precreate QR code.
    pub async fn scan(&self, id: &str) -> Result<Value, Error> {
        self.call("POST", &format!("trades/{}/scan", segment(id)), None)
            .await
    }

    /// `GET trades/{id}`: the trade as the emulator holds it (`id` is an `out_trade_no` or a
    /// `trade_no`).
    pub async fn trade(&self, id: &str) -> Result<Value, Error> {
        self.call("GET", &format!("trades/{}", segment(id)), None)
            .await
    }

    /// `GET trades`.
    pub async fn trades(&self) -> Result<Value, Error> {
        self.call("GET", "trades", None).await
    }

    /// `POST trades/{id}/state`: forces a `trade_status` (notifying as the real change would).
    pub async fn force_status(&self, id: &str, status: &str) -> Result<Value, Error> {
        self.call(
            "POST",
            &format!("trades/{}/state", segment(id)),
            Some(&json!({"status": status})),
        )
        .await
    }

    /// `POST clock/advance`: moves emulator time and waits for what fell due.
    pub async fn advance(&self, by: Duration) -> Result<Value, Error> {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.call("POST", "clock/advance", Some(&json!({"ms": ms})))
            .await
    }

    /// `POST faults`.
    pub async fn fault(&self, fault: &FaultSpec) -> Result<Value, Error> {
        self.call("POST", "faults", Some(&fault.to_json())).await
    }

    /// `DELETE faults`.
    pub async fn clear_faults(&self) -> Result<Value, Error> {
        self.call("DELETE", "faults", None).await
    }

    /// `GET notifications`: the delivery log.
    pub async fn notifications(&self) -> Result<Value, Error> {
        self.call("GET", "notifications", None).await
    }

    /// `POST alipay-cert/rotate`: issues a new Alipay certificate under the same root.
    pub async fn rotate_alipay_cert(&self) -> Result<Value, Error> {
        self.call("POST", "alipay-cert/rotate", None).await
    }

    /// `POST app-pay`: the Alipay app receives an order string and (when `pay`) pays it.
    pub async fn app_pay(&self, order_string: &str, pay: bool) -> Result<Value, Error> {
        self.call(
            "POST",
            "app-pay",
            Some(&json!({"order_string": order_string, "pay": pay})),
        )
        .await
    }

    /// `POST oauth/codes`: an authorization code for `alipay.system.oauth.token`.
    pub async fn oauth_code(&self, app_id: &str) -> Result<Value, Error> {
        self.call("POST", "oauth/codes", Some(&json!({"app_id": app_id})))
            .await
    }

    /// `POST apps/{app_id}/app-auth-tokens`: an `app_auth_token` for an ISV app acting for a
    /// new merchant.
    pub async fn app_auth_token(&self, app_id: &str) -> Result<Value, Error> {
        self.call(
            "POST",
            &format!("apps/{}/app-auth-tokens", segment(app_id)),
            Some(&json!({})),
        )
        .await
    }
}
