//! A generated trade detail bill, shared by the benchmark and the RSS example.

use std::io::Write;

use alipay_bill::{BillDate, BillHeader, BusinessType, DetailRow, Money, TableKind, TableWriter};
use jiff::civil::datetime;

/// Writes a GBK 业务明细 table of `rows` rows (every fifth a refund) to `out`.
pub(crate) fn write_detail<W: Write>(out: W, rows: u64) -> Result<W, alipay_bill::Error> {
    let date: BillDate = "2019-09-16".parse()?;
    let header = BillHeader::new(TableKind::Detail, "20880211096256330156", date)?;
    let mut w = TableWriter::new(out, TableKind::Detail, &header)?;
    let mut row = DetailRow::default();
    row.subject = "RPC_GENERAL接口测试".to_owned();
    row.store_id = "alipay_store".to_owned();
    row.store_name = "杭州西湖店".to_owned();
    row.operator = "alipay".to_owned();
    row.counterparty = "*津水(602***@qq.com)".to_owned();
    row.remark = "下单测试".to_owned();
    for i in 0..rows {
        let refund = i % 5 == 4;
        let fen = i64::try_from(i % 100_000).unwrap_or(0) + 1;
        let fen = if refund { -fen } else { fen };
        row.trade_no = format!("2019091622001{:015}", i);
        row.out_trade_no = format!("service_{}", 1_568_601_259_302 + i);
        row.business_type = if refund {
            BusinessType::Refund
        } else {
            BusinessType::Trade
        };
        let secs = i8::try_from(i % 60).unwrap_or(0);
        row.created_at = Some(datetime(2019, 9, 16, 10, 55, secs, 0));
        row.finished_at = Some(datetime(2019, 9, 16, 10, 56, secs, 0));
        row.order_amount = Money::from_fen(fen);
        row.received = Money::from_fen(fen);
        row.refund_request_no = if refund {
            format!("re_test_{i}")
        } else {
            String::new()
        };
        w.write_detail(&row)?;
    }
    w.finish_with_totals(Some(datetime(2019, 9, 17, 5, 46, 49, 0)))
}
