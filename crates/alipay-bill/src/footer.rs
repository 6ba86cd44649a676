//! The `#` lines around a table: header and footer, and the reconciliation of rows with the footer.

use core::fmt;

use jiff::civil::DateTime;

use crate::error::Error;
use crate::money::Money;
use crate::rows::{BusinessType, Row, TableKind};
use crate::time::{ChineseTime, Period, parse_chinese_time};

/// The `#` lines above a table.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BillHeader {
    /// The first line without `#`, e.g. `支付宝业务明细查询`.
    pub title: String,
    /// 账号: the 16-digit account (2088…) or the 20-digit one with its 4-digit suffix (2088…0156).
    pub account: Option<String>,
    /// 起始日期 and 终止日期.
    pub period: Option<Period>,
    /// Other `#` lines before the begin marker, without `#`, in order.
    pub other: Vec<String>,
}

impl BillHeader {
    /// The header Alipay writes for `kind` of `account` over `date`.
    ///
    /// # Errors
    /// When the period cannot be computed (year 9999).
    pub fn new(kind: TableKind, account: &str, date: crate::BillDate) -> Result<Self, Error> {
        Ok(Self {
            title: kind.title().to_owned(),
            account: Some(account.to_owned()),
            period: Some(date.period()?),
            other: Vec::new(),
        })
    }

    /// Reads one `#` line (without the `#`).
    pub(crate) fn absorb(&mut self, text: &str) -> Result<(), Error> {
        if self.title.is_empty() {
            text.clone_into(&mut self.title);
        } else if let Some(rest) = text.strip_prefix("账号：") {
            let account = bracketed(rest).ok_or_else(|| Error::format("#账号：[…]", Some(text)))?;
            self.account = Some(account.to_owned());
        } else if let Some(rest) = text.strip_prefix("起始日期：") {
            self.period = Some(parse_period(rest).ok_or_else(|| {
                Error::format(
                    "#起始日期：[yyyy年MM月dd日 HH:mm:ss]   终止日期：[yyyy年MM月dd日 HH:mm:ss]",
                    Some(text),
                )
            })?);
        } else {
            self.other.push(text.to_owned());
        }
        Ok(())
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("#{}", self.title)];
        if let Some(account) = &self.account {
            out.push(format!("#账号：[{account}]"));
        }
        if let Some(p) = &self.period {
            out.push(format!(
                "#起始日期：[{}]   终止日期：[{}]",
                ChineseTime(p.start),
                ChineseTime(p.end)
            ));
        }
        out.extend(self.other.iter().map(|l| format!("#{l}")));
        out
    }
}

fn bracketed(text: &str) -> Option<&str> {
    text.trim_end().strip_prefix('[')?.strip_suffix(']')
}

fn parse_period(rest: &str) -> Option<Period> {
    let (start, end) = rest.split_once("终止日期：")?;
    let start = parse_chinese_time(bracketed(start.trim_end())?)?;
    let end = parse_chinese_time(bracketed(end)?)?;
    Some(Period { start, end })
}

/// A `#交易合计` or `#退款合计` footer line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TradeTotals {
    /// N笔.
    pub count: u64,
    /// 商家实收共X元 (退款: 商家实收退款共, negative).
    pub received: Money,
    /// 商家优惠共Y元 (退款: 商家优惠退款共).
    pub merchant_discount: Money,
}

/// A `#收入合计` or `#支出合计` footer line of the account flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FlowTotals {
    /// N笔.
    pub count: u64,
    /// 共X元.
    pub amount: Money,
}

/// The `#` lines after a table's end marker.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Footer {
    /// `#交易合计：N笔，商家实收共X元，商家优惠共Y元` (detail table).
    pub trade: Option<TradeTotals>,
    /// `#退款合计：N笔，商家实收退款共X元，商家优惠退款共Y元` (detail table).
    pub refund: Option<TradeTotals>,
    /// `#支出合计：N笔，共X元` (account flow).
    pub expense: Option<FlowTotals>,
    /// `#收入合计：N笔，共X元` (account flow).
    pub income: Option<FlowTotals>,
    /// `#导出时间：[yyyy年MM月dd日 HH:mm:ss]`.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::time::serde_opt_time")
    )]
    pub exported_at: Option<DateTime>,
    /// Other `#` lines, without `#`, in order; written after the totals.
    pub other: Vec<String>,
}

