//! The data the emulator holds (trades, refunds, notifications) and the two shapes every
//! operation answers with: fields on success, a [`Fail`] otherwise.

use std::collections::HashMap;

use alipay_model::{Amount, AmountError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The fields of a successful answer, in the order they are written.
pub(crate) type Fields = Map<String, Value>;

/// A failed call: the gateway `code`/`msg`, the `sub_code`/`sub_msg`, fields some APIs add to
/// errors (`retry_flag` of cancel), and the HTTP status a v3 answer gets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fail {
    pub(crate) code: &'static str,
    pub(crate) msg: &'static str,
    pub(crate) sub_code: String,
    pub(crate) sub_msg: String,
    pub(crate) extra: Vec<(String, Value)>,
    pub(crate) status: u16,
}

impl Fail {
    fn new(
        code: &'static str,
        msg: &'static str,
        sub_code: &str,
        sub_msg: &str,
        status: u16,
    ) -> Self {
        Fail {
            code,
            msg,
            sub_code: sub_code.to_owned(),
            sub_msg: sub_msg.to_owned(),
            extra: Vec::new(),
            status,
        }
    }

    /// `20000`: the service is unavailable, the outcome unknown.
    pub(crate) fn unavailable() -> Self {
        Self::new(
            "20000",
            "Service Currently Unavailable",
            "isp.unknow-error",
            "系统繁忙",
            500,
        )
    }

    /// `20001`: a token (`app_auth_token`, `auth_token`) is not valid.
    pub(crate) fn token(sub_code: &str, sub_msg: &str) -> Self {
        Self::new(
            "20001",
            "Insufficient Token Permissions",
            sub_code,
            sub_msg,
            401,
        )
    }

    /// `40001`: a required common parameter is missing.
    pub(crate) fn missing(sub_code: &str, sub_msg: &str) -> Self {
        Self::new(
            "40001",
            "Missing Required Arguments",
            sub_code,
            sub_msg,
            400,
        )
    }

    /// `40002`: a common parameter is not valid.
    pub(crate) fn invalid(sub_code: &str, sub_msg: &str) -> Self {
        Self::new("40002", "Invalid Arguments", sub_code, sub_msg, 400)
    }

    /// `40003`.
    pub(crate) fn conditions(sub_code: &str, sub_msg: &str) -> Self {
        Self::new("40003", "Insufficient Conditions", sub_code, sub_msg, 400)
    }

    /// `40004` with an `ACQ.*` (or other business) `sub_code`.
    pub(crate) fn business(sub_code: &str, sub_msg: &str) -> Self {
        Self::new("40004", "Business Failed", sub_code, sub_msg, 400)
    }

    /// `40004` `ACQ.INVALID_PARAMETER`, naming the parameter.
    pub(crate) fn param(detail: &str) -> Self {
        Self::business("ACQ.INVALID_PARAMETER", &format!("参数无效：{detail}"))
    }

    /// `40004` `ACQ.SYSTEM_ERROR`: the outcome is unknown.
    pub(crate) fn system_error() -> Self {
        let mut f = Self::business("ACQ.SYSTEM_ERROR", "系统错误");
        f.status = 500;
        f
    }

    /// `40004` `ACQ.TRADE_NOT_EXIST`.
    pub(crate) fn trade_not_exist() -> Self {
        Self::business("ACQ.TRADE_NOT_EXIST", "交易不存在")
    }

