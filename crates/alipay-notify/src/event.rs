//! Typed events: trade status changes, `msg_method` messages, everything else kept raw.

use std::collections::BTreeMap;
use std::fmt;

use alipay_model::{Amount, CodeEnum, TradeStatus};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Kind};
use crate::form::Form;

/// Protocol fields that no event repeats in its `extra` map.
const PROTOCOL_FIELDS: [&str; 4] = ["sign", "sign_type", "charset", "alipay_cert_sn"];

/// What a verified notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `notify_type=trade_status_sync`: a payment, a refund, a close (PROTOCOL §3.1, §3.4).
    Trade(Box<TradeNotification>),
    /// A message with `msg_method` (PROTOCOL §3.5).
    Message(Box<GatewayMessage>),
    /// Anything else (e.g. `servicemarket_order_notify`), kept as received.
    Unknown(UnknownNotification),
}

impl Event {
    /// The event of a form: `msg_method` → [`Event::Message`], `notify_type=trade_status_sync`
    /// → [`Event::Trade`], else [`Event::Unknown`].
    pub(crate) fn from_form(form: &Form) -> Result<Event, Error> {
        if form.get("msg_method").is_some_and(|m| !m.is_empty()) {
            return GatewayMessage::from_form(form).map(|m| Event::Message(Box::new(m)));
        }
        if form.get("notify_type") == Some("trade_status_sync") {
            return TradeNotification::from_form(form).map(|t| Event::Trade(Box::new(t)));
        }
        Ok(Event::Unknown(UnknownNotification {
            notify_type: non_empty(form.get("notify_type")),
            notify_id: non_empty(form.get("notify_id")),
            fields: form
                .iter()
                .filter(|(k, _)| *k != "sign")
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }))
    }