impl Footer {
    /// Reads one `#` line (without the `#`).
    pub(crate) fn absorb(&mut self, text: &str) -> Result<(), Error> {
        let bad = |what: &str| Error::format(what.to_owned(), Some(text));
        if let Some(rest) = text.strip_prefix("交易合计：") {
            self.trade = Some(
                parse_trade(rest)
                    .ok_or_else(|| bad("#交易合计：N笔，商家实收共X元，商家优惠共Y元"))?,
            );
        } else if let Some(rest) = text.strip_prefix("退款合计：") {
            self.refund = Some(
                parse_trade(rest)
                    .ok_or_else(|| bad("#退款合计：N笔，商家实收退款共X元，商家优惠退款共Y元"))?,
            );
        } else if let Some(rest) = text.strip_prefix("支出合计：") {
            self.expense = Some(parse_flow(rest).ok_or_else(|| bad("#支出合计：N笔，共X元"))?);
        } else if let Some(rest) = text.strip_prefix("收入合计：") {
            self.income = Some(parse_flow(rest).ok_or_else(|| bad("#收入合计：N笔，共X元"))?);
        } else if let Some(rest) = text.strip_prefix("导出时间：") {
            let t = bracketed(rest)
                .and_then(parse_chinese_time)
                .ok_or_else(|| bad("#导出时间：[yyyy年MM月dd日 HH:mm:ss]"))?;
            self.exported_at = Some(t);
        } else {
            self.other.push(text.to_owned());
        }
        Ok(())
    }

    /// The footer lines in Alipay's order: detail `交易合计, 退款合计`; account flow `支出合计, 收入合计`;
    /// then the other lines and `导出时间`.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(t) = &self.trade {
            out.push(format!(
                "#交易合计：{}笔，商家实收共{}元，商家优惠共{}元",
                t.count, t.received, t.merchant_discount
            ));
        }
        if let Some(t) = &self.refund {
            out.push(format!(
                "#退款合计：{}笔，商家实收退款共{}元，商家优惠退款共{}元",
                t.count, t.received, t.merchant_discount
            ));
        }
        if let Some(t) = &self.expense {
            out.push(format!("#支出合计：{}笔，共{}元", t.count, t.amount));
        }
        if let Some(t) = &self.income {
            out.push(format!("#收入合计：{}笔，共{}元", t.count, t.amount));
        }
        out.extend(self.other.iter().map(|l| format!("#{l}")));
        if let Some(t) = self.exported_at {
            out.push(format!("#导出时间：[{}]", ChineseTime(t)));
        }
        out
    }
}

/// `N笔，…共X元，…共Y元` → (N, [X, Y]).
fn parse_counted(rest: &str) -> Option<(u64, Vec<Money>)> {
    let mut parts = rest.split('，');
    let count = parts.next()?.strip_suffix('笔')?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count = count.parse().ok()?;
    let mut amounts = Vec::new();
    for part in parts {
        let (_, amount) = part.split_once('共')?;
        amounts.push(amount.strip_suffix('元')?.parse().ok()?);
    }
    Some((count, amounts))
}

fn parse_trade(rest: &str) -> Option<TradeTotals> {
    match parse_counted(rest)? {
        (count, a) if a.len() == 2 => Some(TradeTotals {
            count,
            received: a[0],
            merchant_discount: a[1],
        }),
        _ => None,
    }
}

fn parse_flow(rest: &str) -> Option<FlowTotals> {
    match parse_counted(rest)? {
        (count, a) if a.len() == 1 => Some(FlowTotals {
            count,
            amount: a[0],
        }),
        _ => None,
    }
}

