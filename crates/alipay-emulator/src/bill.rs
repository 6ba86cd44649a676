//! Bill files (PROTOCOL §8): the ZIP behind a `bill_download_url`, written by `alipay-bill` from
//! the trades the emulator holds.

use std::io::Cursor;

use alipay_bill::{
    AccountRow, BillDate, BillHeader, BusinessType, DetailRow, Money, Row, TableKind, TableWriter,
    ZipWriter,
};
use http::header::{CONTENT_DISPOSITION, HeaderValue};
use http::{Response, StatusCode};
use jiff::tz::Offset;

use crate::clock::civil_time;
use crate::http::{Body, form_pairs, response};
use crate::model::Trade;
use crate::state::Shared;

fn oss_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    response(
        status,
        "application/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n</Error>\n"
        ),
    )
}

/// `GET /downloadBillFile.resource?…&token=…`.
pub(crate) fn download(shared: &Shared, query: &str) -> Response<Body> {
    let pairs = form_pairs(query.as_bytes());
    let token = pairs
        .iter()
        .find(|(k, _)| k == b"token")
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .unwrap_or_default()
        .to_owned();
    let now = shared.clock.now_ms();
    let (ticket, trades) = {
        let inner = shared.lock();
        let Some(ticket) = inner.bills.get(&token).cloned() else {
            return oss_error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            );
        };
        if now > ticket.expires_ms {
            return oss_error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Request has expired.",
            );
        }
        let trades: Vec<Trade> = inner
            .trades
            .iter()
            .filter(|t| t.seller_id == ticket.seller_id)
            .cloned()
            .collect();
        (ticket, trades)
    };
    let Ok(date) = ticket.bill_date.parse::<BillDate>() else {
        return oss_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let account = format!("{}0156", ticket.seller_id);
    let result = if ticket.bill_type == "signcustomer" {
        account_zip(&account, date, &trades, now)
    } else {
        trade_zip(&account, date, &trades, now)
    };
    match result {
        Ok(bytes) => {
            let mut r = response(StatusCode::OK, "application/octet-stream", bytes);
            let name = format!("{account}_{}.csv.zip", date.compact());
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                r.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => oss_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &crate::http::escape_html(&e.to_string()),
        ),
    }
}

fn range_ms(date: BillDate) -> Result<(i64, i64), alipay_bill::Error> {
    let p = date.period()?;
    let ms = |dt| {
        Offset::constant(8)
            .to_timestamp(dt)
            .map_or(0, jiff::Timestamp::as_millisecond)
    };
    Ok((ms(p.start), ms(p.end)))
}

fn counterparty(t: &Trade) -> String {
    t.buyer
        .as_ref()
        .map(|b| format!("*买({})", b.logon_id))
        .unwrap_or_default()
}

fn signed_fen(fen: u64, negative: bool) -> Money {
    let v = i64::try_from(fen).unwrap_or(i64::MAX);
    Money::from_fen(if negative { -v } else { v })
}

/// The detail rows of `date`: one 交易 row per payment, one 退款 row per refund, in time order.
pub(crate) fn detail_rows(trades: &[Trade], start: i64, end: i64) -> Vec<(i64, DetailRow)> {
    let mut rows = Vec::new();
    for t in trades {
        let base = |at: i64, refund: Option<(&str, u64)>| {
            let mut r = DetailRow::default();
            r.trade_no.clone_from(&t.trade_no);
            r.out_trade_no.clone_from(&t.out_trade_no);
            r.business_type = if refund.is_some() {
                BusinessType::Refund
            } else {
                BusinessType::Trade
            };
            r.subject.clone_from(&t.subject);
            r.created_at = Some(civil_time(t.created_ms));
            r.finished_at = Some(civil_time(at));
            r.store_id = t.store_id.clone().unwrap_or_default();
            r.operator = t.operator_id.clone().unwrap_or_default();
            r.terminal_id = t.terminal_id.clone().unwrap_or_default();
            r.counterparty = counterparty(t);
            let (amount, negative) = match refund {
                Some((_, fen)) => (fen, true),
                None => (t.total_fen, false),
            };
            r.order_amount = signed_fen(amount, negative);
            r.received = signed_fen(amount, negative);
            r.refund_request_no = refund.map(|(no, _)| no.to_owned()).unwrap_or_default();
            r
        };
        if let Some(paid) = t.paid_ms
            && (start..end).contains(&paid)
        {
            rows.push((paid, base(paid, None)));
        }
        for refund in &t.refunds {
            if (start..end).contains(&refund.at_ms) {
                rows.push((
                    refund.at_ms,
                    base(
                        refund.at_ms,
                        Some((&refund.out_request_no, refund.amount_fen)),
                    ),
                ));
            }
        }
    }
    // Time order; at the same instant payments come before refunds (stable otherwise).
    rows.sort_by_key(|(at, r)| (*at, r.business_type == BusinessType::Refund));
    rows
}