    /// `notify_id`, when the notification has one (the key for dropping duplicates).
    pub fn notify_id(&self) -> Option<&str> {
        match self {
            Event::Trade(t) => Some(&t.notify_id),
            Event::Message(m) => m.notify_id.as_deref(),
            Event::Unknown(u) => u.notify_id.as_deref(),
        }
    }
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Reads fields of a form and remembers which were read.
struct Reader<'a> {
    form: &'a Form,
    used: Vec<&'static str>,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(form: &'a Form, what: &'static str) -> Self {
        Reader {
            form,
            used: Vec::with_capacity(40),
            what,
        }
    }

    fn opt(&mut self, key: &'static str) -> Option<String> {
        self.used.push(key);
        non_empty(self.form.get(key))
    }

    fn req(&mut self, key: &'static str) -> Result<String, Error> {
        self.opt(key).ok_or_else(|| {
            Error::new(Kind::Event, format!("the {} has no `{key}`", self.what)).in_field(key)
        })
    }

    fn error(&self, key: &'static str, message: String) -> Error {
        let err = Error::new(Kind::Event, message).in_field(key);
        match self.form.position(key) {
            Some(p) => err.at(p),
            None => err,
        }
    }

    fn amount(&mut self, key: &'static str) -> Result<Option<Amount>, Error> {
        let Some(text) = self.opt(key) else {
            return Ok(None);
        };
        text.parse::<Amount>().map(Some).map_err(|e| {
            self.error(
                key,
                format!("`{key}` is not an amount of yuan: {e} (found `{text}`)"),
            )
            .with_source(e)
        })
    }

    fn json<T: for<'de> Deserialize<'de>>(
        &mut self,
        key: &'static str,
    ) -> Result<Option<T>, Error> {
        let Some(text) = self.opt(key) else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            self.error(
                key,
                format!("`{key}` is not the JSON Alipay sends: {e} (an HTML-escaping framework turns `\"` into `&quot;`)"),
            )
            .with_source(e)
        })
    }

    fn rest(self) -> BTreeMap<String, String> {
        self.form
            .iter()
            .filter(|(k, _)| !self.used.contains(k) && !PROTOCOL_FIELDS.contains(k))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

/// A trade status change (`notify_type=trade_status_sync`): payment, partial refund (status
/// stays `TRADE_SUCCESS`, with `refund_fee`, `gmt_refund`, `out_biz_no`), full refund or close
/// (`TRADE_CLOSED`), end of the refund period (`TRADE_FINISHED`).
///
/// Times are kept as sent (`yyyy-MM-dd HH:mm:ss`, Beijing time). Money is [`Amount`], exact.
/// `passback_params` is returned exactly as received (decoded once, like every field).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TradeNotification {
    /// `notify_id`: the same for every retry of one notification.
    pub notify_id: String,
    /// `notify_time`.
    pub notify_time: String,
    /// `notify_type` (`trade_status_sync`).
    pub notify_type: String,
    /// `app_id`: the app the trade belongs to.
    pub app_id: String,
    /// `auth_app_id`: the merchant's app when an ISV acts for it.
    pub auth_app_id: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `trade_no`: Alipay's trade number.
    pub trade_no: String,
    /// `out_trade_no`: the merchant's order number.
    pub out_trade_no: String,
    /// `out_biz_no`: for refunds, the refund's `out_request_no`.
    pub out_biz_no: Option<String>,
    /// `trade_status`.
    pub trade_status: TradeStatus,
    /// `buyer_id`.
    pub buyer_id: Option<String>,
    /// `buyer_logon_id` (masked).
    pub buyer_logon_id: Option<String>,
    /// `buyer_open_id`.
    pub buyer_open_id: Option<String>,
    /// `seller_id`.
    pub seller_id: Option<String>,
    /// `seller_email`.
    pub seller_email: Option<String>,
    /// `total_amount`: the order amount.
    pub total_amount: Option<Amount>,
    /// `receipt_amount`: what the merchant received.
    pub receipt_amount: Option<Amount>,
    /// `invoice_amount`.
    pub invoice_amount: Option<Amount>,
    /// `buyer_pay_amount`.
    pub buyer_pay_amount: Option<Amount>,
    /// `point_amount`.
    pub point_amount: Option<Amount>,
    /// `refund_fee`: total refunded so far (refunds only).
    pub refund_fee: Option<Amount>,
    /// `send_back_fee`.
    pub send_back_fee: Option<Amount>,
    /// `subject`.
    pub subject: Option<String>,
    /// `body`.
    pub body: Option<String>,
    /// `gmt_create`.
    pub gmt_create: Option<String>,
    /// `gmt_payment`.
    pub gmt_payment: Option<String>,
    /// `gmt_refund` (refunds only).
    pub gmt_refund: Option<String>,
    /// `gmt_close`.
    pub gmt_close: Option<String>,
    /// `fund_bill_list`, parsed from its JSON string; empty when absent.
    pub fund_bill_list: Vec<FundBill>,
    /// `voucher_detail_list`: the JSON string, as received.
    pub voucher_detail_list: Option<String>,
    /// `passback_params`, untouched.
    pub passback_params: Option<String>,
    /// `dback_status` (deposit-back refunds).
    pub dback_status: Option<String>,
    /// `dback_amount`.
    pub dback_amount: Option<Amount>,
    /// `bank_ack_time`.
    pub bank_ack_time: Option<String>,
    /// Every other field (not `sign`, `sign_type`, `charset`, `alipay_cert_sn`).
    pub extra: BTreeMap<String, String>,
}