/// Running sums over the rows of one table, kept while streaming (constant memory).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Totals {
    /// Detail rows of type 交易.
    pub trade: TradeTotals,
    /// Detail rows of type 退款.
    pub refund: TradeTotals,
    /// Detail rows of any other type (not in the footer).
    pub other_detail_rows: u64,
    /// Account-flow rows with a non-zero 支出金额.
    pub expense: FlowTotals,
    /// Account-flow rows with a non-zero 收入金额.
    pub income: FlowTotals,
    /// Sum of the summary rows other than `合计`.
    pub summary: crate::SummaryRow,
    /// The summary's `合计` row, once read.
    pub summary_total: Option<crate::SummaryRow>,
    /// Number of rows.
    pub rows: u64,
}

impl Totals {
    /// Adds one row.
    pub fn add(&mut self, row: &Row) {
        self.rows += 1;
        match row {
            Row::Detail(r) => {
                let t = match r.business_type {
                    BusinessType::Trade => &mut self.trade,
                    BusinessType::Refund => &mut self.refund,
                    BusinessType::Other(_) => {
                        self.other_detail_rows += 1;
                        return;
                    }
                };
                t.count += 1;
                t.received += r.received;
                t.merchant_discount += r.merchant_discount;
            }
            Row::Account(r) => {
                if !r.income.is_zero() {
                    self.income.count += 1;
                    self.income.amount += r.income;
                }
                if !r.expense.is_zero() {
                    self.expense.count += 1;
                    self.expense.amount += r.expense;
                }
            }
            Row::Summary(r) if r.is_total() => self.summary_total = Some(r.clone()),
            Row::Summary(r) => self.summary.add_figures(r),
        }
    }

    /// The footer that matches these rows (what the writer emits by default).
    #[must_use]
    pub fn footer(&self, kind: TableKind, exported_at: Option<DateTime>) -> Footer {
        let mut footer = Footer {
            exported_at,
            ..Footer::default()
        };
        match kind {
            TableKind::Detail => {
                footer.trade = Some(self.trade);
                footer.refund = Some(self.refund);
            }
            TableKind::Account => {
                footer.expense = Some(self.expense);
                footer.income = Some(self.income);
            }
            TableKind::Summary => {}
        }
        footer
    }

    /// Compares these sums with the footer (detail, account flow) or the `合计` row (summary; a
    /// summary without a `合计` row has nothing to compare with and passes).
    #[must_use]
    pub fn check(&self, kind: TableKind, footer: &Footer) -> Check {
        let mut d = Vec::new();
        match kind {
            TableKind::Detail => {
                check_trade(&mut d, "交易合计", footer.trade.as_ref(), &self.trade);
                check_trade(&mut d, "退款合计", footer.refund.as_ref(), &self.refund);
            }
            TableKind::Account => {
                check_flow(&mut d, "支出合计", footer.expense.as_ref(), &self.expense);
                check_flow(&mut d, "收入合计", footer.income.as_ref(), &self.income);
            }
            // Whether real summaries end with a 合计 row is unverified: without one there is
            // nothing to compare the store rows with, and the table is accepted as it is.
            TableKind::Summary => match &self.summary_total {
                None => {}
                Some(t) => {
                    let s = &self.summary;
                    let counts = [
                        ("交易订单总笔数", t.trade_count, s.trade_count),
                        ("退款订单总笔数", t.refund_count, s.refund_count),
                    ];
                    for (figure, total, rows) in counts {
                        push(
                            &mut d,
                            "合计",
                            figure,
                            Figure::Count(total),
                            Figure::Count(rows),
                        );
                    }
                    let amounts = [
                        ("订单金额（元）", t.order_amount, s.order_amount),
                        ("商家实收（元）", t.received, s.received),
                        ("支付宝优惠（元）", t.alipay_discount, s.alipay_discount),
                        ("商家优惠（元）", t.merchant_discount, s.merchant_discount),
                        ("卡消费金额（元）", t.card_amount, s.card_amount),
                        ("服务费（元）", t.service_fee, s.service_fee),
                        ("分润（元）", t.profit_share, s.profit_share),
                        ("实收净额（元）", t.net_received, s.net_received),
                    ];
                    for (figure, total, rows) in amounts {
                        push(
                            &mut d,
                            "合计",
                            figure,
                            Figure::Amount(total),
                            Figure::Amount(rows),
                        );
                    }
                }
            },
        }
        Check { differences: d }
    }
}

