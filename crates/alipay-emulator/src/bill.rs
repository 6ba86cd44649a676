//! Bill files (PROTOCOL §8): the ZIP behind a `bill_download_url`, written by `alipay-bill` from
//! the trades the emulator holds.

use std::collections::BTreeMap;
use std::io::Cursor;

use alipay_bill::{
    AccountRow, BillDate, BillHeader, BusinessType, DetailRow, Money, Row, SummaryRow, TableKind,
    TableWriter, ZipWriter,
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

fn trade_zip(
    account: &str,
    date: BillDate,
    trades: &[Trade],
    now: i64,
) -> Result<Vec<u8>, alipay_bill::Error> {
    let (start, end) = range_ms(date)?;
    let rows = detail_rows(trades, start, end);
    let exported = civil_time(now);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    {
        let entry = zip.start_entry(&TableKind::Detail.entry_name(account, date), exported)?;
        let header = BillHeader::new(TableKind::Detail, account, date)?;
        let mut table = TableWriter::new(entry, TableKind::Detail, &header)?;
        for (_, r) in &rows {
            table.write_detail(r)?;
        }
        table.finish_with_totals(Some(exported))?.finish()?;
    }
    {
        let entry = zip.start_entry(&TableKind::Summary.entry_name(account, date), exported)?;
        let header = BillHeader::new(TableKind::Summary, account, date)?;
        let mut table = TableWriter::new(entry, TableKind::Summary, &header)?;
        let mut stores: BTreeMap<String, SummaryRow> = BTreeMap::new();
        let mut total = SummaryRow::default();
        total.store_id = "合计".to_owned();
        for (_, r) in &rows {
            let s = stores.entry(r.store_id.clone()).or_insert_with(|| {
                let mut s = SummaryRow::default();
                s.store_id.clone_from(&r.store_id);
                s
            });
            for s in [&mut *s, &mut total] {
                if r.business_type == BusinessType::Refund {
                    s.refund_count += 1;
                } else {
                    s.trade_count += 1;
                }
                s.order_amount += r.order_amount;
                s.received += r.received;
                s.net_received += r.received;
            }
        }
        for s in stores.into_values() {
            table.write_row(&Row::Summary(s))?;
        }
        table.write_row(&Row::Summary(total))?;
        table.finish_with_totals(Some(exported))?.finish()?;
    }
    Ok(zip.finish()?.into_inner())
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