    /// With the v3 HTTP status `status`.
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// With an extra field written after `sub_msg`.
    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.push((key.to_owned(), value.into()));
        self
    }

    /// The v2 node: `code, msg, sub_code, sub_msg`, then the extra fields.
    pub(crate) fn node(&self) -> Fields {
        let mut m = Fields::new();
        m.insert("code".into(), self.code.into());
        m.insert("msg".into(), self.msg.into());
        m.insert("sub_code".into(), self.sub_code.clone().into());
        m.insert("sub_msg".into(), self.sub_msg.clone().into());
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    /// The v3 `code`: the `sub_code` without its `isv.`/`isp.`/`aop.` prefix (`ACQ.*` codes
    /// stay whole).
    pub(crate) fn v3_code(&self) -> String {
        for prefix in ["isv.", "isp.", "aop."] {
            if let Some(rest) = self.sub_code.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
        self.sub_code.clone()
    }
}

/// The business parameters of a call: the `biz_content` object (v2), the JSON body or query
/// (v3). Values are kept as raw JSON so amounts written as numbers are read from their exact
/// text, never through floating point.
#[derive(Debug, Default)]
pub(crate) struct Biz {
    fields: HashMap<String, Box<RawValue>>,
}

impl Biz {
    /// Parses a JSON object.
    pub(crate) fn from_json(text: &str) -> Result<Self, Fail> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Biz::default());
        }
        serde_json::from_str::<HashMap<String, Box<RawValue>>>(text)
            .map(|fields| Biz { fields })
            .map_err(|e| Fail::param(&format!("业务参数不是合法的 JSON 对象 ({e})")))
    }

    /// Plain text parameters (v3 query strings, `alipay.system.oauth.token`).
    pub(crate) fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut fields = HashMap::new();
        for (k, v) in pairs {
            if let Ok(raw) = serde_json::value::to_raw_value(v) {
                fields.entry(k.to_owned()).or_insert(raw);
            }
        }
        Biz { fields }
    }

    /// A text parameter. Strings are read as they are, numbers and booleans by their JSON text;
    /// `null` and `""` count as absent; objects and arrays are an error.
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, Fail> {
        let Some(raw) = self.fields.get(key) else {
            return Ok(None);
        };
        let t = raw.get().trim();
        let value = if t.starts_with('"') {
            serde_json::from_str::<String>(t).map_err(|_| Fail::param(key))?
        } else if t == "null" {
            return Ok(None);
        } else if t.starts_with(['{', '[']) {
            return Err(Fail::param(&format!("{key} 应为字符串")));
        } else {
            t.to_owned()
        };
        Ok(if value.is_empty() { None } else { Some(value) })
    }

    /// A required text parameter.
    pub(crate) fn required(&self, key: &str) -> Result<String, Fail> {
        self.text(key)?
            .ok_or_else(|| Fail::param(&format!("缺少必选参数 {key}")))
    }

    /// An amount in yuan (string or JSON number), checked against 0.01..=100000000.
    pub(crate) fn amount(&self, key: &str) -> Result<Option<Amount>, Fail> {
        match self.text(key)? {
            None => Ok(None),
            Some(t) => parse_amount(key, &t).map(Some),
        }
    }

    /// A required amount.
    pub(crate) fn required_amount(&self, key: &str) -> Result<Amount, Fail> {
        self.amount(key)?
            .ok_or_else(|| Fail::param(&format!("缺少必选参数 {key}")))
    }

    /// Any parameter as a JSON value.
    pub(crate) fn value(&self, key: &str) -> Option<Value> {
        self.fields
            .get(key)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// A list of strings (`query_options`): a JSON array of strings, or one string.
    pub(crate) fn strings(&self, key: &str) -> Vec<String> {
        match self.value(key) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Reads an amount the way the gateway checks it (PROTOCOL §9): at most two decimals, in
/// 0.01..=100000000.
pub(crate) fn parse_amount(key: &str, text: &str) -> Result<Amount, Fail> {
    match Amount::parse_payment(text) {
        Ok(a) => Ok(a),
        Err(e) if e.is_out_of_range() && text.parse::<Amount>().is_ok_and(|a| a.fen() > 0) => {
            Err(Fail::business(
                "ACQ.TOTAL_FEE_EXCEED",
                &format!("{key} 超过限额 100000000.00"),
            ))
        }
        Err(e) => Err(Fail::param(&format!(
            "{key}={text} ({})",
            amount_reason(&e)
        ))),
    }
}

fn amount_reason(e: &AmountError) -> &'static str {
    if e.is_too_many_decimals() {
        "最多两位小数"
    } else if e.is_out_of_range() || e.is_negative() {
        "取值范围 [0.01,100000000]"
    } else {
        "不是金额"
    }
}

/// `trade_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Status {
    WaitBuyerPay,
    TradeSuccess,
    TradeClosed,
    TradeFinished,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::WaitBuyerPay => "WAIT_BUYER_PAY",
            Status::TradeSuccess => "TRADE_SUCCESS",
            Status::TradeClosed => "TRADE_CLOSED",
            Status::TradeFinished => "TRADE_FINISHED",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "WAIT_BUYER_PAY" => Some(Status::WaitBuyerPay),
            "TRADE_SUCCESS" => Some(Status::TradeSuccess),
            "TRADE_CLOSED" => Some(Status::TradeClosed),
            "TRADE_FINISHED" => Some(Status::TradeFinished),
            _ => None,
        }
    }
}

/// Which API created a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    Precreate,
    Pay,
    Create,
    PagePay,
    WapPay,
    AppPay,
    /// A cancel of an unknown `out_trade_no`: a closed placeholder that blocks a late payment.
    Cancel,
}

impl Origin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Origin::Precreate => "precreate",
            Origin::Pay => "pay",
            Origin::Create => "create",
            Origin::PagePay => "page_pay",
            Origin::WapPay => "wap_pay",
            Origin::AppPay => "app_pay",
            Origin::Cancel => "cancel",
        }
    }

    pub(crate) fn product_code(self) -> &'static str {
        match self {
            Origin::Precreate | Origin::Pay | Origin::Cancel => "FACE_TO_FACE_PAYMENT",
            Origin::Create => "JSAPI_PAY",
            Origin::PagePay => "FAST_INSTANT_TRADE_PAY",
            Origin::WapPay => "QUICK_WAP_WAY",
            Origin::AppPay => "QUICK_MSECURITY_PAY",
        }
    }
}

/// The buyer of a trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Buyer {
    pub(crate) user_id: String,
    pub(crate) logon_id: String,
    pub(crate) open_id: String,
}