fn push(
    d: &mut Vec<Difference>,
    total: &'static str,
    figure: &'static str,
    footer: Figure,
    rows: Figure,
) {
    if footer != rows {
        d.push(Difference::Mismatch {
            total,
            figure,
            footer,
            rows,
        });
    }
}

fn check_trade(
    d: &mut Vec<Difference>,
    total: &'static str,
    footer: Option<&TradeTotals>,
    rows: &TradeTotals,
) {
    let Some(f) = footer else {
        d.push(Difference::Missing { total });
        return;
    };
    push(
        d,
        total,
        "笔数",
        Figure::Count(f.count),
        Figure::Count(rows.count),
    );
    push(
        d,
        total,
        "商家实收",
        Figure::Amount(f.received),
        Figure::Amount(rows.received),
    );
    push(
        d,
        total,
        "商家优惠",
        Figure::Amount(f.merchant_discount),
        Figure::Amount(rows.merchant_discount),
    );
}

fn check_flow(
    d: &mut Vec<Difference>,
    total: &'static str,
    footer: Option<&FlowTotals>,
    rows: &FlowTotals,
) {
    let Some(f) = footer else {
        d.push(Difference::Missing { total });
        return;
    };
    push(
        d,
        total,
        "笔数",
        Figure::Count(f.count),
        Figure::Count(rows.count),
    );
    push(
        d,
        total,
        "金额",
        Figure::Amount(f.amount),
        Figure::Amount(rows.amount),
    );
}

/// A count or an amount in a [`Difference`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Figure {
    /// A number of rows.
    Count(u64),
    /// An amount.
    Amount(Money),
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Amount(m) => write!(f, "{m}"),
        }
    }
}

/// One way the rows do not add up to the footer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Difference {
    /// A footer figure differs from the sum over the rows.
    Mismatch {
        /// The footer line: `交易合计`, `退款合计`, `支出合计`, `收入合计`, or `合计` (summary row).
        total: &'static str,
        /// The figure: `笔数`, `商家实收`, `商家优惠`, `金额`, or a summary column name.
        figure: &'static str,
        /// What the footer says.
        footer: Figure,
        /// What the rows add up to.
        rows: Figure,
    },
    /// The footer has no such line.
    Missing {
        /// The missing line.
        total: &'static str,
    },
    /// The table was not read to its end, so there is no footer yet.
    NotFinished,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mismatch {
                total,
                figure,
                footer,
                rows,
            } => {
                write!(
                    f,
                    "{total} {figure}: the footer says {footer}, the rows add up to {rows}"
                )
            }
            Self::Missing { total } => write!(f, "{total}: no such footer line"),
            Self::NotFinished => f.write_str("the table was not read to its end"),
        }
    }
}

/// The result of reconciling rows with their footer: empty when everything adds up.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Check {
    differences: Vec<Difference>,
}

impl Check {
    pub(crate) fn not_finished() -> Self {
        Self {
            differences: vec![Difference::NotFinished],
        }
    }

    /// Whether the rows add up to the footer.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.differences.is_empty()
    }

    /// Each difference found.
    #[must_use]
    pub fn differences(&self) -> &[Difference] {
        &self.differences
    }
}

