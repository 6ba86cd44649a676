//! The buyer's side in a browser: the cashier page a page/wap payment lands on, the QR page a
//! precreate code points at, and the synchronous return to `return_url` (the dashboard is
//! `crate::dashboard`).

use std::sync::Arc;

use alipay_sign::{Charset, Rule, SignType, canonical_string};
use http::header::HeaderValue;
use http::{Response, StatusCode};

use crate::http::{Body, encode_form, escape_html, html, redirect};
use crate::model::{Fail, Origin, Status, Trade, yuan};
use crate::ops;
use crate::state::Shared;

const STYLE: &str = "body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;\
background:#f5f5f5;margin:0;color:#333}main{max-width:640px;margin:40px auto;background:#fff;\
border-radius:8px;padding:32px;box-shadow:0 1px 4px rgba(0,0,0,.1)}main.mobile{max-width:none;\
margin:0;border-radius:0;min-height:100vh;box-sizing:border-box;padding:20px}h1{font-size:20px;\
color:#1677ff;margin:0 0 24px}.amount{font-size:36px;font-weight:600;margin:8px 0 24px}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;margin:0 0 24px}dt{color:#888}\
dd{margin:0}button{font-size:16px;padding:10px 28px;border-radius:6px;border:1px solid #1677ff;\
cursor:pointer;margin-right:12px}#pay{background:#1677ff;color:#fff}#cancel{background:#fff;\
color:#1677ff}.mobile button{display:block;width:100%;margin:12px 0}form{display:inline}\
.mobile form{display:block}table{border-collapse:collapse;width:100%;font-size:13px}\
td,th{border-bottom:1px solid #eee;padding:6px;text-align:left}";

fn page(title: &str, mobile: bool, content: &str) -> String {
    let viewport = if mobile {
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    } else {
        ""
    };
    let class = if mobile { " class=\"mobile\"" } else { "" };
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">{viewport}\
<title>{}</title><style>{STYLE}</style></head><body><main{class}>{content}</main></body></html>",
        escape_html(title)
    )
}

/// The page an invalid page/wap payment request shows (Alipay shows an error page, not JSON).
/// The `sub_code` is also in the `alipay-emulator-error` header, for tests.
pub(crate) fn error_page(fail: &Fail) -> Response<Body> {
    let content = format!(
        "<h1>支付宝（模拟器）</h1><p>抱歉，您的请求出错了。</p><dl>\
<dt>错误代码</dt><dd id=\"error-code\">{}</dd><dt>子代码</dt><dd id=\"error-sub-code\">{}</dd>\
<dt>说明</dt><dd id=\"error-sub-msg\">{}</dd></dl>",
        escape_html(fail.code),
        escape_html(&fail.sub_code),
        escape_html(&fail.sub_msg)
    );
    let mut r = html(StatusCode::OK, page("支付宝 - 错误", false, &content));
    if let Ok(v) = HeaderValue::from_str(&fail.sub_code) {
        r.headers_mut().insert("alipay-emulator-error", v);
    }
    r
}

fn find(shared: &Shared, trade_no: &str) -> Option<(usize, Trade, String)> {
    let inner = shared.lock();
    let idx = *inner.by_trade_no.get(trade_no)?;
    let t = inner.trades.get(idx)?.clone();
    let merchant = inner
        .apps
        .get(&t.auth_app_id)
        .or_else(|| inner.apps.get(&t.app_id))
        .map_or_else(|| t.seller_id.clone(), |a| a.name.clone());
    Some((idx, t, merchant))
}

fn not_found(trade_no: &str) -> Response<Body> {
    html(
        StatusCode::NOT_FOUND,
        page(
            "支付宝 - 交易不存在",
            false,
            &format!(
                "<h1>支付宝（模拟器）</h1><p id=\"status\">交易 {} 不存在</p>",
                escape_html(trade_no)
            ),
        ),
    )
}

/// `GET /cashier/{trade_no}`.
pub(crate) fn cashier(shared: &Shared, trade_no: &str) -> Response<Body> {
    let Some((_, t, merchant)) = find(shared, trade_no) else {
        return not_found(trade_no);
    };
    let mobile = t.origin == Origin::WapPay;
    let details = format!(
        "<dl><dt>收款方</dt><dd id=\"merchant\">{}</dd><dt>商品</dt><dd id=\"subject\">{}</dd>\
<dt>订单号</dt><dd id=\"out-trade-no\">{}</dd><dt>交易号</dt><dd id=\"trade-no\">{}</dd></dl>",
        escape_html(&merchant),
        escape_html(&t.subject),
        escape_html(&t.out_trade_no),
        escape_html(&t.trade_no),
    );
    let amount = format!(
        "<div class=\"amount\" id=\"amount\">¥{}</div>",
        yuan(t.total_fen)
    );
    let actions = match t.status {
        Status::WaitBuyerPay if !t.abandoned => format!(
            "<form method=\"post\" action=\"/cashier/{0}/pay\"><button id=\"pay\" type=\"submit\">确认付款</button></form>\
<form method=\"post\" action=\"/cashier/{0}/cancel\"><button id=\"cancel\" type=\"submit\">取消</button></form>",
            escape_html(&t.trade_no)
        ),
        Status::WaitBuyerPay => {
            "<p id=\"status\">您已取消支付，订单将在超时后关闭。</p>".to_owned()
        }
        Status::TradeSuccess | Status::TradeFinished => {
            "<p id=\"status\">订单已支付</p>".to_owned()
        }
        Status::TradeClosed => "<p id=\"status\">交易已关闭</p>".to_owned(),
    };
    let title = if mobile {
        "支付宝 - 手机网站支付"
    } else {
        "支付宝 - 收银台"
    };
    html(
        StatusCode::OK,
        page(
            title,
            mobile,
            &format!("<h1>支付宝收银台（模拟器）</h1>{amount}{details}{actions}"),
        ),
    )
}