impl TradeNotification {
    fn from_form(form: &Form) -> Result<Self, Error> {
        let mut r = Reader::new(form, "trade notification");
        let trade_status = TradeStatus::from_code(&r.req("trade_status")?);
        Ok(TradeNotification {
            notify_id: r.req("notify_id")?,
            notify_time: r.req("notify_time")?,
            notify_type: r.req("notify_type")?,
            app_id: r.req("app_id")?,
            auth_app_id: r.opt("auth_app_id"),
            version: r.opt("version"),
            trade_no: r.req("trade_no")?,
            out_trade_no: r.req("out_trade_no")?,
            out_biz_no: r.opt("out_biz_no"),
            trade_status,
            buyer_id: r.opt("buyer_id"),
            buyer_logon_id: r.opt("buyer_logon_id"),
            buyer_open_id: r.opt("buyer_open_id"),
            seller_id: r.opt("seller_id"),
            seller_email: r.opt("seller_email"),
            total_amount: r.amount("total_amount")?,
            receipt_amount: r.amount("receipt_amount")?,
            invoice_amount: r.amount("invoice_amount")?,
            buyer_pay_amount: r.amount("buyer_pay_amount")?,
            point_amount: r.amount("point_amount")?,
            refund_fee: r.amount("refund_fee")?,
            send_back_fee: r.amount("send_back_fee")?,
            subject: r.opt("subject"),
            body: r.opt("body"),
            gmt_create: r.opt("gmt_create"),
            gmt_payment: r.opt("gmt_payment"),
            gmt_refund: r.opt("gmt_refund"),
            gmt_close: r.opt("gmt_close"),
            fund_bill_list: r.json("fund_bill_list")?.unwrap_or_default(),
            voucher_detail_list: r.opt("voucher_detail_list"),
            passback_params: r.opt("passback_params"),
            dback_status: r.opt("dback_status"),
            dback_amount: r.amount("dback_amount")?,
            bank_ack_time: r.opt("bank_ack_time"),
            extra: r.rest(),
        })
    }

    /// Whether this notification reports a refund (it has `refund_fee`, `gmt_refund` or
    /// `out_biz_no`). A partial refund keeps `trade_status=TRADE_SUCCESS`.
    pub fn is_refund(&self) -> bool {
        self.refund_fee.is_some() || self.gmt_refund.is_some() || self.out_biz_no.is_some()
    }
}

/// One entry of `fund_bill_list`: which channel paid how much.
///
/// Notifications write the keys in camelCase (`fundChannel`); query responses in snake_case
/// (`fund_channel`). Both are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FundBill {
    /// `fundChannel`, e.g. `ALIPAYACCOUNT`, `PCREDIT`, `BANKCARD`.
    #[serde(rename = "fundChannel", alias = "fund_channel")]
    pub fund_channel: String,
    /// `amount`.
    pub amount: Amount,
    /// `realAmount`, when present.
    #[serde(
        rename = "realAmount",
        alias = "real_amount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub real_amount: Option<Amount>,
    /// `fundType`, when present.
    #[serde(
        rename = "fundType",
        alias = "fund_type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fund_type: Option<String>,
    /// Other keys, kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A message with `msg_method` ("from 蚂蚁消息", PROTOCOL §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayMessage {
    /// `notify_id`.
    pub notify_id: Option<String>,
    /// `msg_method`, e.g. `alipay.trade.refund.depositback.completed`.
    pub msg_method: String,
    /// `app_id`.
    pub app_id: Option<String>,
    /// `version` (`1.0`, or `1.1` for "standard messages").
    pub version: Option<String>,
    /// `utc_timestamp`: milliseconds since the Unix epoch.
    pub utc_timestamp: Option<u64>,
    /// `biz_content`, the JSON text as received.
    pub biz_content: Option<String>,
    /// `biz_content`, decoded.
    pub payload: MessagePayload,
    /// Every other field (not `sign`, `sign_type`, `charset`, `alipay_cert_sn`).
    pub extra: BTreeMap<String, String>,
}

impl GatewayMessage {
    fn from_form(form: &Form) -> Result<Self, Error> {
        let mut r = Reader::new(form, "message");
        let msg_method = r.req("msg_method")?;
        let utc_timestamp = match r.opt("utc_timestamp") {
            None => None,
            Some(t) => Some(t.parse::<u64>().map_err(|e| {
                r.error(
                    "utc_timestamp",
                    format!("`utc_timestamp` is not milliseconds since the epoch (found `{t}`)"),
                )
                .with_source(e)
            })?),
        };
        let payload = match msg_method.as_str() {
            DepositBackCompleted::MSG_METHOD => match r.json("biz_content")? {
                Some(d) => MessagePayload::DepositBackCompleted(d),
                None => {
                    return Err(r.error("biz_content", "the message has no `biz_content`".into()));
                }
            },
            _ => MessagePayload::Other(r.json("biz_content")?.unwrap_or(serde_json::Value::Null)),
        };
        Ok(GatewayMessage {
            notify_id: r.opt("notify_id"),
            app_id: r.opt("app_id"),
            version: r.opt("version"),
            biz_content: r.opt("biz_content"),
            msg_method,
            utc_timestamp,
            payload,
            extra: r.rest(),
        })
    }
}