impl fmt::Display for Check {
    /// One line per difference, or `ok`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.differences.is_empty() {
            return f.write_str("ok");
        }
        for (i, d) in self.differences.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::datetime;

    #[test]
    fn header_lines_parse_and_print() {
        let lines = [
            "支付宝业务明细查询",
            "账号：[20880211096256330156]",
            "起始日期：[2019年09月16日 00:00:00]   终止日期：[2019年09月17日 00:00:00]",
            "备注行",
        ];
        let mut h = BillHeader::default();
        for l in lines {
            h.absorb(l).unwrap();
        }
        assert_eq!(h.title, "支付宝业务明细查询");
        assert_eq!(h.account.as_deref(), Some("20880211096256330156"));
        let p = h.period.unwrap();
        assert_eq!(p.start, datetime(2019, 9, 16, 0, 0, 0, 0));
        assert_eq!(p.end, datetime(2019, 9, 17, 0, 0, 0, 0));
        assert_eq!(h.other, ["备注行"]);
        let printed: Vec<String> = lines.iter().map(|l| format!("#{l}")).collect();
        assert_eq!(h.lines(), printed);

        let mut h = BillHeader {
            title: "t".into(),
            ..BillHeader::default()
        };
        assert!(h.absorb("起始日期：[2019-09-16]").unwrap_err().is_format());
        assert!(h.absorb("账号：2088").unwrap_err().is_format());
    }

    #[test]
    fn footer_lines_parse_and_print() {
        let lines = [
            "#交易合计：10374笔，商家实收共28790.16元，商家优惠共0.00元",
            "#退款合计：1笔，商家实收退款共-3000.00元，商家优惠退款共0.00元",
            "#导出时间：[2021年10月22日 06:27:10]",
        ];
        let mut f = Footer::default();
        for l in lines {
            f.absorb(&l[1..]).unwrap();
        }
        assert_eq!(
            f.trade,
            Some(TradeTotals {
                count: 10374,
                received: Money::from_fen(2_879_016),
                merchant_discount: Money::ZERO
            })
        );
        assert_eq!(
            f.refund.map(|r| (r.count, r.received)),
            Some((1, Money::from_fen(-300_000)))
        );
        assert_eq!(f.exported_at, Some(datetime(2021, 10, 22, 6, 27, 10, 0)));
        assert_eq!(f.lines(), lines);

        let mut f = Footer::default();
        f.absorb("支出合计：0笔，共0.00元").unwrap();
        f.absorb("收入合计：18笔，共14989.00元").unwrap();
        assert_eq!(
            f.income,
            Some(FlowTotals {
                count: 18,
                amount: Money::from_fen(1_498_900)
            })
        );
        assert_eq!(
            f.lines(),
            ["#支出合计：0笔，共0.00元", "#收入合计：18笔，共14989.00元"]
        );

        for bad in [
            "交易合计：x笔，商家实收共0.06元，商家优惠共0.00元",
            "交易合计：6笔，商家实收共0.06元",
            "收入合计：1笔，共a元",
            "导出时间：2019",
        ] {
            assert!(
                Footer::default().absorb(bad).unwrap_err().is_format(),
                "{bad}"
            );
        }
    }

    #[test]
    fn check_reports_each_difference() {
        let mut totals = Totals::default();
        let mut row = crate::DetailRow {
            received: Money::from_fen(5),
            ..Default::default()
        };
        totals.add(&Row::Detail(row.clone()));
        row.business_type = BusinessType::Refund;
        row.received = Money::from_fen(-5);
        totals.add(&Row::Detail(row));
        let mut footer = totals.footer(TableKind::Detail, None);
        assert!(totals.check(TableKind::Detail, &footer).is_ok());
        footer.trade = Some(TradeTotals {
            count: 2,
            received: Money::from_fen(6),
            merchant_discount: Money::ZERO,
        });
        footer.refund = None;
        let check = totals.check(TableKind::Detail, &footer);
        assert_eq!(
            check.to_string(),
            "交易合计 笔数: the footer says 2, the rows add up to 1\n\
             交易合计 商家实收: the footer says 0.06, the rows add up to 0.05\n\
             退款合计: no such footer line"
        );
        assert_eq!(check.differences().len(), 3);
    }
}
