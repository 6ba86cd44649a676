//! The 业务明细(汇总) table derived from detail rows, and its writer.

use std::collections::BTreeMap;
use std::io::Write;

use jiff::civil::DateTime;

use crate::error::Error;
use crate::footer::BillHeader;
use crate::money::Money;
use crate::rows::{BusinessType, DetailRow, Row, SummaryRow, TableKind};
use crate::writer::{TableWriter, WriteOptions};

/// The 门店编号 of the summary's total row.
pub(crate) const TOTAL: &str = "合计";

/// The per-store sums of 业务明细 rows: the rows of the 业务明细(汇总) table of a trade bill.
///
/// Feed it detail rows with [`Summary::add`] (or build it with [`Summary::from_details`]); it keeps
/// one [`SummaryRow`] per store and the `合计` row, in exact [`Money`] arithmetic. How the columns
/// are derived:
///
/// | column | derived as |
/// |---|---|
/// | 门店编号, 门店名称 | the store: one row per distinct (门店编号, 门店名称) pair of the detail rows, in ascending order of that pair; rows without a store form the store with both cells empty |
/// | 交易订单总笔数 | the number of `交易` rows |
/// | 退款订单总笔数 | the number of `退款` rows |
/// | 订单金额, 商家实收, 支付宝优惠, 商家优惠, 卡消费金额, 服务费, 分润 | the sums of the same detail columns over the `交易` and `退款` rows, as printed (refund amounts are negative, so the sums are net of refunds) |
/// | 实收净额 | 商家实收 − 服务费 (**unverified**, see below) |
///
/// Detail rows of any other 业务类型 are left out, as they are from the detail footer; so the
/// `合计` row's 商家实收 equals `#交易合计` plus `#退款合计` of the detail table.
///
/// **Unverified** (no real summary file has been seen; the layout comes from open-source parsers;
/// see `docs/bills.md`):
/// - 实收净额 is taken as 商家实收 minus 服务费, with 服务费 as printed in the detail rows and read
///   as a charge (positive on a payment, negative when returned on a refund). Every real detail
///   row seen prints 服务费 `0.00`, so the sign is not known either: were the fee printed negative,
///   Alipay's figure would be 商家实收 + 服务费. 分润 is not deducted.
/// - The grouping (by the pair 门店编号 and 门店名称), the row order and whether refunds are netted
///   into the amounts are readings of the column names.
/// - The final `合计` row (门店编号 `合计`, 门店名称 empty, the sums of the store rows): one
///   open-source parser looks for it, so the writer emits it by default; the reader accepts a
///   summary with or without it.
///
/// ```
/// use alipay_bill::{BusinessType, DetailRow, Money, Summary};
/// let mut pay = DetailRow::default();
/// pay.store_id = "S1".into();
/// pay.order_amount = Money::from_fen(1000);
/// pay.received = Money::from_fen(1000);
/// pay.service_fee = Money::from_fen(6);
/// let mut refund = pay.clone();
/// refund.business_type = BusinessType::Refund;
/// refund.order_amount = Money::from_fen(-250);
/// refund.received = Money::from_fen(-250);
/// refund.service_fee = Money::from_fen(-1);
/// let summary = Summary::from_details([&pay, &refund]);
/// let store = summary.stores().next().expect("one store");
/// assert_eq!((store.store_id.as_str(), store.trade_count, store.refund_count), ("S1", 1, 1));
/// assert_eq!(store.received.to_string(), "7.50");
/// assert_eq!(store.service_fee.to_string(), "0.05");
/// assert_eq!(store.net_received.to_string(), "7.45");
/// assert!(summary.total().is_total());
/// assert_eq!(summary.total().net_received.to_string(), "7.45");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    stores: BTreeMap<(String, String), SummaryRow>,
    total: SummaryRow,
}

impl Default for Summary {
    fn default() -> Self {
        Self::new()
    }
}

impl Summary {
    /// An empty summary: no store, a `合计` row of zeros.
    #[must_use]
    pub fn new() -> Self {
        Self {
            stores: BTreeMap::new(),
            total: SummaryRow {
                store_id: TOTAL.to_owned(),
                ..SummaryRow::default()
            },
        }
    }

