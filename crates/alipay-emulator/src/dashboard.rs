//! The dashboard (`GET /dashboard`, `GET /`): what the emulator holds — trades, refunds and the
//! notification log — as one server-rendered page that reloads itself every few seconds.
//!
//! `?refresh=N` sets the reload interval in seconds (1 to 3600; `0` turns it off, for a page
//! someone wants to read or select from). The trade table links each page/wap payment that is
//! still waiting to its cashier page.

use std::fmt::Write as _;

use http::{Response, StatusCode};

use crate::http::{Body, escape_html, form_pairs, html};
use crate::model::{Origin, Status, Trade, yuan};
use crate::state::{Inner, Notification, Shared};

/// How many rows each table shows at most (newest first).
const MAX_ROWS: usize = 500;

/// The default reload interval, in seconds.
const DEFAULT_REFRESH: u32 = 2;

const STYLE: &str = "body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',\
'WenQuanYi Zen Hei',sans-serif;background:#f5f6f8;margin:0;color:#222;font-size:14px}\
header{background:#1677ff;color:#fff;padding:14px 28px;display:flex;align-items:baseline;\
gap:24px;flex-wrap:wrap}header h1{font-size:20px;margin:0}header span{opacity:.9}\
header a{color:#fff}main{padding:20px 28px}\
.cards{display:flex;gap:14px;flex-wrap:wrap;margin-bottom:20px}\
.card{background:#fff;border-radius:8px;padding:12px 18px;min-width:120px;\
box-shadow:0 1px 3px rgba(0,0,0,.08)}.card b{display:block;font-size:22px;margin-top:4px}\
.card small{color:#888}section{background:#fff;border-radius:8px;padding:14px 18px;\
margin-bottom:20px;box-shadow:0 1px 3px rgba(0,0,0,.08);overflow-x:auto}\
h2{font-size:16px;margin:0 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}\
th{color:#888;font-weight:500}td,th{border-bottom:1px solid #eee;padding:6px 8px;\
text-align:left;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.empty{color:#999;padding:10px 8px}.badge{display:inline-block;border-radius:10px;\
padding:1px 8px;font-size:12px}.WAIT_BUYER_PAY{background:#fff7e6;color:#d46b08}\
.TRADE_SUCCESS{background:#f6ffed;color:#389e0d}.TRADE_FINISHED{background:#e6f4ff;\
color:#0958d9}.TRADE_CLOSED{background:#f5f5f5;color:#777}.ok{background:#f6ffed;\
color:#389e0d}.pending{background:#fff7e6;color:#d46b08}.failed{background:#fff1f0;\
color:#cf1322}.url{max-width:280px;overflow:hidden;text-overflow:ellipsis}";

/// The reload interval asked for by `?refresh=N`; the default when absent or unreadable.
fn refresh_seconds(query: &str) -> u32 {
    form_pairs(query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == b"refresh")
        .and_then(|(_, v)| std::str::from_utf8(&v).ok()?.trim().parse::<u32>().ok())
        .map_or(DEFAULT_REFRESH, |n| n.min(3600))
}

fn badge(class: &str, text: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", escape_html(text))
}

fn notification_state(n: &Notification) -> (&'static str, &'static str) {
    if n.delivered {
        ("ok", "delivered")
    } else if n.next_at_ms.is_some() || n.attempts.is_empty() {
        ("pending", "pending")
    } else {
        ("failed", "given up")
    }
}

fn cards(inner: &Inner) -> String {
    let trades = inner.trades.len();
    let waiting = inner
        .trades
        .iter()
        .filter(|t| t.status == Status::WaitBuyerPay)
        .count();
    let paid_fen: u64 = inner
        .trades
        .iter()
        .filter(|t| t.paid_ms.is_some())
        .map(|t| t.total_fen)
        .fold(0, u64::saturating_add);
    let refunds: usize = inner.trades.iter().map(|t| t.refunds.len()).sum();
    let refunded_fen: u64 = inner
        .trades
        .iter()
        .map(Trade::refunded_fen)
        .fold(0, u64::saturating_add);
    let delivered = inner.notifications.iter().filter(|n| n.delivered).count();
    let undelivered = inner.notifications.len() - delivered;
    let card = |id: &str, label: &str, value: String| {
        format!(
            "<div class=\"card\"><small>{label}</small><b id=\"{id}\">{}</b></div>",
            escape_html(&value)
        )
    };
    [
        card("count-trades", "交易 trades", trades.to_string()),
        card("count-waiting", "待付款 waiting", waiting.to_string()),
        card("sum-paid", "已收款 paid", format!("¥{}", yuan(paid_fen))),
        card("count-refunds", "退款 refunds", refunds.to_string()),
        card(
            "sum-refunded",
            "已退款 refunded",
            format!("¥{}", yuan(refunded_fen)),
        ),
        card(
            "count-notifications",
            "通知 delivered / not yet",
            format!("{delivered} / {undelivered}"),
        ),
    ]
    .concat()
}