/// One refund of a trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Refund {
    pub(crate) out_request_no: String,
    pub(crate) amount_fen: u64,
    pub(crate) reason: Option<String>,
    pub(crate) at_ms: i64,
}

/// One `alipay.trade.order.settle` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Settle {
    pub(crate) out_request_no: String,
    pub(crate) amount_fen: u64,
    pub(crate) mode: String,
    pub(crate) at_ms: i64,
    pub(crate) finish: bool,
}

/// A trade as the emulator holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Trade {
    pub(crate) app_id: String,
    /// The merchant's app when an ISV acts for it with `app_auth_token`, else `app_id`.
    pub(crate) auth_app_id: String,
    pub(crate) seller_id: String,
    pub(crate) out_trade_no: String,
    pub(crate) trade_no: String,
    pub(crate) origin: Origin,
    pub(crate) product_code: String,
    pub(crate) subject: String,
    pub(crate) body: Option<String>,
    pub(crate) total_fen: u64,
    pub(crate) status: Status,
    /// `false` for a precreated trade nobody has scanned yet: Alipay does not know it.
    pub(crate) visible: bool,
    pub(crate) abandoned: bool,
    pub(crate) created_ms: i64,
    pub(crate) paid_ms: Option<i64>,
    pub(crate) closed_ms: Option<i64>,
    pub(crate) finished_ms: Option<i64>,
    pub(crate) deadline_ms: Option<i64>,
    pub(crate) auto_pay_ms: Option<i64>,
    pub(crate) buyer: Option<Buyer>,
    pub(crate) notify_url: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) charset: String,
    pub(crate) sign_type: String,
    pub(crate) passback_params: Option<String>,
    pub(crate) qr_code: Option<String>,
    pub(crate) store_id: Option<String>,
    pub(crate) operator_id: Option<String>,
    pub(crate) terminal_id: Option<String>,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) settles: Vec<Settle>,
}

impl Trade {
    /// The sum of all refunds, in fen.
    pub(crate) fn refunded_fen(&self) -> u64 {
        self.refunds.iter().map(|r| r.amount_fen).sum()
    }

    pub(crate) fn is_paid(&self) -> bool {
        self.paid_ms.is_some()
    }
}

/// Formats fen as yuan with two decimals.
pub(crate) fn yuan(fen: u64) -> String {
    Amount::from_fen(fen).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biz_reads_exact_text() {
        let b = Biz::from_json(
            r#"{"a":"x","n":0.1,"i":12,"t":true,"z":null,"e":"","o":{"k":1},"q":["fund_bill_list","x"]}"#,
        )
        .unwrap();
        assert_eq!(b.text("a").unwrap().as_deref(), Some("x"));
        assert_eq!(b.text("n").unwrap().as_deref(), Some("0.1"));
        assert_eq!(b.amount("n").unwrap(), Some(Amount::from_fen(10)));
        assert_eq!(b.amount("i").unwrap(), Some(Amount::from_fen(1200)));
        assert_eq!(b.text("t").unwrap().as_deref(), Some("true"));
        assert_eq!(b.text("z").unwrap(), None);
        assert_eq!(b.text("e").unwrap(), None);
        assert_eq!(b.text("missing").unwrap(), None);
        assert!(b.text("o").is_err());
        assert_eq!(b.strings("q"), ["fund_bill_list", "x"]);
        assert_eq!(b.value("o"), Some(serde_json::json!({"k": 1})));
        assert!(Biz::from_json("[1]").is_err());
        assert!(Biz::from_json("").unwrap().text("a").unwrap().is_none());
    }

    #[test]
    fn amount_rules() {
        let err = |t: &str| parse_amount("total_amount", t).unwrap_err().sub_code;
        assert_eq!(parse_amount("x", "88.8").unwrap().fen(), 8880);
        assert_eq!(err("0"), "ACQ.INVALID_PARAMETER");
        assert_eq!(err("0.001"), "ACQ.INVALID_PARAMETER");
        assert_eq!(err("-1"), "ACQ.INVALID_PARAMETER");
        assert_eq!(err("abc"), "ACQ.INVALID_PARAMETER");
        assert_eq!(err("100000000.01"), "ACQ.TOTAL_FEE_EXCEED");
        assert_eq!(
            parse_amount("x", "100000000").unwrap().fen(),
            10_000_000_000
        );
        assert_eq!(
            parse_amount("total_amount", "1.005").unwrap_err().sub_msg,
            "参数无效：total_amount=1.005 (最多两位小数)"
        );
    }

    #[test]
    fn fail_shapes() {
        let f = Fail::business("ACQ.TRADE_NOT_EXIST", "交易不存在").with("retry_flag", "N");
        assert_eq!(
            serde_json::to_string(&f.node()).unwrap(),
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在","retry_flag":"N"}"#
        );
        assert_eq!(f.v3_code(), "ACQ.TRADE_NOT_EXIST");
        assert_eq!(
            Fail::invalid("isv.invalid-signature", "x").v3_code(),
            "invalid-signature"
        );
        assert_eq!(Fail::unavailable().v3_code(), "unknow-error");
    }
}
