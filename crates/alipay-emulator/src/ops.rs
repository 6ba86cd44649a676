//! The trade lifecycle (PROTOCOL §9): every operation of the gateway and the buyer's actions,
//! as functions over the locked state. Protocol details (v2 nodes, v3 bodies, signatures) are
//! elsewhere; these return fields or a [`Fail`].

use alipay_sign::{Charset, SignType};
use serde_json::{Value, json};

use crate::app::App;
use crate::clock::{format_time, format_time_millis};
use crate::crypto::{random_alnum, random_digits, random_hex};
use crate::model::{Biz, Buyer, Fail, Fields, Origin, Refund, Settle, Status, Trade, yuan};
use crate::state::{BillTicket, Config, Draft, Inner, OauthCode, UserToken};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// How long a precreate QR code can be scanned.
const QR_VALIDITY_MS: i64 = 2 * HOUR_MS;

/// The operations the emulator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Precreate,
    Pay,
    Create,
    PagePay,
    WapPay,
    AppPay,
    Query,
    Cancel,
    Close,
    Refund,
    RefundQuery,
    Settle,
    BillUrl,
    CertDownload,
    OauthToken,
}

impl Op {
    /// The v2 `method`.
    pub(crate) fn from_method(method: &str) -> Option<Op> {
        Some(match method {
            "alipay.trade.precreate" => Op::Precreate,
            "alipay.trade.pay" => Op::Pay,
            "alipay.trade.create" => Op::Create,
            "alipay.trade.page.pay" => Op::PagePay,
            "alipay.trade.wap.pay" => Op::WapPay,
            "alipay.trade.app.pay" => Op::AppPay,
            "alipay.trade.query" => Op::Query,
            "alipay.trade.cancel" => Op::Cancel,
            "alipay.trade.close" => Op::Close,
            "alipay.trade.refund" => Op::Refund,
            "alipay.trade.fastpay.refund.query" => Op::RefundQuery,
            "alipay.trade.order.settle" => Op::Settle,
            "alipay.data.dataservice.bill.downloadurl.query" => Op::BillUrl,
            "alipay.open.app.alipaycert.download" => Op::CertDownload,
            "alipay.system.oauth.token" => Op::OauthToken,
            _ => return None,
        })
    }

    /// The v3 route: `(HTTP method, path)`.
    pub(crate) fn from_v3(http_method: &str, path: &str) -> Option<Op> {
        Some(match (http_method, path) {
            ("POST", "/v3/alipay/trade/precreate") => Op::Precreate,
            ("POST", "/v3/alipay/trade/pay") => Op::Pay,
            ("POST", "/v3/alipay/trade/create") => Op::Create,
            ("POST", "/v3/alipay/trade/query") => Op::Query,
            ("POST", "/v3/alipay/trade/cancel") => Op::Cancel,
            ("POST", "/v3/alipay/trade/close") => Op::Close,
            ("POST", "/v3/alipay/trade/refund") => Op::Refund,
            ("POST", "/v3/alipay/trade/fastpay/refund/query") => Op::RefundQuery,
            ("POST", "/v3/alipay/trade/order/settle") => Op::Settle,
            ("GET", "/v3/alipay/data/dataservice/bill/downloadurl/query") => Op::BillUrl,
            ("POST", "/v3/alipay/system/oauth/token") => Op::OauthToken,
            _ => return None,
        })
    }

    /// The v2 method name (also the name faults are set for).
    pub(crate) fn method(self) -> &'static str {
        match self {
            Op::Precreate => "alipay.trade.precreate",
            Op::Pay => "alipay.trade.pay",
            Op::Create => "alipay.trade.create",
            Op::PagePay => "alipay.trade.page.pay",
            Op::WapPay => "alipay.trade.wap.pay",
            Op::AppPay => "alipay.trade.app.pay",
            Op::Query => "alipay.trade.query",
            Op::Cancel => "alipay.trade.cancel",
            Op::Close => "alipay.trade.close",
            Op::Refund => "alipay.trade.refund",
            Op::RefundQuery => "alipay.trade.fastpay.refund.query",
            Op::Settle => "alipay.trade.order.settle",
            Op::BillUrl => "alipay.data.dataservice.bill.downloadurl.query",
            Op::CertDownload => "alipay.open.app.alipaycert.download",
            Op::OauthToken => "alipay.system.oauth.token",
        }
    }
}

/// Who calls and how.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) app: &'a App,
    pub(crate) seller_id: String,
    pub(crate) auth_app_id: String,
    pub(crate) charset: Charset,
    pub(crate) sign_type: SignType,
    pub(crate) notify_url: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) now: i64,
    pub(crate) base_url: &'a str,
    pub(crate) config: &'a Config,
}

/// What an operation produced.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `10000` with these fields.
    Done(Fields),
    /// `10003` (bar-code payment waiting for the buyer) with these fields.
    InProcess(Fields),
    /// A page/wap payment: the buyer goes to the cashier of this trade (`trade_no`).
    Cashier(String),
}

/// Runs one trade operation (not the certificate download, which needs the authority).
pub(crate) fn execute(
    inner: &mut Inner,
    ctx: &Ctx<'_>,
    op: Op,
    biz: &Biz,
) -> Result<Outcome, Fail> {
    match op {
        Op::Precreate => precreate(inner, ctx, biz).map(Outcome::Done),
        Op::Pay => pay(inner, ctx, biz),
        Op::Create => create(inner, ctx, biz).map(Outcome::Done),
        Op::PagePay | Op::WapPay | Op::AppPay => redirect_order(inner, ctx, op, biz),
        Op::Query => query(inner, ctx, biz).map(Outcome::Done),
        Op::Cancel => cancel(inner, ctx, biz).map(Outcome::Done),
        Op::Close => close(inner, ctx, biz).map(Outcome::Done),
        Op::Refund => refund(inner, ctx, biz).map(Outcome::Done),
        Op::RefundQuery => refund_query(inner, ctx, biz).map(Outcome::Done),
        Op::Settle => settle(inner, ctx, biz).map(Outcome::Done),
        Op::BillUrl => bill_url(inner, ctx, biz).map(Outcome::Done),
        Op::OauthToken => oauth_token(inner, ctx, biz).map(Outcome::Done),
        Op::CertDownload => Err(Fail::business("ACQ.SYSTEM_ERROR", "系统错误")),
    }
}

fn fields() -> Fields {
    Fields::new()
}

fn put(m: &mut Fields, key: &str, value: impl Into<Value>) {
    m.insert(key.to_owned(), value.into());
}

fn validate_out_trade_no(no: &str) -> Result<(), Fail> {
    if no.len() > 64 || !no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Fail::param(&format!(
            "out_trade_no={no} (最长 64 位，只能包含字母、数字、下划线)"
        )));
    }
    Ok(())
}