fn trades_table(s: &mut String, inner: &Inner) {
    s.push_str(
        "<section><h2>Trades</h2><table id=\"trades\"><tr><th>out_trade_no</th><th>trade_no</th>\
<th>origin</th><th>subject</th><th>amount</th><th>refunded</th><th>status</th>\
<th>created</th><th>paid</th><th></th></tr>",
    );
    if inner.trades.is_empty() {
        s.push_str("<tr><td class=\"empty\" colspan=\"10\">no trades yet</td></tr>");
    }
    for t in inner.trades.iter().rev().take(MAX_ROWS) {
        let cashier = if matches!(t.origin, Origin::PagePay | Origin::WapPay)
            && t.status == Status::WaitBuyerPay
            && !t.abandoned
        {
            format!(
                "<a href=\"/cashier/{0}\">cashier</a>",
                escape_html(&t.trade_no)
            )
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
<td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{cashier}</td></tr>",
            escape_html(&t.out_trade_no),
            escape_html(&t.trade_no),
            t.origin.as_str(),
            escape_html(&t.subject),
            yuan(t.total_fen),
            yuan(t.refunded_fen()),
            badge(t.status.as_str(), t.status.as_str()),
            crate::clock::format_time(t.created_ms),
            t.paid_ms.map(crate::clock::format_time).unwrap_or_default(),
        );
    }
    s.push_str("</table></section>");
}

fn refunds_table(s: &mut String, inner: &Inner) {
    s.push_str(
        "<section><h2>Refunds</h2><table id=\"refunds\"><tr><th>out_trade_no</th>\
<th>out_request_no</th><th>amount</th><th>reason</th><th>at</th></tr>",
    );
    let mut rows: Vec<(&Trade, &crate::model::Refund)> = inner
        .trades
        .iter()
        .flat_map(|t| t.refunds.iter().map(move |r| (t, r)))
        .collect();
    rows.sort_by_key(|(_, r)| std::cmp::Reverse(r.at_ms));
    if rows.is_empty() {
        s.push_str("<tr><td class=\"empty\" colspan=\"5\">no refunds yet</td></tr>");
    }
    for (t, r) in rows.into_iter().take(MAX_ROWS) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&t.out_trade_no),
            escape_html(&r.out_request_no),
            yuan(r.amount_fen),
            escape_html(r.reason.as_deref().unwrap_or("")),
            crate::clock::format_time(r.at_ms),
        );
    }
    s.push_str("</table></section>");
}

fn notifications_table(s: &mut String, inner: &Inner) {
    s.push_str(
        "<section><h2>Notifications</h2><table id=\"notifications\"><tr><th>id</th>\
<th>out_trade_no</th><th>trade_status</th><th>url</th><th>attempts</th><th>state</th>\
<th>last outcome</th><th>next attempt</th></tr>",
    );
    if inner.notifications.is_empty() {
        s.push_str("<tr><td class=\"empty\" colspan=\"8\">no notifications yet</td></tr>");
    }
    for n in inner.notifications.iter().rev().take(MAX_ROWS) {
        let (class, label) = notification_state(n);
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"url\" title=\"{url}\">{url}</td>\
<td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            n.id,
            escape_html(&n.out_trade_no),
            escape_html(&n.trade_status),
            n.attempts.len(),
            badge(class, label),
            escape_html(n.attempts.last().map_or("", |a| a.outcome.as_str())),
            n.next_at_ms
                .map(crate::clock::format_time)
                .unwrap_or_default(),
            url = escape_html(&n.url),
        );
    }
    s.push_str("</table></section>");
}

/// `GET /dashboard` (and `/`), with the request's query string.
pub(crate) fn dashboard(shared: &Shared, query: &str) -> Response<Body> {
    let refresh = refresh_seconds(query);
    let meta = if refresh == 0 {
        String::new()
    } else {
        format!("<meta http-equiv=\"refresh\" content=\"{refresh}\">")
    };
    let now = shared.clock.format_now();
    let mut s = String::with_capacity(16 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">{meta}\
<title>支付宝模拟器 - 控制台</title><style>{STYLE}</style></head><body><header>\
<h1>支付宝模拟器 · 控制台</h1><span>emulator time <b id=\"now\">{now}</b></span>\
<span id=\"refresh\">{}</span><span><a href=\"/control\">control API</a></span></header><main>",
        if refresh == 0 {
            "auto-refresh off".to_owned()
        } else {
            format!("refreshes every {refresh} s")
        },
    );
    {
        let inner = shared.lock();
        let _ = write!(s, "<div class=\"cards\">{}</div>", cards(&inner));
        trades_table(&mut s, &inner);
        refunds_table(&mut s, &inner);
        notifications_table(&mut s, &inner);
    }
    s.push_str("</main></body></html>");
    html(StatusCode::OK, s)
}

#[cfg(test)]
mod tests {
    use super::refresh_seconds;

    #[test]
    fn the_refresh_interval_comes_from_the_query() {
        assert_eq!(refresh_seconds(""), 2);
        assert_eq!(refresh_seconds("refresh=0"), 0);
        assert_eq!(refresh_seconds("a=b&refresh=15"), 15);
        assert_eq!(refresh_seconds("refresh=99999"), 3600);
        assert_eq!(refresh_seconds("refresh=-1"), 2);
        assert_eq!(refresh_seconds("refresh=%FF"), 2);
    }
}