/// The decoded `biz_content` of a [`GatewayMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessagePayload {
    /// `alipay.trade.refund.depositback.completed`.
    DepositBackCompleted(DepositBackCompleted),
    /// Any other message: the JSON (`Null` when there is no `biz_content`).
    Other(serde_json::Value),
}

/// `alipay.trade.refund.depositback.completed`: the refund reached (or failed to reach) the
/// buyer's bank card. Sent only for refunds made with `query_options:["deposit_back_info"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DepositBackCompleted {
    /// `trade_no`.
    pub trade_no: String,
    /// `out_trade_no`.
    pub out_trade_no: String,
    /// `out_request_no`: the refund request.
    pub out_request_no: String,
    /// `dback_status`: `S` or `F`.
    pub dback_status: DbackStatus,
    /// `dback_amount`.
    pub dback_amount: Amount,
    /// `bank_ack_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_ack_time: Option<String>,
    /// `est_bank_receipt_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub est_bank_receipt_time: Option<String>,
    /// Other keys, kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl DepositBackCompleted {
    /// `alipay.trade.refund.depositback.completed`.
    pub const MSG_METHOD: &'static str = "alipay.trade.refund.depositback.completed";
}

/// Whether the money reached the bank card.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DbackStatus {
    /// `S`: arrived.
    Success,
    /// `F`: failed.
    Failed,
    /// Another value, kept.
    Unknown(String),
}

impl DbackStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            DbackStatus::Success => "S",
            DbackStatus::Failed => "F",
            DbackStatus::Unknown(s) => s,
        }
    }
}

impl fmt::Display for DbackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DbackStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DbackStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "S" => DbackStatus::Success,
            "F" => DbackStatus::Failed,
            _ => DbackStatus::Unknown(s),
        })
    }
}

