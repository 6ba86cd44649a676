//! The naive baseline: decode the whole file to a `String`, then split lines and cells.

use std::hint::black_box;

use alipay_bill::{BusinessType, DetailRow, Money};

/// The usual hand-written parser: whole file to a `String`, `split(',')`, `trim_end_matches('\t')`.
pub(crate) fn naive(bytes: &[u8]) -> (u64, Money) {
    let (text, _, _) = encoding_rs::GBK.decode(bytes);
    let text = text.into_owned();
    let mut header: Vec<&str> = Vec::new();
    let (mut count, mut sum) = (0, Money::ZERO);
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(|c| c.trim_end_matches('\t')).collect();
        if header.is_empty() {
            header = cells;
            continue;
        }
        let time = |s: &str| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s).ok();
        let money = |s: &str| s.parse::<Money>().unwrap_or_default();
        let mut row = DetailRow::default();
        row.trade_no = cells[0].to_owned();
        row.out_trade_no = cells[1].to_owned();
        row.business_type = if cells[2] == "退款" {
            BusinessType::Refund
        } else {
            BusinessType::Trade
        };
        row.subject = cells[3].to_owned();
        row.created_at = time(cells[4]);
        row.finished_at = time(cells[5]);
        row.store_id = cells[6].to_owned();
        row.store_name = cells[7].to_owned();
        row.operator = cells[8].to_owned();
        row.terminal_id = cells[9].to_owned();
        row.counterparty = cells[10].to_owned();
        row.order_amount = money(cells[11]);
        row.received = money(cells[12]);
        row.alipay_red_packet = money(cells[13]);
        row.jifenbao = money(cells[14]);
        row.alipay_discount = money(cells[15]);
        row.merchant_discount = money(cells[16]);
        row.coupon_amount = money(cells[17]);
        row.coupon_name = cells[18].to_owned();
        row.merchant_red_packet = money(cells[19]);
        row.card_amount = money(cells[20]);
        row.refund_request_no = cells[21].to_owned();
        row.service_fee = money(cells[22]);
        row.profit_share = money(cells[23]);
        row.remark = cells[24].to_owned();
        count += 1;
        sum += black_box(row).received;
    }
    (count, sum)
}