    /// The summary of `rows`.
    #[must_use]
    pub fn from_details<'a, I: IntoIterator<Item = &'a DetailRow>>(rows: I) -> Self {
        let mut summary = Self::new();
        for row in rows {
            summary.add(row);
        }
        summary
    }

    /// Adds one detail row to its store and to the `合计` row; rows whose 业务类型 is neither
    /// `交易` nor `退款` are ignored.
    pub fn add(&mut self, row: &DetailRow) {
        let refund = match row.business_type {
            BusinessType::Trade => false,
            BusinessType::Refund => true,
            BusinessType::Other(_) => return,
        };
        let key = (row.store_id.clone(), row.store_name.clone());
        let store = self.stores.entry(key).or_insert_with(|| SummaryRow {
            store_id: row.store_id.clone(),
            store_name: row.store_name.clone(),
            ..SummaryRow::default()
        });
        accumulate(store, row, refund);
        accumulate(&mut self.total, row, refund);
    }

    /// The store rows, in ascending order of (门店编号, 门店名称).
    pub fn stores(&self) -> impl ExactSizeIterator<Item = &SummaryRow> {
        self.stores.values()
    }

    /// The `合计` row: 门店编号 `合计`, 门店名称 empty, the sums over every store.
    #[must_use]
    pub fn total(&self) -> &SummaryRow {
        &self.total
    }

    /// The rows of the table: the store rows, then the `合计` row if `with_total`.
    #[must_use]
    pub fn rows(&self, with_total: bool) -> Vec<SummaryRow> {
        let mut rows: Vec<SummaryRow> = self.stores.values().cloned().collect();
        if with_total {
            rows.push(self.total.clone());
        }
        rows
    }

    /// Writes the 业务明细(汇总) table to `out` in Alipay's format: the `#` lines of `header`
    /// (make it with `BillHeader::new(TableKind::Summary, account, date)`: title
    /// `支付宝业务汇总查询`, account, period), the begin marker `#` + 41 `-` + `业务汇总列表` +
    /// 40 `-`, the 12-column header row, the store rows (门店编号 and 门店名称 end with a TAB, as
    /// text cells do in the detail table), the `合计` row if `with_total`, the end marker `#` + 40
    /// `-` + `业务汇总列表结束` + 37 `-`, and `#导出时间：[…]` when `exported_at` is given; LF line
    /// endings, GBK unless `options` say otherwise.
    ///
    /// ```
    /// use alipay_bill::{BillHeader, DetailRow, Money, Row, Summary, TableKind, TableReader, WriteOptions};
    /// # fn main() -> Result<(), alipay_bill::Error> {
    /// let mut pay = DetailRow::default();
    /// pay.received = Money::from_fen(1);
    /// let summary = Summary::from_details([&pay]);
    /// let header = BillHeader::new(TableKind::Summary, "20880211096256330156", "2019-09-16".parse()?)?;
    /// let bytes = summary.write_table(Vec::new(), &header, None, true, WriteOptions::default())?;
    /// let mut table = TableReader::new(&bytes[..])?;
    /// let back: Vec<Row> = table.by_ref().collect::<Result<_, _>>()?;
    /// assert_eq!(back, summary.rows(true).into_iter().map(Row::Summary).collect::<Vec<_>>());
    /// assert!(table.check().is_ok());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When a store's 门店编号 is `合计` (it would read back as the total row), on I/O errors, on
    /// text GBK cannot encode, or on text that could not be read back (see
    /// [`TableWriter::write_row`]).
    pub fn write_table<W: Write>(
        &self,
        out: W,
        header: &BillHeader,
        exported_at: Option<DateTime>,
        with_total: bool,
        options: WriteOptions,
    ) -> Result<W, Error> {
        if self.stores.keys().any(|(id, _)| id == TOTAL) {
            return Err(Error::invalid(
                "a store numbered 合计 (it would read back as the 合计 row)",
            ));
        }
        let mut table = TableWriter::with_options(out, TableKind::Summary, header, options)?;
        for row in self.stores.values() {
            table.write_row(&Row::Summary(row.clone()))?;
        }
        if with_total {
            table.write_row(&Row::Summary(self.total.clone()))?;
        }
        table.finish_with_totals(exported_at)
    }
}