/// The trade bill: the 业务明细 entry, then the 业务明细(汇总) entry (per store, with its `合计`
/// row), both written by `alipay-bill`, which derives the summary from the detail rows.
fn trade_zip(
    account: &str,
    date: BillDate,
    trades: &[Trade],
    now: i64,
) -> Result<Vec<u8>, alipay_bill::Error> {
    let (start, end) = range_ms(date)?;
    let rows: Vec<DetailRow> = detail_rows(trades, start, end)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let zip = alipay_bill::write_trade_zip(
        Cursor::new(Vec::new()),
        account,
        date,
        &rows,
        civil_time(now),
    )?;
    Ok(zip.into_inner())
}

fn account_zip(
    account: &str,
    date: BillDate,
    trades: &[Trade],
    now: i64,
) -> Result<Vec<u8>, alipay_bill::Error> {
    let (start, end) = range_ms(date)?;
    let exported = civil_time(now);
    let mut entries = detail_rows(trades, 0, end);
    // The balance runs from the emulator's first entry; rows before the period only count
    // towards it.
    let mut balance = Money::ZERO;
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let entry = zip.start_entry(&TableKind::Account.entry_name(account, date), exported)?;
    let header = BillHeader::new(TableKind::Account, account, date)?;
    let mut table = TableWriter::new(entry, TableKind::Account, &header)?;
    for (i, (at, d)) in entries.drain(..).enumerate() {
        balance += d.received;
        if at < start {
            continue;
        }
        let mut r = AccountRow::default();
        r.flow_no = format!("{}{:012}", crate::clock::format_compact_date(at), i + 1);
        r.biz_no.clone_from(&d.trade_no);
        r.out_trade_no.clone_from(&d.out_trade_no);
        r.subject.clone_from(&d.subject);
        r.occurred_at = d.finished_at;
        r.counterparty.clone_from(&d.counterparty);
        if d.received.is_negative() {
            r.expense = d.received;
            r.business_type = "交易退款".to_owned();
        } else {
            r.income = d.received;
            r.business_type = "在线支付".to_owned();
        }
        r.balance = balance;
        r.channel = "支付宝".to_owned();
        table.write_row(&Row::Account(r))?;
    }
    table.finish_with_totals(Some(exported))?.finish()?;
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::state::{BillTicket, Config};
    use alipay_bill::{BillArchive, Summary, SummaryRow};
    use http_body_util::BodyExt as _;

    const SELLER: &str = "2088000000000001";
    /// 2024-05-13 00:00:00 in Beijing.
    const DAY_MS: i64 = 1_715_529_600_000;
    const HOUR_MS: i64 = 3_600_000;

    /// A paid trade of `fen` at `DAY_MS + paid_h` hours, in `store`, with refunds
    /// `(out_request_no, fen, hour)`.
    fn trade(
        no: &str,
        store: Option<&str>,
        fen: u64,
        paid_h: i64,
        refunds: &[(&str, u64, i64)],
    ) -> Trade {
        let refunds: Vec<serde_json::Value> = refunds
            .iter()
            .map(|(r, fen, h)| {
                serde_json::json!({"out_request_no": r, "amount_fen": fen, "reason": null,
                    "at_ms": DAY_MS + h * HOUR_MS})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "app_id": "2021000000000001", "auth_app_id": "2021000000000001",
            "seller_id": SELLER, "out_trade_no": no, "trade_no": format!("T{no}"),
            "origin": "pay", "product_code": "FACE_TO_FACE_PAYMENT", "subject": "绿茶",
            "total_fen": fen, "status": "TRADE_SUCCESS", "visible": true, "abandoned": false,
            "created_ms": DAY_MS + paid_h * HOUR_MS, "paid_ms": DAY_MS + paid_h * HOUR_MS,
            "charset": "utf-8", "sign_type": "RSA2", "store_id": store,
            "refunds": refunds, "settles": [],
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn served_trade_zip_has_the_detail_and_the_summary_of_the_trades() {
        let now = DAY_MS + 33 * HOUR_MS; // 2024-05-14 09:00
        let shared = Shared::new(
            crate::clock::Clock::frozen_at_ms(now),
            Config::default(),
            "http://127.0.0.1:1".to_owned(),
            KeyPair::generate().unwrap(),
            None,
            None,
        );
        {
            let mut inner = shared.lock();
            for t in [
                trade(
                    "B1",
                    Some("S1"),
                    1000,
                    9,
                    &[("BR1", 125, 10), ("BR2", 75, 30)],
                ),
                trade("B2", Some("S1"), 550, 11, &[]),
                trade("B3", None, 1, 12, &[]),
                trade("B4", Some("S2"), 20_000, 13, &[("BR3", 20_000, 14)]),
                // Paid the day before: not in the bill.
                trade("B0", Some("S1"), 999, -2, &[]),
            ] {
                inner.insert_trade(t);
            }
            inner.bills.insert(
                "tok".to_owned(),
                BillTicket {
                    seller_id: SELLER.to_owned(),
                    bill_type: "trade".to_owned(),
                    bill_date: "2024-05-13".to_owned(),
                    expires_ms: now + 30_000,
                },
            );
        }
        let response = download(&shared, "token=tok");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let mut archive = BillArchive::new(Cursor::new(body.to_vec())).unwrap();
        let account = format!("{SELLER}0156");
        let names: Vec<String> = archive.entries().iter().map(|e| e.name.clone()).collect();
        assert_eq!(
            names,
            [
                format!("{account}_20240513_业务明细.csv"),
                format!("{account}_20240513_业务明细(汇总).csv"),
            ]
        );

        let mut detail = archive.open_kind(TableKind::Detail).unwrap().unwrap();
        let rows: Vec<DetailRow> = detail
            .by_ref()
            .map(|r| r.unwrap().as_detail().unwrap().clone())
            .collect();
        assert!(detail.check().is_ok(), "{}", detail.check());
        assert_eq!(rows.len(), 6);
        drop(detail);

        let mut summary = archive.open_kind(TableKind::Summary).unwrap().unwrap();
        assert_eq!(summary.header().account.as_deref(), Some(account.as_str()));
        let back: Vec<SummaryRow> = summary
            .by_ref()
            .map(|r| r.unwrap().as_summary().unwrap().clone())
            .collect();
        assert!(summary.check().is_ok(), "{}", summary.check());
        assert_eq!(back, Summary::from_details(&rows).rows(true));
        // The sums, from the trades above: store "" (B3), S1 (B1, B2, refund BR1; BR2 is the next
        // day's), S2 (B4, refund BR3), then 合计. Fees are zero, so 实收净额 = 商家实收.
        let got: Vec<(&str, u64, u64, String, String, String)> = back
            .iter()
            .map(|s| {
                (
                    s.store_id.as_str(),
                    s.trade_count,
                    s.refund_count,
                    s.order_amount.to_string(),
                    s.received.to_string(),
                    s.net_received.to_string(),
                )
            })
            .collect();
        let row = |id, t, r, amount: &str| {
            (
                id,
                t,
                r,
                amount.to_owned(),
                amount.to_owned(),
                amount.to_owned(),
            )
        };
        assert_eq!(
            got,
            [
                row("", 1, 0, "0.01"),
                row("S1", 2, 1, "14.25"),
                row("S2", 1, 1, "0.00"),
                row("合计", 4, 2, "14.26"),
            ]
        );
    }
}