/// A notification of a type this crate does not model, kept as received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownNotification {
    /// `notify_type`, when present.
    pub notify_type: Option<String>,
    /// `notify_id`, when present.
    pub notify_id: Option<String>,
    /// Every field but `sign`.
    pub fields: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &str) -> Result<Event, Error> {
        Event::from_form(&Form::parse(body.as_bytes(), None).unwrap())
    }

    const TRADE: &str = "notify_type=trade_status_sync&notify_id=n1&notify_time=2024-05-13+17%3A49%3A25\
        &app_id=2021&trade_no=T&out_trade_no=O&trade_status=TRADE_SUCCESS&total_amount=88.8\
        &refund_fee=10&gmt_refund=2024-05-14+10%3A00%3A00.123&out_biz_no=R1\
        &fund_bill_list=%5B%7B%22amount%22%3A%2278.80%22%2C%22fundChannel%22%3A%22ALIPAYACCOUNT%22%7D%2C%7B%22amount%22%3A%2210.00%22%2C%22fundChannel%22%3A%22PCREDIT%22%2C%22realAmount%22%3A%2210%22%7D%5D\
        &passback_params=a%253Db%2526c&new_field=kept&sign=s&sign_type=RSA2&charset=utf-8";

    #[test]
    fn trade_notification() {
        let Event::Trade(t) = event(TRADE).unwrap() else {
            panic!("trade")
        };
        assert_eq!(t.notify_id, "n1");
        assert_eq!(t.notify_time, "2024-05-13 17:49:25");
        assert_eq!(t.trade_status, TradeStatus::TradeSuccess);
        assert_eq!(t.total_amount, Some(Amount::from_fen(8880)));
        assert_eq!(t.refund_fee, Some(Amount::from_fen(1000)));
        assert_eq!(t.gmt_refund.as_deref(), Some("2024-05-14 10:00:00.123"));
        assert_eq!(t.out_biz_no.as_deref(), Some("R1"));
        assert!(t.is_refund());
        assert_eq!(t.fund_bill_list.len(), 2);
        assert_eq!(t.fund_bill_list[0].fund_channel, "ALIPAYACCOUNT");
        assert_eq!(t.fund_bill_list[0].amount, Amount::from_fen(7880));
        assert_eq!(
            t.fund_bill_list[1].real_amount,
            Some(Amount::from_fen(1000))
        );
        // Decoded once: the merchant's own encoding survives.
        assert_eq!(t.passback_params.as_deref(), Some("a%3Db%26c"));
        assert_eq!(
            t.extra.iter().collect::<Vec<_>>(),
            [(&"new_field".to_owned(), &"kept".to_owned())]
        );
        assert_eq!(t.receipt_amount, None);
    }

    #[test]
    fn trade_errors_name_the_field() {
        let err = event(&TRADE.replace("total_amount=88.8", "total_amount=88.888")).unwrap_err();
        assert!(err.is_event());
        assert_eq!(err.field(), Some("total_amount"));
        assert_eq!(
            err.to_string(),
            "`total_amount` is not an amount of yuan: amount has more than two decimal places (found `88.888`)"
        );
        let err = event(&TRADE.replace("&trade_no=T", "")).unwrap_err();
        assert_eq!(err.to_string(), "the trade notification has no `trade_no`");
        // A framework's HTML escaping of fund_bill_list.
        let err = event(&TRADE.replace("%22amount%22", "%26quot%3Bamount%26quot%3B")).unwrap_err();
        assert!(err.is_event());
        assert_eq!(err.field(), Some("fund_bill_list"));
    }

    #[test]
    fn deposit_back_message() {
        let biz = r#"{"trade_no":"2024","out_trade_no":"O1","out_request_no":"R1","dback_status":"S","dback_amount":"1.50","bank_ack_time":"2024-05-14 10:00:00","est_bank_receipt_time":"2024-05-15 10:00:00","new":1}"#;
        let mut body = b"msg_method=alipay.trade.refund.depositback.completed&notify_id=m1&utc_timestamp=1715590165000&app_id=2021&version=1.1&biz_content=".to_vec();
        crate::build::form_encode(biz.as_bytes(), &mut body);
        let form = Form::parse(&body, None).unwrap();
        let Event::Message(m) = Event::from_form(&form).unwrap() else {
            panic!("message")
        };
        assert_eq!(m.notify_id.as_deref(), Some("m1"));
        assert_eq!(m.utc_timestamp, Some(1_715_590_165_000));
        assert_eq!(m.biz_content.as_deref(), Some(biz));
        let MessagePayload::DepositBackCompleted(d) = &m.payload else {
            panic!("deposit back")
        };
        assert_eq!(d.dback_status, DbackStatus::Success);
        assert_eq!(d.dback_amount, Amount::from_fen(150));
        assert_eq!(d.out_request_no, "R1");
        assert_eq!(d.extra.get("new"), Some(&serde_json::json!(1)));
        assert!(m.extra.is_empty());
    }

    #[test]
    fn other_messages_are_raw_json() {
        let Event::Message(m) =
            event("msg_method=alipay.open.sp.sign.sync.notify&biz_content=%7B%22a%22%3A%5B1%5D%7D")
                .unwrap()
        else {
            panic!("message")
        };
        assert_eq!(
            m.payload,
            MessagePayload::Other(serde_json::json!({"a": [1]}))
        );
        let err = event("msg_method=x&biz_content=%7Bnot+json").unwrap_err();
        assert!(err.is_event());
        assert_eq!(err.field(), Some("biz_content"));
        let err = event("msg_method=x&utc_timestamp=soon").unwrap_err();
        assert_eq!(err.field(), Some("utc_timestamp"));
    }

    #[test]
    fn unknown_is_kept() {
        let e = event("notify_type=servicemarket_order_notify&notify_id=s1&title=%E6%A8%A1&sign=x")
            .unwrap();
        assert_eq!(e.notify_id(), Some("s1"));
        let Event::Unknown(u) = e else {
            panic!("unknown")
        };
        assert_eq!(u.notify_type.as_deref(), Some("servicemarket_order_notify"));
        assert_eq!(u.fields.get("title").map(String::as_str), Some("模"));
        assert!(!u.fields.contains_key("sign"));
    }
}