/// `POST /cashier/{trade_no}/pay`: pays and returns to `return_url` with the signed
/// synchronous parameters.
pub(crate) fn pay(shared: &Arc<Shared>, trade_no: &str) -> Response<Body> {
    let Some((idx, _, _)) = find(shared, trade_no) else {
        return not_found(trade_no);
    };
    let now = shared.clock.now_ms();
    let result = ops::buyer_pay(&mut shared.lock(), idx, now);
    crate::notify::flush_outbox(shared);
    if let Err(e) = shared.persist_if_dirty() {
        shared.note_error(&e);
    }
    if let Err(message) = result {
        return html(
            StatusCode::CONFLICT,
            page(
                "支付宝 - 无法付款",
                false,
                &format!(
                    "<h1>支付宝（模拟器）</h1><p id=\"status\">{}</p>",
                    escape_html(&message)
                ),
            ),
        );
    }
    match find(shared, trade_no).and_then(|(_, t, _)| return_location(shared, &t)) {
        Some(location) => redirect(&location),
        None => html(
            StatusCode::OK,
            page(
                "支付宝 - 付款成功",
                false,
                "<h1>支付宝（模拟器）</h1><p id=\"status\">付款成功</p>",
            ),
        ),
    }
}

/// `POST /cashier/{trade_no}/cancel`: the buyer leaves without paying.
pub(crate) fn cancel(shared: &Arc<Shared>, trade_no: &str) -> Response<Body> {
    let Some((idx, t, _)) = find(shared, trade_no) else {
        return not_found(trade_no);
    };
    let result = ops::buyer_cancel(&mut shared.lock(), idx);
    if let Err(e) = shared.persist_if_dirty() {
        shared.note_error(&e);
    }
    let back = t
        .return_url
        .as_deref()
        .map(|u| {
            format!(
                "<p><a id=\"back\" href=\"{}\">返回商家</a></p>",
                escape_html(u)
            )
        })
        .unwrap_or_default();
    let status = match result {
        Ok(()) => "您已取消支付".to_owned(),
        Err(e) => e,
    };
    html(
        StatusCode::OK,
        page(
            "支付宝 - 已取消",
            t.origin == Origin::WapPay,
            &format!(
                "<h1>支付宝（模拟器）</h1><p id=\"status\">{}</p>{back}",
                escape_html(&status)
            ),
        ),
    )
}

/// `GET /qr/{code}`: the buyer scans a precreate QR code and lands on the cashier.
pub(crate) fn scan(shared: &Arc<Shared>, path: &str) -> Response<Body> {
    let url = format!("{}{path}", shared.base_url);
    let found = {
        let inner = shared.lock();
        inner
            .trades
            .iter()
            .position(|t| t.qr_code.as_deref() == Some(url.as_str()))
            .and_then(|i| inner.trades.get(i).map(|t| (i, t.trade_no.clone())))
    };
    let Some((idx, trade_no)) = found else {
        return not_found(path);
    };
    let now = shared.clock.now_ms();
    let result = ops::buyer_scan(&mut shared.lock(), idx, now);
    if let Err(e) = shared.persist_if_dirty() {
        shared.note_error(&e);
    }
    match result {
        Ok(()) => redirect(&format!("/cashier/{trade_no}")),
        Err(message) => html(
            StatusCode::GONE,
            page(
                "支付宝 - 二维码",
                true,
                &format!(
                    "<h1>支付宝（模拟器）</h1><p id=\"status\">{}</p>",
                    escape_html(&message)
                ),
            ),
        ),
    }
}

/// The signed parameters of the synchronous return (rule V1, the trade's charset and
/// `sign_type`): `return_url?…&sign_type=…&sign=…`. `None` without a `return_url`.
pub(crate) fn return_location(shared: &Shared, t: &Trade) -> Option<String> {
    let url = t.return_url.as_deref()?;
    let charset = Charset::from_label(&t.charset).unwrap_or_default();
    let sign_type: SignType = t.sign_type.parse().unwrap_or_default();
    let mode = shared.app(&t.app_id).map(|a| a.mode).unwrap_or_default();
    let mut params = ops::return_params(t, shared.clock.now_ms());
    let content = canonical_string(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Rule::NotifyV1,
    );
    let bytes = charset.encode(&content).ok()?;
    let sig = shared.sign_answer(mode, sign_type, &bytes).ok()?;
    params.push(("sign".to_owned(), sig.sign));
    params.push(("sign_type".to_owned(), sign_type.as_str().to_owned()));
    let query = encode_form(&params, charset).ok()?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}{query}"))
}