fn accumulate(s: &mut SummaryRow, r: &DetailRow, refund: bool) {
    s.add_figures(&SummaryRow {
        store_id: String::new(),
        store_name: String::new(),
        trade_count: u64::from(!refund),
        refund_count: u64::from(refund),
        order_amount: r.order_amount,
        received: r.received,
        alipay_discount: r.alipay_discount,
        merchant_discount: r.merchant_discount,
        card_amount: r.card_amount,
        service_fee: r.service_fee,
        profit_share: r.profit_share,
        net_received: net_received(r.received, r.service_fee),
        extra: Vec::new(),
    });
}

/// 实收净额 of one detail row: 商家实收 − 服务费 (unverified, see [`Summary`]).
fn net_received(received: Money, service_fee: Money) -> Money {
    received - service_fee
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(store: (&str, &str), refund: bool, fen: [i64; 7]) -> DetailRow {
        DetailRow {
            store_id: store.0.into(),
            store_name: store.1.into(),
            business_type: if refund {
                BusinessType::Refund
            } else {
                BusinessType::Trade
            },
            order_amount: Money::from_fen(fen[0]),
            received: Money::from_fen(fen[1]),
            alipay_discount: Money::from_fen(fen[2]),
            merchant_discount: Money::from_fen(fen[3]),
            card_amount: Money::from_fen(fen[4]),
            service_fee: Money::from_fen(fen[5]),
            profit_share: Money::from_fen(fen[6]),
            ..DetailRow::default()
        }
    }

    #[test]
    fn sums_per_store_in_exact_money() {
        let rows = [
            detail(("B", "乙"), false, [1000, 990, 10, 0, 0, 6, 1]),
            detail(("A", "甲"), false, [1, 1, 0, 0, 0, 0, 0]),
            detail(("B", "乙"), true, [-300, -297, -3, 0, 0, -2, 0]),
            detail(("", ""), false, [10, 10, 0, 0, 5, 0, 0]),
            detail(("B", "乙二"), false, [7, 7, 0, 0, 0, 0, 0]),
            DetailRow {
                business_type: BusinessType::Other("冻结".into()),
                received: Money::from_fen(999),
                ..DetailRow::default()
            },
        ];
        let summary = Summary::from_details(&rows);
        let got: Vec<(&str, &str, u64, u64, [i64; 8])> = summary
            .stores()
            .map(|s| {
                (
                    s.store_id.as_str(),
                    s.store_name.as_str(),
                    s.trade_count,
                    s.refund_count,
                    [
                        s.order_amount.fen(),
                        s.received.fen(),
                        s.alipay_discount.fen(),
                        s.merchant_discount.fen(),
                        s.card_amount.fen(),
                        s.service_fee.fen(),
                        s.profit_share.fen(),
                        s.net_received.fen(),
                    ],
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("", "", 1, 0, [10, 10, 0, 0, 5, 0, 0, 10]),
                ("A", "甲", 1, 0, [1, 1, 0, 0, 0, 0, 0, 1]),
                ("B", "乙", 1, 1, [700, 693, 7, 0, 0, 4, 1, 689]),
                ("B", "乙二", 1, 0, [7, 7, 0, 0, 0, 0, 0, 7]),
            ]
        );
        let t = summary.total();
        assert_eq!((t.store_id.as_str(), t.store_name.as_str()), ("合计", ""));
        assert_eq!((t.trade_count, t.refund_count), (4, 1));
        assert_eq!(
            (t.order_amount, t.received, t.net_received),
            (
                Money::from_fen(718),
                Money::from_fen(711),
                Money::from_fen(707)
            )
        );
        assert_eq!(summary.rows(true).len(), 5);
        assert_eq!(summary.rows(false).len(), 4);
        assert_eq!(Summary::default(), Summary::from_details(&[]));
    }

    #[test]
    fn a_store_numbered_total_is_refused() {
        let summary = Summary::from_details(&[detail(("合计", ""), false, [1; 7])]);
        let header =
            BillHeader::new(TableKind::Summary, "2088", "2019-09-16".parse().unwrap()).unwrap();
        let err = summary
            .write_table(Vec::new(), &header, None, true, WriteOptions::default())
            .unwrap_err();
        assert!(err.is_unwritable());
        assert!(err.to_string().contains("合计"), "{err}");
    }
}