fn validate_subject(subject: &str) -> Result<(), Fail> {
    if subject.chars().count() > 256 || subject.contains(['/', '=', '&']) {
        return Err(Fail::param(&format!(
            "subject={subject} (最长 256 个字符，不可包含 / = &)"
        )));
    }
    Ok(())
}

/// The close time from `time_expire` (absolute, wins) or `timeout_express` (relative).
fn deadline(biz: &Biz, default_ms: i64, now: i64) -> Result<i64, Fail> {
    if let Some(t) = biz.text("time_expire")? {
        let at = crate::clock::parse_time(&t)
            .ok_or_else(|| Fail::param(&format!("time_expire={t} (格式 yyyy-MM-dd HH:mm:ss)")))?;
        if at <= now {
            return Err(Fail::business(
                "ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR",
                "当前时间已超过订单绝对超时时间",
            ));
        }
        return Ok(at);
    }
    match biz.text("timeout_express")? {
        Some(t) => parse_timeout_express(&t, now)
            .ok_or_else(|| Fail::param(&format!("timeout_express={t} (取值范围 1m～15d 或 1c)"))),
        None => Ok(now + default_ms),
    }
}

/// `90m`, `2h`, `15d`, or `1c` (the end of the current day, UTC+8).
pub(crate) fn parse_timeout_express(text: &str, now: i64) -> Option<i64> {
    if text == "1c" {
        let tomorrow = crate::clock::date_of(now).tomorrow().ok()?;
        return Some(crate::clock::start_of_day_ms(tomorrow));
    }
    let unit = text.chars().last()?;
    let digits = text.get(..text.len() - unit.len_utf8())?;
    let unit = unit.to_string();
    let unit = unit.as_str();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let ms = match unit {
        "m" => n * MINUTE_MS,
        "h" => n * HOUR_MS,
        "d" => n * DAY_MS,
        _ => return None,
    };
    (MINUTE_MS..=15 * DAY_MS).contains(&ms).then_some(now + ms)
}

fn new_buyer() -> Buyer {
    let phone_tail = random_digits(4);
    Buyer {
        user_id: format!("2088{}", random_digits(12)),
        logon_id: format!("138****{phone_tail}"),
        open_id: format!("074{}", random_alnum(43)),
    }
}

fn buyer_from_biz(biz: &Biz) -> Result<Option<Buyer>, Fail> {
    let user_id = biz.text("buyer_id")?;
    let open_id = biz.text("buyer_open_id")?.or(biz.text("op_buyer_open_id")?);
    if user_id.is_none() && open_id.is_none() {
        return Ok(None);
    }
    let generated = new_buyer();
    Ok(Some(Buyer {
        user_id: user_id.unwrap_or(generated.user_id),
        logon_id: generated.logon_id,
        open_id: open_id.unwrap_or(generated.open_id),
    }))
}

fn new_trade_no(inner: &mut Inner, now: i64) -> String {
    let seq = inner.next_seq();
    format!(
        "{}22001{:05}{:010}",
        crate::clock::format_compact_date(now),
        random_digits(5),
        seq
    )
}

/// The common checks of a new order: fields, and what to do when the `out_trade_no` exists.
struct NewOrder {
    out_trade_no: String,
    subject: String,
    total_fen: u64,
}

fn read_order(biz: &Biz) -> Result<NewOrder, Fail> {
    let out_trade_no = biz.required("out_trade_no")?;
    validate_out_trade_no(&out_trade_no)?;
    let total = biz.required_amount("total_amount")?;
    let subject = biz.required("subject")?;
    validate_subject(&subject)?;
    Ok(NewOrder {
        out_trade_no,
        subject,
        total_fen: total.fen(),
    })
}

/// `Some(idx)` when the same order exists and may be answered again; an error when it exists
/// with other content or in a final state.
fn existing(inner: &Inner, ctx: &Ctx<'_>, order: &NewOrder) -> Result<Option<usize>, Fail> {
    let Some(idx) = inner.find(&ctx.seller_id, None, Some(&order.out_trade_no)) else {
        return Ok(None);
    };
    let Some(t) = inner.trades.get(idx) else {
        return Ok(None);
    };
    if t.origin == Origin::Cancel || t.status == Status::TradeClosed {
        return Err(Fail::business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"));
    }
    if t.total_fen != order.total_fen || t.subject != order.subject {
        return Err(Fail::business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"));
    }
    if t.is_paid() {
        return Err(Fail::business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"));
    }
    Ok(Some(idx))
}

fn base_trade(
    inner: &mut Inner,
    ctx: &Ctx<'_>,
    origin: Origin,
    order: &NewOrder,
    biz: &Biz,
    deadline_ms: i64,
) -> Result<Trade, Fail> {
    Ok(Trade {
        app_id: ctx.app.app_id.clone(),
        auth_app_id: ctx.auth_app_id.clone(),
        seller_id: ctx.seller_id.clone(),
        out_trade_no: order.out_trade_no.clone(),
        trade_no: new_trade_no(inner, ctx.now),
        origin,
        product_code: biz
            .text("product_code")?
            .unwrap_or_else(|| origin.product_code().to_owned()),
        subject: order.subject.clone(),
        body: biz.text("body")?,
        total_fen: order.total_fen,
        status: Status::WaitBuyerPay,
        visible: true,
        abandoned: false,
        created_ms: ctx.now,
        paid_ms: None,
        closed_ms: None,
        finished_ms: None,
        deadline_ms: Some(deadline_ms),
        auto_pay_ms: None,
        buyer: None,
        notify_url: ctx.notify_url.clone(),
        return_url: ctx.return_url.clone(),
        charset: ctx.charset.as_str().to_owned(),
        sign_type: ctx.sign_type.as_str().to_owned(),
        passback_params: biz.text("passback_params")?,
        qr_code: None,
        store_id: biz.text("store_id")?,
        operator_id: biz.text("operator_id")?,
        terminal_id: biz.text("terminal_id")?,
        refunds: Vec::new(),
        settles: Vec::new(),
    })
}

fn precreate(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let order = read_order(biz)?;
    let idx = match existing(inner, ctx, &order)? {
        Some(idx) => idx,
        None => {
            let deadline_ms = deadline(biz, 3 * HOUR_MS, ctx.now)?;
            let mut t = base_trade(inner, ctx, Origin::Precreate, &order, biz, deadline_ms)?;
            t.visible = false;
            t.qr_code = Some(format!("{}/qr/bax0{}", ctx.base_url, random_alnum(21)));
            inner.insert_trade(t)
        }
    };
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    let mut m = fields();
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    put(&mut m, "qr_code", t.qr_code.clone().unwrap_or_default());
    Ok(m)
}

/// Which outcome an `auth_code` chooses (`../shared/CLI.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthCodeOutcome {
    Paid,
    InProcess,
    BalanceNotEnough,
    Invalid,
}

/// A valid code has 16–24 digits and starts with 25–30, or is `fp` and 33 characters.
pub(crate) fn auth_code_outcome(code: &str) -> AuthCodeOutcome {
    let digits_ok = (16..=24).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit())
        && code
            .get(..2)
            .and_then(|p| p.parse::<u8>().ok())
            .is_some_and(|p| (25..=30).contains(&p));
    let face_ok = code.len() == 35
        && code.starts_with("fp")
        && code.bytes().all(|b| b.is_ascii_alphanumeric());
    if !digits_ok && !face_ok {
        return AuthCodeOutcome::Invalid;
    }
    if code.ends_with("0003") {
        AuthCodeOutcome::InProcess
    } else if code.ends_with("0004") {
        AuthCodeOutcome::BalanceNotEnough
    } else if code.ends_with("0005") {
        AuthCodeOutcome::Invalid
    } else {
        AuthCodeOutcome::Paid
    }
}

fn fund_bill_list(total_fen: u64) -> Value {
    json!([{"fund_channel": "ALIPAYACCOUNT", "amount": yuan(total_fen)}])
}

fn pay_fields(t: &Trade, paid: bool) -> Fields {
    let mut m = fields();
    put(&mut m, "trade_no", t.trade_no.clone());
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    if let Some(b) = &t.buyer {
        put(&mut m, "buyer_logon_id", b.logon_id.clone());
    }
    put(&mut m, "total_amount", yuan(t.total_fen));
    let received = if paid { t.total_fen } else { 0 };
    put(&mut m, "receipt_amount", yuan(received));
    put(&mut m, "buyer_pay_amount", yuan(received));
    put(&mut m, "point_amount", "0.00");
    put(&mut m, "invoice_amount", yuan(received));
    if let Some(at) = t.paid_ms {
        put(&mut m, "gmt_payment", format_time(at));
        put(&mut m, "fund_bill_list", fund_bill_list(t.total_fen));
    }
    if let Some(b) = &t.buyer {
        put(&mut m, "buyer_user_id", b.user_id.clone());
        put(&mut m, "buyer_open_id", b.open_id.clone());
    }
    m
}

fn pay(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Outcome, Fail> {
    let order = read_order(biz)?;
    let auth_code = biz.required("auth_code")?;
    let scene = biz.text("scene")?.unwrap_or_else(|| "bar_code".to_owned());
    if !matches!(scene.as_str(), "bar_code" | "security_code") {
        return Err(Fail::param(&format!(
            "scene={scene} (bar_code 或 security_code)"
        )));
    }
    if let Some(idx) = existing(inner, ctx, &order)? {
        // The same order again while the buyer is still confirming: still in process.
        let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
        return Ok(Outcome::InProcess(pay_fields(t, false)));
    }
    match auth_code_outcome(&auth_code) {
        AuthCodeOutcome::Invalid => {
            return Err(Fail::business(
                "ACQ.PAYMENT_AUTH_CODE_INVALID",
                "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
            ));
        }
        AuthCodeOutcome::BalanceNotEnough => {
            return Err(Fail::business(
                "ACQ.BUYER_BALANCE_NOT_ENOUGH",
                "买家余额不足",
            ));
        }
        AuthCodeOutcome::Paid | AuthCodeOutcome::InProcess => {}
    }
    let deadline_ms = deadline(biz, 3 * HOUR_MS, ctx.now)?;
    let mut t = base_trade(inner, ctx, Origin::Pay, &order, biz, deadline_ms)?;
    t.buyer = Some(new_buyer());
    let in_process = auth_code_outcome(&auth_code) == AuthCodeOutcome::InProcess;
    if in_process {
        t.auto_pay_ms = Some(ctx.now + ctx.config.auto_pay_delay_ms);
    }
    let idx = inner.insert_trade(t);
    if in_process {
        let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
        return Ok(Outcome::InProcess(pay_fields(t, false)));
    }
    mark_paid(inner, idx, ctx.now);
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    Ok(Outcome::Done(pay_fields(t, true)))
}

fn create(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let order = read_order(biz)?;
    let buyer = buyer_from_biz(biz)?
        .ok_or_else(|| Fail::param("buyer_id、buyer_open_id、op_buyer_open_id 不能同时为空"))?;
    let idx = match existing(inner, ctx, &order)? {
        Some(idx) => idx,
        None => {
            let deadline_ms = deadline(biz, 15 * DAY_MS, ctx.now)?;
            let mut t = base_trade(inner, ctx, Origin::Create, &order, biz, deadline_ms)?;
            t.buyer = Some(buyer);
            inner.insert_trade(t)
        }
    };
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    let mut m = fields();
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    put(&mut m, "trade_no", t.trade_no.clone());
    Ok(m)
}

fn redirect_order(inner: &mut Inner, ctx: &Ctx<'_>, op: Op, biz: &Biz) -> Result<Outcome, Fail> {
    let order = read_order(biz)?;
    let (origin, expected) = match op {
        Op::PagePay => (Origin::PagePay, "FAST_INSTANT_TRADE_PAY"),
        Op::WapPay => (Origin::WapPay, "QUICK_WAP_WAY"),
        _ => (Origin::AppPay, "QUICK_MSECURITY_PAY"),
    };
    if let Some(code) = biz.text("product_code")?
        && code != expected
    {
        return Err(Fail::business(
            "ACQ.PRODUCT_CODE_INVALID",
            &format!("product_code={code}，{} 应为 {expected}", op.method()),
        ));
    }
    let idx = match existing(inner, ctx, &order)? {
        Some(idx) => idx,
        None => {
            let deadline_ms = deadline(biz, 15 * DAY_MS, ctx.now)?;
            let t = base_trade(inner, ctx, origin, &order, biz, deadline_ms)?;
            inner.insert_trade(t)
        }
    };
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    Ok(Outcome::Cashier(t.trade_no.clone()))
}

/// The trade named by `trade_no` / `out_trade_no` (one is required; `trade_no` wins).
fn lookup(inner: &Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<usize, Fail> {
    let trade_no = biz.text("trade_no")?;
    let out_trade_no = biz.text("out_trade_no")?;
    if trade_no.is_none() && out_trade_no.is_none() {
        return Err(Fail::param("trade_no 与 out_trade_no 不能同时为空"));
    }
    inner
        .find(&ctx.seller_id, trade_no.as_deref(), out_trade_no.as_deref())
        .filter(|i| inner.trades.get(*i).is_some_and(|t| t.visible))
        .ok_or_else(Fail::trade_not_exist)
}

fn query(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let idx = lookup(inner, ctx, biz)?;
    let options = biz.strings("query_options");
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    let mut m = fields();
    put(&mut m, "trade_no", t.trade_no.clone());
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    if let Some(b) = &t.buyer {
        put(&mut m, "buyer_logon_id", b.logon_id.clone());
    }
    put(&mut m, "trade_status", t.status.as_str());
    put(&mut m, "total_amount", yuan(t.total_fen));
    let received = if t.is_paid() { t.total_fen } else { 0 };
    put(&mut m, "buyer_pay_amount", yuan(received));
    put(&mut m, "point_amount", "0.00");
    put(&mut m, "invoice_amount", yuan(received));
    if let Some(at) = t.paid_ms {
        put(&mut m, "send_pay_date", format_time(at));
    }
    put(&mut m, "receipt_amount", yuan(received));
    if let Some(s) = &t.store_id {
        put(&mut m, "store_id", s.clone());
    }
    if let Some(s) = &t.terminal_id {
        put(&mut m, "terminal_id", s.clone());
    }
    if let Some(b) = &t.buyer {
        put(&mut m, "buyer_user_id", b.user_id.clone());
        put(&mut m, "buyer_open_id", b.open_id.clone());
    }
    put(&mut m, "subject", t.subject.clone());
    for option in &options {
        match option.as_str() {
            "fund_bill_list" if t.is_paid() => {
                put(&mut m, "fund_bill_list", fund_bill_list(t.total_fen));
            }
            "voucher_detail_list" => put(&mut m, "voucher_detail_list", json!([])),
            "trade_settle_info" => {
                let details: Vec<Value> = t
                    .settles
                    .iter()
                    .map(|s| {
                        json!({
                            "operation_type": "replenish",
                            "operation_serial_no": s.out_request_no,
                            "operation_dt": format_time(s.at_ms),
                            "amount": yuan(s.amount_fen),
                        })
                    })
                    .collect();
                put(
                    &mut m,
                    "trade_settle_info",
                    json!({"trade_settle_detail_list": details}),
                );
            }
            "buyer_user_type" => put(&mut m, "buyer_user_type", "PRIVATE"),
            _ => {}
        }
    }
    Ok(m)
}

fn close(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let idx = lookup(inner, ctx, biz)?;
    let t = inner.trades.get_mut(idx).ok_or_else(Fail::system_error)?;
    if t.status != Status::WaitBuyerPay {
        return Err(Fail::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
    }
    t.status = Status::TradeClosed;
    t.closed_ms = Some(ctx.now);
    t.auto_pay_ms = None;
    inner.dirty = true;
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    let mut m = fields();
    put(&mut m, "trade_no", t.trade_no.clone());
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    Ok(m)
}

fn cancel(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let trade_no = biz.text("trade_no")?;
    let out_trade_no = biz.text("out_trade_no")?;
    if trade_no.is_none() && out_trade_no.is_none() {
        return Err(Fail::param("trade_no 与 out_trade_no 不能同时为空"));
    }
    let found = inner.find(&ctx.seller_id, trade_no.as_deref(), out_trade_no.as_deref());
    let Some(idx) = found else {
        if let Some(out) = &out_trade_no {
            validate_out_trade_no(out)?;
            // Unknown: Alipay records a closed placeholder so a late payment cannot succeed.
            let order = NewOrder {
                out_trade_no: out.clone(),
                subject: String::new(),
                total_fen: 0,
            };
            let mut t = base_trade(inner, ctx, Origin::Cancel, &order, &Biz::default(), ctx.now)?;
            t.status = Status::TradeClosed;
            t.visible = false;
            t.closed_ms = Some(ctx.now);
            t.deadline_ms = None;
            inner.insert_trade(t);
            let mut m = fields();
            put(&mut m, "out_trade_no", out.clone());
            put(&mut m, "retry_flag", "N");
            return Ok(m);
        }
        return Err(Fail::trade_not_exist().with("retry_flag", "N"));
    };
    let (status, created, refunded, paid) = {
        let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
        (t.status, t.created_ms, t.refunded_fen(), t.is_paid())
    };
    if ctx.now - created > ctx.config.cancel_window_ms {
        return Err(
            Fail::business("ACQ.TRADE_CANCEL_TIME_OUT", "超过撤销时间范围").with("retry_flag", "N"),
        );
    }
    let action = match status {
        Status::WaitBuyerPay => {
            if let Some(t) = inner.trades.get_mut(idx) {
                t.status = Status::TradeClosed;
                t.closed_ms = Some(ctx.now);
                t.auto_pay_ms = None;
                t.abandoned = true;
                // An unscanned precreate becomes known as a closed trade.
                t.visible = true;
            }
            inner.dirty = true;
            "close"
        }
        Status::TradeSuccess if refunded == 0 => {
            let total = inner.trades.get(idx).map_or(0, |t| t.total_fen);
            apply_refund(
                inner,
                idx,
                ctx.now,
                &Refund {
                    out_request_no: String::new(),
                    amount_fen: total,
                    reason: Some("撤销".to_owned()),
                    at_ms: ctx.now,
                },
            );
            "refund"
        }
        Status::TradeClosed if paid => "refund",
        Status::TradeClosed => "close",
        Status::TradeSuccess | Status::TradeFinished => {
            return Err(
                Fail::business("ACQ.CANCEL_NOT_ALLOWED", "交易不允许撤销").with("retry_flag", "N")
            );
        }
    };
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    let mut m = fields();
    put(&mut m, "trade_no", t.trade_no.clone());
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    put(&mut m, "retry_flag", "N");
    put(&mut m, "action", action);
    if action == "refund"
        && let Some(r) = t.refunds.last()
    {
        put(&mut m, "gmt_refund_pay", format_time(r.at_ms));
    }
    Ok(m)
}

fn refund_fields(t: &Trade, fund_change: bool, options: &[String], this: &Refund) -> Fields {
    let mut m = fields();
    put(&mut m, "trade_no", t.trade_no.clone());
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    if let Some(b) = &t.buyer {
        put(&mut m, "buyer_logon_id", b.logon_id.clone());
    }
    put(&mut m, "fund_change", if fund_change { "Y" } else { "N" });
    put(&mut m, "refund_fee", yuan(t.refunded_fen()));
    put(&mut m, "gmt_refund_pay", format_time(this.at_ms));
    if let Some(b) = &t.buyer {
        put(&mut m, "buyer_user_id", b.user_id.clone());
        put(&mut m, "buyer_open_id", b.open_id.clone());
    }
    if options.iter().any(|o| o == "refund_detail_item_list") {
        put(
            &mut m,
            "refund_detail_item_list",
            json!([{"fund_channel": "ALIPAYACCOUNT", "amount": yuan(this.amount_fen)}]),
        );
        put(&mut m, "send_back_fee", yuan(this.amount_fen));
    }
    m
}

fn refund(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let idx = lookup(inner, ctx, biz)?;
    let amount = biz.required_amount("refund_amount")?;
    let options = biz.strings("query_options");
    let reason = biz.text("refund_reason")?;
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    // Without out_request_no the refund is keyed by out_trade_no (one refund only).
    let out_request_no = biz
        .text("out_request_no")?
        .unwrap_or_else(|| t.out_trade_no.clone());
    if out_request_no.len() > 64 {
        return Err(Fail::param("out_request_no 最长 64 位"));
    }
    if let Some(previous) = t
        .refunds
        .iter()
        .find(|r| r.out_request_no == out_request_no)
    {
        if previous.amount_fen != amount.fen() {
            return Err(Fail::business(
                "ACQ.DISCORDANT_REPEAT_REQUEST",
                "同一退款请求号的退款金额不一致",
            ));
        }
        return Ok(refund_fields(t, false, &options, previous));
    }
    match t.status {
        Status::WaitBuyerPay => {
            return Err(Fail::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
        }
        Status::TradeFinished => {
            return Err(Fail::business("ACQ.TRADE_HAS_FINISHED", "交易已完结"));
        }
        Status::TradeClosed if !t.is_paid() => {
            return Err(Fail::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
        }
        Status::TradeClosed | Status::TradeSuccess => {}
    }
    let remaining = t.total_fen.saturating_sub(t.refunded_fen());
    if amount.fen() > remaining {
        return Err(Fail::business(
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
            "退款金额超限",
        ));
    }
    let r = Refund {
        out_request_no,
        amount_fen: amount.fen(),
        reason,
        at_ms: ctx.now,
    };
    apply_refund(inner, idx, ctx.now, &r);
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    Ok(refund_fields(t, true, &options, &r))
}

fn refund_query(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let idx = lookup(inner, ctx, biz)?;
    let options = biz.strings("query_options");
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    let out_request_no = biz
        .text("out_request_no")?
        .unwrap_or_else(|| t.out_trade_no.clone());
    let mut m = fields();
    put(&mut m, "trade_no", t.trade_no.clone());
    put(&mut m, "out_trade_no", t.out_trade_no.clone());
    put(&mut m, "out_request_no", out_request_no.clone());
    let Some(r) = t
        .refunds
        .iter()
        .find(|r| r.out_request_no == out_request_no)
    else {
        // Not received (or failed): success without refund_status.
        return Ok(m);
    };
    put(&mut m, "total_amount", yuan(t.total_fen));
    put(&mut m, "refund_amount", yuan(r.amount_fen));
    if let Some(reason) = &r.reason {
        put(&mut m, "refund_reason", reason.clone());
    }
    put(&mut m, "refund_status", "REFUND_SUCCESS");
    for option in &options {
        match option.as_str() {
            "gmt_refund_pay" => put(&mut m, "gmt_refund_pay", format_time(r.at_ms)),
            "refund_detail_item_list" => {
                put(
                    &mut m,
                    "refund_detail_item_list",
                    json!([{"fund_channel": "ALIPAYACCOUNT", "amount": yuan(r.amount_fen)}]),
                );
                put(&mut m, "send_back_fee", yuan(r.amount_fen));
            }
            _ => {}
        }
    }
    Ok(m)
}

fn settle(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let out_request_no = biz.required("out_request_no")?;
    if out_request_no.len() > 64
        || !out_request_no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Fail::param(&format!(
            "out_request_no={out_request_no} (最长 64 位，只能包含字母、数字、下划线)"
        )));
    }
    let trade_no = biz.required("trade_no")?;
    let idx = inner
        .find(&ctx.seller_id, Some(&trade_no), None)
        .ok_or_else(Fail::trade_not_exist)?;
    let key = (ctx.seller_id.clone(), out_request_no.clone());
    if inner.settle_keys.contains_key(&key) {
        return Err(Fail::business("ACQ.DUP_OUT_REQUEST_NO", "外部请求号重复"));
    }
    let mode = biz
        .text("royalty_mode")?
        .unwrap_or_else(|| "sync".to_owned());
    if !matches!(mode.as_str(), "sync" | "async") {
        return Err(Fail::param(&format!("royalty_mode={mode} (sync 或 async)")));
    }
    let mut amount_fen: u64 = 0;
    match biz.value("royalty_parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in &items {
                let text = match item.get("amount") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(Fail::param("royalty_parameters.amount")),
                };
                let a = crate::model::parse_amount("royalty_parameters.amount", &text)?;
                amount_fen = amount_fen.saturating_add(a.fen());
            }
        }
        Some(_) => return Err(Fail::param("royalty_parameters 应为数组")),
    }
    let finish = biz
        .value("extend_params")
        .and_then(|v| v.get("royalty_finish").cloned())
        .is_some_and(|v| v == json!("true") || v == json!(true));
    let t = inner.trades.get(idx).ok_or_else(Fail::system_error)?;
    if !t.is_paid() || t.status == Status::TradeClosed {
        return Err(Fail::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
    }
    if t.settles.iter().any(|s| s.finish) {
        return Err(Fail::business("ACQ.ALREADY_FINISH_ALLOC", "交易已完结分账"));
    }
    let settled: u64 = t.settles.iter().map(|s| s.amount_fen).sum();
    let available = t
        .total_fen
        .saturating_sub(t.refunded_fen())
        .saturating_sub(settled);
    if amount_fen > available {
        return Err(Fail::business(
            "ACQ.ALLOC_AMOUNT_VALIDATE_ERROR",
            "分账金额超过最大可分账金额",
        ));
    }
    let trade_no = t.trade_no.clone();
    if let Some(t) = inner.trades.get_mut(idx) {
        t.settles.push(Settle {
            out_request_no,
            amount_fen,
            mode,
            at_ms: ctx.now,
            finish,
        });
    }
    inner.settle_keys.insert(key, trade_no.clone());
    inner.dirty = true;
    let mut m = fields();
    put(&mut m, "trade_no", trade_no);
    Ok(m)
}

fn bill_url(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let bill_type = biz.required("bill_type")?;
    if !matches!(bill_type.as_str(), "trade" | "signcustomer") {
        return Err(Fail::invalid(
            "isv.invalid-parameter",
            &format!("bill_type={bill_type} (trade 或 signcustomer)"),
        ));
    }
    let bill_date = biz.required("bill_date")?;
    let date: alipay_bill::BillDate = bill_date.parse().map_err(|_| {
        Fail::invalid(
            "isv.invalid-parameter",
            &format!("bill_date={bill_date} (yyyy-MM-dd 或 yyyy-MM)"),
        )
    })?;
    // Bills exist once their period is over (emulator time).
    let end_ms = date
        .period()
        .ok()
        .and_then(|p| jiff::tz::Offset::constant(8).to_timestamp(p.end).ok())
        .map_or(i64::MAX, jiff::Timestamp::as_millisecond);
    if end_ms > ctx.now {
        return Err(Fail::business("isp.bill_not_exist", "账单不存在"));
    }
    let token = random_hex(32);
    let compact = date.compact();
    inner.bills.insert(
        token.clone(),
        BillTicket {
            seller_id: ctx.seller_id.clone(),
            bill_type: bill_type.clone(),
            bill_date,
            expires_ms: ctx.now + ctx.config.bill_url_ttl_ms,
        },
    );
    let account = format!("{}0156", ctx.seller_id);
    let url = format!(
        "{}/downloadBillFile.resource?bizType={bill_type}&userId={}&fileType=csv.zip&bizDates={compact}&downloadFileName={account}_{compact}.csv.zip&fileId={}&timestamp={}&token={token}",
        ctx.base_url,
        ctx.seller_id,
        random_hex(16),
        ctx.now
    );
    let mut m = fields();
    put(&mut m, "bill_download_url", url);
    Ok(m)
}

fn oauth_token(inner: &mut Inner, ctx: &Ctx<'_>, biz: &Biz) -> Result<Fields, Fail> {
    let grant_type = biz
        .required("grant_type")
        .map_err(|_| Fail::missing("isv.missing-parameter", "缺少必选参数 grant_type"))?;
    let (user_id, open_id) = match grant_type.as_str() {
        "authorization_code" => {
            let code = biz.text("code")?.unwrap_or_default();
            match inner.oauth_codes.remove(&code) {
                Some(c) if c.app_id == ctx.app.app_id && c.expires_ms > ctx.now => {
                    inner.dirty = true;
                    (c.user_id, c.open_id)
                }
                _ => return Err(Fail::invalid("isv.code-invalid", "授权码code无效")),
            }
        }
        "refresh_token" => {
            let token = biz.text("refresh_token")?.unwrap_or_default();
            match inner.user_tokens.get(&token) {
                Some(t) if t.refresh && t.app_id == ctx.app.app_id && t.expires_ms > ctx.now => {
                    (t.user_id.clone(), t.open_id.clone())
                }
                _ => {
                    return Err(Fail::invalid(
                        "isv.refresh-token-invalid",
                        "刷新令牌refresh_token无效",
                    ));
                }
            }
        }
        other => {
            return Err(Fail::invalid(
                "isv.grant-type-invalid",
                &format!("grant_type={other} 无效"),
            ));
        }
    };
    const ACCESS_SECONDS: i64 = 1_296_000;
    const REFRESH_SECONDS: i64 = 2_592_000;
    let access = format!("authusrB{}", random_hex(32));
    let refresh = format!("authusrB{}", random_hex(32));
    for (token, is_refresh, seconds) in [
        (&access, false, ACCESS_SECONDS),
        (&refresh, true, REFRESH_SECONDS),
    ] {
        inner.user_tokens.insert(
            token.clone(),
            UserToken {
                app_id: ctx.app.app_id.clone(),
                user_id: user_id.clone(),
                open_id: open_id.clone(),
                refresh: is_refresh,
                expires_ms: ctx.now + seconds * 1000,
            },
        );
    }
    inner.dirty = true;
    let mut m = fields();
    put(&mut m, "user_id", user_id);
    put(&mut m, "open_id", open_id);
    put(&mut m, "access_token", access);
    put(&mut m, "expires_in", ACCESS_SECONDS.to_string());
    put(&mut m, "refresh_token", refresh);
    put(&mut m, "re_expires_in", REFRESH_SECONDS.to_string());
    put(&mut m, "auth_start", format_time(ctx.now));
    Ok(m)
}

/// Issues an OAuth authorization code for `app_id` (the control API).
pub(crate) fn issue_oauth_code(
    inner: &mut Inner,
    app_id: &str,
    user_id: Option<String>,
    now: i64,
) -> (String, String, String) {
    let buyer = new_buyer();
    let user_id = user_id.unwrap_or(buyer.user_id);
    let code = random_hex(32);
    inner.oauth_codes.insert(
        code.clone(),
        OauthCode {
            app_id: app_id.to_owned(),
            user_id: user_id.clone(),
            open_id: buyer.open_id.clone(),
            expires_ms: now + 3 * 60_000,
        },
    );
    inner.dirty = true;
    (code, user_id, buyer.open_id)
}

// ---------------------------------------------------------------------------------------------
// State changes and the notifications they send (PROTOCOL §3.4).

/// What happened to a trade, for its notification.
#[derive(Debug, Clone)]
enum Event {
    Paid,
    Refunded(Refund),
    TimedOut,
    Finished,
}

/// Marks a waiting trade paid (the buyer confirmed) and queues `TRADE_SUCCESS`.
pub(crate) fn mark_paid(inner: &mut Inner, idx: usize, now: i64) {
    let Some(t) = inner.trades.get_mut(idx) else {
        return;
    };
    if t.status != Status::WaitBuyerPay {
        return;
    }
    t.status = Status::TradeSuccess;
    t.paid_ms = Some(now);
    t.visible = true;
    t.auto_pay_ms = None;
    if t.buyer.is_none() {
        t.buyer = Some(new_buyer());
    }
    inner.dirty = true;
    queue(inner, idx, &Event::Paid, now);
}

fn apply_refund(inner: &mut Inner, idx: usize, now: i64, r: &Refund) {
    let Some(t) = inner.trades.get_mut(idx) else {
        return;
    };
    t.refunds.push(r.clone());
    if t.refunded_fen() >= t.total_fen {
        t.status = Status::TradeClosed;
        t.closed_ms = Some(now);
    }
    inner.dirty = true;
    queue(inner, idx, &Event::Refunded(r.clone()), now);
}

/// Applies every timer that is due at `now`: 10003 auto-payments, timeouts, the end of the
/// refund period. Returns whether anything changed.
pub(crate) fn run_timers(inner: &mut Inner, config: &Config, now: i64) -> bool {
    let mut changed = false;
    for idx in 0..inner.trades.len() {
        let Some(t) = inner.trades.get(idx) else {
            continue;
        };
        let (status, auto, deadline, paid, abandoned, visible) = (
            t.status,
            t.auto_pay_ms,
            t.deadline_ms,
            t.paid_ms,
            t.abandoned,
            t.visible,
        );
        if status == Status::WaitBuyerPay
            && !abandoned
            && let Some(at) = auto
            && at <= now
            && deadline.is_none_or(|d| at < d)
        {
            mark_paid(inner, idx, at);
            changed = true;
            continue;
        }
        if status == Status::WaitBuyerPay
            && let Some(d) = deadline
            && d <= now
        {
            if let Some(t) = inner.trades.get_mut(idx) {
                t.status = Status::TradeClosed;
                t.closed_ms = Some(d);
                t.auto_pay_ms = None;
            }
            inner.dirty = true;
            if visible {
                queue(inner, idx, &Event::TimedOut, d);
            }
            changed = true;
            continue;
        }
        if status == Status::TradeSuccess
            && let Some(p) = paid
            && p + config.refund_window_ms <= now
        {
            let at = p + config.refund_window_ms;
            if let Some(t) = inner.trades.get_mut(idx) {
                t.status = Status::TradeFinished;
                t.finished_ms = Some(at);
            }
            inner.dirty = true;
            queue(inner, idx, &Event::Finished, at);
            changed = true;
        }
    }
    changed
}

/// The earliest timer after which [`run_timers`] has something to do.
pub(crate) fn next_timer(inner: &Inner, config: &Config) -> Option<i64> {
    inner
        .trades
        .iter()
        .filter_map(|t| match t.status {
            Status::WaitBuyerPay => {
                let auto = t.auto_pay_ms.filter(|_| !t.abandoned);
                match (auto, t.deadline_ms) {
                    (Some(a), Some(d)) => Some(a.min(d)),
                    (a, d) => a.or(d),
                }
            }
            Status::TradeSuccess => t.paid_ms.map(|p| p + config.refund_window_ms),
            _ => None,
        })
        .min()
}

/// Queues the notification of `event` when the trade has a `notify_url`.
fn queue(inner: &mut Inner, idx: usize, event: &Event, now: i64) {
    let Some(t) = inner.trades.get(idx) else {
        return;
    };
    let Some(url) = t.notify_url.clone() else {
        return;
    };
    let charset = Charset::from_label(&t.charset).unwrap_or_default();
    let sign_type: SignType = t.sign_type.parse().unwrap_or_default();
    let mut p: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| {
        if !v.is_empty() && !v.starts_with('@') {
            p.push((k.to_owned(), v));
        }
    };
    add("gmt_create", format_time(t.created_ms));
    add("charset", t.charset.clone());
    add("subject", t.subject.clone());
    if let Some(body) = &t.body {
        add("body", body.clone());
    }
    if let Some(b) = &t.buyer {
        add("buyer_id", b.user_id.clone());
        add("buyer_open_id", b.open_id.clone());
    }
    let paid = t.is_paid();
    let received = if paid { t.total_fen } else { 0 };
    add("invoice_amount", yuan(received));
    add("notify_id", format!("2024{}", random_hex(30)));
    if paid {
        add(
            "fund_bill_list",
            format!(
                r#"[{{"amount":"{}","fundChannel":"ALIPAYACCOUNT"}}]"#,
                yuan(t.total_fen)
            ),
        );
    }
    add("notify_type", "trade_status_sync".to_owned());
    add("trade_status", t.status.as_str().to_owned());
    add("receipt_amount", yuan(received));
    add("app_id", t.app_id.clone());
    add("buyer_pay_amount", yuan(received));
    add("seller_id", t.seller_id.clone());
    if let Some(at) = t.paid_ms {
        add("gmt_payment", format_time(at));
    }
    add("notify_time", format_time(now));
    if let Some(pb) = &t.passback_params {
        add("passback_params", pb.clone());
    }
    add("version", "1.0".to_owned());
    add("out_trade_no", t.out_trade_no.clone());
    add("total_amount", yuan(t.total_fen));
    add("trade_no", t.trade_no.clone());
    add("auth_app_id", t.auth_app_id.clone());
    if let Some(b) = &t.buyer {
        add("buyer_logon_id", b.logon_id.clone());
    }
    add("point_amount", "0.00".to_owned());
    if let Event::Refunded(r) = event {
        add("refund_fee", yuan(t.refunded_fen()));
        add("gmt_refund", format_time_millis(r.at_ms));
        add("out_biz_no", r.out_request_no.clone());
    }
    if matches!(event, Event::TimedOut | Event::Refunded(_))
        && let Some(c) = t.closed_ms
    {
        add("gmt_close", format_time(c));
    }
    let draft = Draft {
        app_id: t.app_id.clone(),
        url,
        charset,
        sign_type,
        params: p,
        out_trade_no: t.out_trade_no.clone(),
        trade_status: t.status.as_str().to_owned(),
    };
    inner.outbox.push(draft);
}

/// The buyer pays a waiting trade (control API, cashier page, QR page, app payment).
pub(crate) fn buyer_pay(inner: &mut Inner, idx: usize, now: i64) -> Result<(), String> {
    let t = inner
        .trades
        .get(idx)
        .ok_or_else(|| "no such trade".to_owned())?;
    match t.status {
        Status::WaitBuyerPay => {}
        other => {
            return Err(format!(
                "trade {} is {}; only WAIT_BUYER_PAY can be paid",
                t.out_trade_no,
                other.as_str()
            ));
        }
    }
    if t.origin == Origin::Precreate && !t.visible && now - t.created_ms > QR_VALIDITY_MS {
        return Err(format!(
            "the QR code of trade {} has expired (valid for 2 hours)",
            t.out_trade_no
        ));
    }
    mark_paid(inner, idx, now);
    Ok(())
}

/// The buyer scans a precreate QR code: the trade becomes known to Alipay (`WAIT_BUYER_PAY`).
pub(crate) fn buyer_scan(inner: &mut Inner, idx: usize, now: i64) -> Result<(), String> {
    let t = inner
        .trades
        .get_mut(idx)
        .ok_or_else(|| "no such trade".to_owned())?;
    if t.status != Status::WaitBuyerPay {
        return Err(format!(
            "trade {} is {}; only WAIT_BUYER_PAY can be scanned",
            t.out_trade_no,
            t.status.as_str()
        ));
    }
    if !t.visible && now - t.created_ms > QR_VALIDITY_MS {
        return Err(format!(
            "the QR code of trade {} has expired (valid for 2 hours)",
            t.out_trade_no
        ));
    }
    t.visible = true;
    if t.buyer.is_none() {
        t.buyer = Some(new_buyer());
    }
    inner.dirty = true;
    Ok(())
}

/// The buyer abandons a waiting trade: nothing more happens until it times out.
pub(crate) fn buyer_cancel(inner: &mut Inner, idx: usize) -> Result<(), String> {
    let t = inner
        .trades
        .get_mut(idx)
        .ok_or_else(|| "no such trade".to_owned())?;
    if t.status != Status::WaitBuyerPay {
        return Err(format!(
            "trade {} is {}; only WAIT_BUYER_PAY can be abandoned",
            t.out_trade_no,
            t.status.as_str()
        ));
    }
    t.abandoned = true;
    t.auto_pay_ms = None;
    inner.dirty = true;
    Ok(())
}

/// Forces a trade into `status` (control API). Paying, closing and finishing notify as the
/// real transitions do when `notify` is set.
pub(crate) fn force_status(
    inner: &mut Inner,
    idx: usize,
    status: Status,
    notify: bool,
    now: i64,
) -> Result<(), String> {
    let t = inner
        .trades
        .get_mut(idx)
        .ok_or_else(|| "no such trade".to_owned())?;
    t.visible = true;
    t.auto_pay_ms = None;
    match status {
        Status::WaitBuyerPay => {
            t.paid_ms = None;
            t.closed_ms = None;
            t.finished_ms = None;
            t.abandoned = false;
        }
        Status::TradeSuccess => {
            t.paid_ms.get_or_insert(now);
            t.closed_ms = None;
            t.finished_ms = None;
            if t.buyer.is_none() {
                t.buyer = Some(new_buyer());
            }
        }
        Status::TradeClosed => {
            t.closed_ms = Some(now);
        }
        Status::TradeFinished => {
            t.paid_ms.get_or_insert(now);
            t.finished_ms = Some(now);
            if t.buyer.is_none() {
                t.buyer = Some(new_buyer());
            }
        }
    }
    t.status = status;
    inner.dirty = true;
    if notify {
        let event = match status {
            Status::TradeSuccess => Some(Event::Paid),
            Status::TradeFinished => Some(Event::Finished),
            Status::TradeClosed => Some(Event::TimedOut),
            Status::WaitBuyerPay => None,
        };
        if let Some(e) = event {
            queue(inner, idx, &e, now);
        }
    }
    Ok(())
}

/// The synchronous return parameters after a page/wap payment (PROTOCOL §6.4), unsigned:
/// the caller adds `sign_type` and `sign` (rule V1).
pub(crate) fn return_params(t: &Trade, now: i64) -> Vec<(String, String)> {
    let method = match t.origin {
        Origin::WapPay => "alipay.trade.wap.pay.return",
        _ => "alipay.trade.page.pay.return",
    };
    vec![
        ("charset".into(), t.charset.clone()),
        ("out_trade_no".into(), t.out_trade_no.clone()),
        ("method".into(), method.into()),
        ("total_amount".into(), yuan(t.total_fen)),
        ("trade_no".into(), t.trade_no.clone()),
        ("auth_app_id".into(), t.auth_app_id.clone()),
        ("version".into(), "1.0".into()),
        ("app_id".into(), t.app_id.clone()),
        ("seller_id".into(), t.seller_id.clone()),
        ("timestamp".into(), format_time(now)),
    ]
}

/// The trade as the control API shows it.
pub(crate) fn trade_json(t: &Trade, base_url: &str) -> Value {
    let time = |ms: Option<i64>| ms.map(format_time);
    let refunds: Vec<Value> = t
        .refunds
        .iter()
        .map(|r| {
            json!({
                "out_request_no": r.out_request_no,
                "refund_amount": yuan(r.amount_fen),
                "refund_reason": r.reason,
                "gmt_refund_pay": format_time(r.at_ms),
            })
        })
        .collect();
    let settles: Vec<Value> = t
        .settles
        .iter()
        .map(|s| {
            json!({
                "out_request_no": s.out_request_no,
                "amount": yuan(s.amount_fen),
                "royalty_mode": s.mode,
                "finish": s.finish,
                "at": format_time(s.at_ms),
            })
        })
        .collect();
    json!({
        "app_id": t.app_id,
        "auth_app_id": t.auth_app_id,
        "seller_id": t.seller_id,
        "out_trade_no": t.out_trade_no,
        "trade_no": t.trade_no,
        "origin": t.origin.as_str(),
        "product_code": t.product_code,
        "subject": t.subject,
        "body": t.body,
        "total_amount": yuan(t.total_fen),
        "refund_fee": yuan(t.refunded_fen()),
        "trade_status": t.status.as_str(),
        "visible": t.visible,
        "abandoned": t.abandoned,
        "gmt_create": format_time(t.created_ms),
        "gmt_payment": time(t.paid_ms),
        "gmt_close": time(t.closed_ms),
        "gmt_finished": time(t.finished_ms),
        "time_expire": time(t.deadline_ms),
        "auto_pay_at": time(t.auto_pay_ms),
        "buyer_user_id": t.buyer.as_ref().map(|b| b.user_id.clone()),
        "buyer_logon_id": t.buyer.as_ref().map(|b| b.logon_id.clone()),
        "notify_url": t.notify_url,
        "return_url": t.return_url,
        "charset": t.charset,
        "sign_type": t.sign_type,
        "qr_code": t.qr_code,
        "cashier_url": matches!(t.origin, Origin::PagePay | Origin::WapPay)
            .then(|| format!("{base_url}/cashier/{}", t.trade_no)),
        "refunds": refunds,
        "settles": settles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_codes() {
        use AuthCodeOutcome::*;
        assert_eq!(auth_code_outcome("286123456789012345"), Paid);
        assert_eq!(auth_code_outcome("281234567890120003"), InProcess);
        assert_eq!(auth_code_outcome("281234567890120004"), BalanceNotEnough);
        assert_eq!(auth_code_outcome("281234567890120005"), Invalid);
        assert_eq!(auth_code_outcome("2512345678901234"), Paid);
        assert_eq!(auth_code_outcome("301234567890123456789012"), Paid);
        // Wrong shape: too short, too long, wrong prefix, letters.
        assert_eq!(auth_code_outcome("251234567890123"), Invalid);
        assert_eq!(auth_code_outcome("3012345678901234567890123"), Invalid);
        assert_eq!(auth_code_outcome("311234567890123456"), Invalid);
        assert_eq!(auth_code_outcome("24123456789012345"), Invalid);
        assert_eq!(auth_code_outcome("28123456789012345a"), Invalid);
        assert_eq!(
            auth_code_outcome("fp1234567890123456789012345678901ab"),
            Paid
        );
    }

    #[test]
    fn timeout_express() {
        let now = 1_715_593_760_000; // 2024-05-13 17:49:20 UTC+8
        assert_eq!(
            parse_timeout_express("90m", now),
            Some(now + 90 * MINUTE_MS)
        );
        assert_eq!(parse_timeout_express("2h", now), Some(now + 2 * HOUR_MS));
        assert_eq!(parse_timeout_express("15d", now), Some(now + 15 * DAY_MS));
        assert_eq!(
            parse_timeout_express("1c", now)
                .map(crate::clock::format_time)
                .as_deref(),
            Some("2024-05-14 00:00:00")
        );
        for bad in [
            "0m", "16d", "1.5h", "h", "10s", "", "-5m", "1c2", "1中", "中",
        ] {
            assert_eq!(parse_timeout_express(bad, now), None, "{bad}");
        }
    }
}
