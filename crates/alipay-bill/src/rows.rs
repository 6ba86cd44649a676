//! The three tables: their columns and typed rows.

use jiff::civil::DateTime;

use crate::error::Error;
use crate::lines::Record;
use crate::money::Money;
use crate::time::parse_cell_time;

/// Which table a bill file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TableKind {
    /// 业务明细: one row per trade or refund (`bill_type=trade`), 25 columns.
    Detail,
    /// 业务明细(汇总): one row per store and, in the files the writer makes, a final `合计` row
    /// (`bill_type=trade`), 12 columns. Whether real files end with `合计` is unverified; the
    /// reader accepts the table with or without it.
    Summary,
    /// 账务明细: the account flow of `bill_type=signcustomer`, 12 columns.
    Account,
}

impl TableKind {
    /// The name in JSON output: `detail`, `summary` or `account`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detail => "detail",
            Self::Summary => "summary",
            Self::Account => "account",
        }
    }

    /// The list name inside the marker lines: `业务明细列表`, `业务汇总列表`, `账务明细列表`.
    #[must_use]
    pub fn list_name(self) -> &'static str {
        match self {
            Self::Detail => "业务明细列表",
            Self::Summary => "业务汇总列表",
            Self::Account => "账务明细列表",
        }
    }

    /// The first header line without its `#`: `支付宝业务明细查询`, `支付宝业务汇总查询`,
    /// `支付宝账务明细查询`.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Detail => "支付宝业务明细查询",
            Self::Summary => "支付宝业务汇总查询",
            Self::Account => "支付宝账务明细查询",
        }
    }

    /// The suffix of the ZIP entry name: `业务明细.csv`, `业务明细(汇总).csv`, `账务明细.csv`.
    #[must_use]
    pub fn entry_suffix(self) -> &'static str {
        match self {
            Self::Detail => "业务明细.csv",
            Self::Summary => "业务明细(汇总).csv",
            Self::Account => "账务明细.csv",
        }
    }

    /// The entry name Alipay gives this table: `<account>_<yyyyMMdd|yyyyMM>_<suffix>`.
    #[must_use]
    pub fn entry_name(self, account: &str, date: crate::BillDate) -> String {
        format!("{account}_{}_{}", date.compact(), self.entry_suffix())
    }

    /// The table an entry name announces, from its suffix.
    #[must_use]
    pub fn from_entry_name(name: &str) -> Option<Self> {
        [Self::Summary, Self::Detail, Self::Account]
            .into_iter()
            .find(|k| name.ends_with(k.entry_suffix()))
    }

    /// The begin marker line: `#` + 41 `-` + list name + 40 `-`.
    #[must_use]
    pub fn begin_marker(self) -> String {
        format!("#{}{}{}", "-".repeat(41), self.list_name(), "-".repeat(40))
    }

    /// The end marker line, with the dash counts of the real files: 业务明细 `#` + 41 `-` + name +
    /// `结束` + 36 `-`; 业务汇总 and 账务明细 `#` + 40 `-` + name + `结束` + 37 `-`.
    #[must_use]
    pub fn end_marker(self) -> String {
        let (before, after) = match self {
            Self::Detail => (41, 36),
            Self::Summary | Self::Account => (40, 37),
        };
        format!(
            "#{}{}结束{}",
            "-".repeat(before),
            self.list_name(),
            "-".repeat(after)
        )
    }

    /// The standard column names, in Alipay's order.
    #[must_use]
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Detail => &DETAIL_COLUMNS,
            Self::Summary => &SUMMARY_COLUMNS,
            Self::Account => &ACCOUNT_COLUMNS,
        }
    }

    /// Which standard columns Alipay ends with a TAB (`…453\t,`), in the order of [`Self::columns`].
    pub(crate) fn tabbed(self) -> &'static [bool] {
        match self {
            Self::Detail => &DETAIL_TABS,
            Self::Summary => &SUMMARY_TABS,
            Self::Account => &ACCOUNT_TABS,
        }
    }

    /// The columns a file must have for its rows to mean anything.
    fn required(self) -> &'static [usize] {
        match self {
            Self::Detail => &[0, 2, 12],
            Self::Summary => &[0, 2, 3, 5],
            Self::Account => &[0, 6, 7],
        }
    }

    /// Other names Alipay has used for a standard column: some detail files title the refund
    /// request number column `退款批次号`.
    fn alias(self, name: &str) -> Option<usize> {
        match (self, name) {
            (Self::Detail, "退款批次号") => Some(21),
            _ => None,
        }
    }

    pub(crate) fn from_list_name(name: &str) -> Option<Self> {
        [Self::Detail, Self::Summary, Self::Account]
            .into_iter()
            .find(|k| k.list_name() == name)
    }
}

const DETAIL_COLUMNS: [&str; 25] = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
];
// From the real sample: ids, type, store, operator, terminal, counterparty, 商家红包消费金额 and the
// refund request number end with a TAB; names, times, the other amounts and 备注 do not.
const DETAIL_TABS: [bool; 25] = [
    true, true, true, false, false, false, true, true, true, true, true, false, false, false,
    false, false, false, false, false, true, false, true, false, false, false,
];

const SUMMARY_COLUMNS: [&str; 12] = [
    "门店编号",
    "门店名称",
    "交易订单总笔数",
    "退款订单总笔数",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "卡消费金额（元）",
    "服务费（元）",
    "分润（元）",
    "实收净额（元）",
];
// No real summary file was found: text cells get the TAB, numbers do not, as in the detail table.
const SUMMARY_TABS: [bool; 12] = [
    true, true, false, false, false, false, false, false, false, false, false, false,
];

const ACCOUNT_COLUMNS: [&str; 12] = [
    "账务流水号",
    "业务流水号",
    "商户订单号",
    "商品名称",
    "发生时间",
    "对方账号",
    "收入金额（+元）",
    "支出金额（-元）",
    "账户余额（元）",
    "交易渠道",
    "业务类型",
    "备注",
];
// From a real 2012 account-flow excerpt: the ids, 商品名称 and 对方账号 end with a TAB.
const ACCOUNT_TABS: [bool; 12] = [
    true, true, true, true, false, true, false, false, false, false, false, false,
];

/// How the header row of one file maps onto a table's standard columns.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) kind: TableKind,
    /// The header row as read.
    pub(crate) names: Vec<String>,
    /// For each standard column, its position in the file.
    pub(crate) map: Vec<Option<usize>>,
    /// Positions of the columns that are not standard.
    pub(crate) extras: Vec<usize>,
}

impl Layout {
    pub(crate) fn new(kind: TableKind, names: Vec<String>) -> Result<Self, Error> {
        let standard = kind.columns();
        let mut map = vec![None; standard.len()];
        let mut extras = Vec::new();
        for (at, name) in names.iter().enumerate() {
            let known = standard
                .iter()
                .position(|s| s == name)
                .or_else(|| kind.alias(name));
            match known {
                Some(k) if map[k].is_none() => map[k] = Some(at),
                Some(_) => {
                    return Err(Error::format(format!("column {name} once"), Some(name))
                        .at_column(at, name));
                }
                None => extras.push(at),
            }
        }
        for &k in kind.required() {
            if map[k].is_none() {
                return Err(Error::format(
                    format!("a header row with the column {}", standard[k]),
                    Some(&names.join(",")),
                ));
            }
        }
        Ok(Self {
            kind,
            names,
            map,
            extras,
        })
    }
}

/// Typed access to the cells of one record.
pub(crate) struct Cells<'a> {
    pub(crate) record: &'a Record,
    pub(crate) layout: &'a Layout,
}

impl Cells<'_> {
    fn raw(&self, k: usize) -> Option<(usize, &str)> {
        let at = (*self.layout.map.get(k)?)?;
        Some((at, self.record.get(at)?))
    }

    fn err(&self, at: usize, e: Error) -> Error {
        let name = self.layout.names.get(at).map_or("", String::as_str);
        e.at_column(at, name)
    }

    pub(crate) fn text(&self, k: usize) -> String {
        self.raw(k)
            .map(|(_, text)| text.to_owned())
            .unwrap_or_default()
    }

    pub(crate) fn money(&self, k: usize) -> Result<Money, Error> {
        match self.raw(k) {
            Some((at, text)) => Money::parse_bytes(text.as_bytes())
                .map_err(|_| self.err(at, Error::value("an amount like 0.01", text))),
            None => Ok(Money::ZERO),
        }
    }

    /// An amount where an empty cell (or a missing column) reads as zero.
    pub(crate) fn money_or_zero(&self, k: usize) -> Result<Money, Error> {
        match self.raw(k) {
            Some((_, "")) | None => Ok(Money::ZERO),
            Some(_) => self.money(k),
        }
    }

    pub(crate) fn count(&self, k: usize) -> Result<u64, Error> {
        match self.raw(k) {
            Some((at, text)) => Some(text)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| self.err(at, Error::value("a count like 6", text))),
            None => Ok(0),
        }
    }

    pub(crate) fn time(&self, k: usize) -> Result<Option<DateTime>, Error> {
        match self.raw(k) {
            Some((_, "")) | None => Ok(None),
            Some((at, text)) => parse_cell_time(text.as_bytes())
                .map(Some)
                .ok_or_else(|| self.err(at, Error::value("a time like 2019-09-16 10:55:16", text))),
        }
    }

    pub(crate) fn extras(&self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.layout.extras.len());
        for &at in &self.layout.extras {
            let value = self.record.get(at).unwrap_or_default();
            let name = self.layout.names.get(at).cloned().unwrap_or_default();
            out.push((name, value.to_owned()));
        }
        out
    }
}

/// 业务类型 of a detail row.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum BusinessType {
    /// 交易: a payment.
    #[default]
    Trade,
    /// 退款: a refund; its amounts are negative.
    Refund,
    /// Any other text, kept as is.
    Other(String),
}

impl BusinessType {
    /// The cell text: `交易`, `退款`, or the other text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Trade => "交易",
            Self::Refund => "退款",
            Self::Other(s) => s,
        }
    }

    fn parse(text: String) -> Self {
        match text.as_str() {
            "交易" => Self::Trade,
            "退款" => Self::Refund,
            _ => Self::Other(text),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for BusinessType {
    /// Serialises as the cell text (`"交易"`, `"退款"`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
fn serde_extra<S: serde::Serializer>(extra: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(extra.len()))?;
    for (k, v) in extra {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// One row of the 业务明细 (trade detail) table.
///
/// Text cells are stored without Alipay's trailing TAB. Amounts in yuan as exact [`Money`]; an empty
/// amount cell reads as zero, except 订单金额 and 商家实收, which must hold an amount. A column missing
/// from the file reads as empty text, zero or `None`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DetailRow {
    /// 支付宝交易号 (`trade_no`).
    pub trade_no: String,
    /// 商户订单号 (`out_trade_no`).
    pub out_trade_no: String,
    /// 业务类型: 交易 or 退款.
    pub business_type: BusinessType,
    /// 商品名称 (`subject`).
    pub subject: String,
    /// 创建时间.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::time::serde_opt_time")
    )]
    pub created_at: Option<DateTime>,
    /// 完成时间 (payment or refund time).
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::time::serde_opt_time")
    )]
    pub finished_at: Option<DateTime>,
    /// 门店编号.
    pub store_id: String,
    /// 门店名称.
    pub store_name: String,
    /// 操作员.
    pub operator: String,
    /// 终端号.
    pub terminal_id: String,
    /// 对方账户, masked by Alipay (`*杨(137****2600)`).
    pub counterparty: String,
    /// 订单金额（元）.
    pub order_amount: Money,
    /// 商家实收（元）: what the merchant receives; negative for refunds.
    pub received: Money,
    /// 支付宝红包（元）.
    pub alipay_red_packet: Money,
    /// 集分宝（元）.
    pub jifenbao: Money,
    /// 支付宝优惠（元）.
    pub alipay_discount: Money,
    /// 商家优惠（元）.
    pub merchant_discount: Money,
    /// 券核销金额（元）.
    pub coupon_amount: Money,
    /// 券名称.
    pub coupon_name: String,
    /// 商家红包消费金额（元）.
    pub merchant_red_packet: Money,
    /// 卡消费金额（元）.
    pub card_amount: Money,
    /// 退款批次号/请求号: the refund's `out_request_no`; empty for trades.
    pub refund_request_no: String,
    /// 服务费（元）.
    pub service_fee: Money,
    /// 分润（元）.
    pub profit_share: Money,
    /// 备注.
    pub remark: String,
    /// Columns that are not among the 25 standard ones, as `(header, cell)`, in file order.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serde_extra"))]
    pub extra: Vec<(String, String)>,
}

impl DetailRow {
    pub(crate) fn from_cells(c: &Cells<'_>) -> Result<Self, Error> {
        Ok(Self {
            trade_no: c.text(0),
            out_trade_no: c.text(1),
            business_type: BusinessType::parse(c.text(2)),
            subject: c.text(3),
            created_at: c.time(4)?,
            finished_at: c.time(5)?,
            store_id: c.text(6),
            store_name: c.text(7),
            operator: c.text(8),
            terminal_id: c.text(9),
            counterparty: c.text(10),
            order_amount: c.money(11)?,
            received: c.money(12)?,
            alipay_red_packet: c.money_or_zero(13)?,
            jifenbao: c.money_or_zero(14)?,
            alipay_discount: c.money_or_zero(15)?,
            merchant_discount: c.money_or_zero(16)?,
            coupon_amount: c.money_or_zero(17)?,
            coupon_name: c.text(18),
            merchant_red_packet: c.money_or_zero(19)?,
            card_amount: c.money_or_zero(20)?,
            refund_request_no: c.text(21),
            service_fee: c.money_or_zero(22)?,
            profit_share: c.money_or_zero(23)?,
            remark: c.text(24),
            extra: c.extras(),
        })
    }

    pub(crate) fn cells(&self) -> [Cell<'_>; 25] {
        use Cell::{Money as M, Text as T, Time};
        [
            T(&self.trade_no),
            T(&self.out_trade_no),
            T(self.business_type.as_str()),
            T(&self.subject),
            Time(self.created_at),
            Time(self.finished_at),
            T(&self.store_id),
            T(&self.store_name),
            T(&self.operator),
            T(&self.terminal_id),
            T(&self.counterparty),
            M(self.order_amount),
            M(self.received),
            M(self.alipay_red_packet),
            M(self.jifenbao),
            M(self.alipay_discount),
            M(self.merchant_discount),
            M(self.coupon_amount),
            T(&self.coupon_name),
            M(self.merchant_red_packet),
            M(self.card_amount),
            T(&self.refund_request_no),
            M(self.service_fee),
            M(self.profit_share),
            T(&self.remark),
        ]
    }
}

/// One row of the 业务明细(汇总) (trade summary) table: one per store, and a final `合计` row
/// (its presence in real files is unverified; the reader accepts the table without it).
///
/// The layout comes from open-source parsers; no real summary file has been seen (see
/// `docs/bills.md`). [`crate::Summary`] derives these rows from detail rows; how each column is
/// derived (实收净额 = 商家实收 − 服务费, unverified) is documented there.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SummaryRow {
    /// 门店编号; `合计` on the total row.
    pub store_id: String,
    /// 门店名称.
    pub store_name: String,
    /// 交易订单总笔数.
    pub trade_count: u64,
    /// 退款订单总笔数.
    pub refund_count: u64,
    /// 订单金额（元）.
    pub order_amount: Money,
    /// 商家实收（元）.
    pub received: Money,
    /// 支付宝优惠（元）.
    pub alipay_discount: Money,
    /// 商家优惠（元）.
    pub merchant_discount: Money,
    /// 卡消费金额（元）.
    pub card_amount: Money,
    /// 服务费（元）.
    pub service_fee: Money,
    /// 分润（元）.
    pub profit_share: Money,
    /// 实收净额（元）; [`crate::Summary`] derives it as 商家实收 − 服务费 (unverified).
    pub net_received: Money,
    /// Columns that are not among the 12 standard ones, as `(header, cell)`.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serde_extra"))]
    pub extra: Vec<(String, String)>,
}

impl SummaryRow {
    /// Whether this is the final `合计` (total) row.
    #[must_use]
    pub fn is_total(&self) -> bool {
        self.store_id == "合计"
    }

    /// Adds the counts and amounts of `other` to this row (store and extra columns unchanged).
    pub(crate) fn add_figures(&mut self, other: &SummaryRow) {
        self.trade_count = self.trade_count.saturating_add(other.trade_count);
        self.refund_count = self.refund_count.saturating_add(other.refund_count);
        self.order_amount += other.order_amount;
        self.received += other.received;
        self.alipay_discount += other.alipay_discount;
        self.merchant_discount += other.merchant_discount;
        self.card_amount += other.card_amount;
        self.service_fee += other.service_fee;
        self.profit_share += other.profit_share;
        self.net_received += other.net_received;
    }

    pub(crate) fn from_cells(c: &Cells<'_>) -> Result<Self, Error> {
        Ok(Self {
            store_id: c.text(0),
            store_name: c.text(1),
            trade_count: c.count(2)?,
            refund_count: c.count(3)?,
            order_amount: c.money_or_zero(4)?,
            received: c.money(5)?,
            alipay_discount: c.money_or_zero(6)?,
            merchant_discount: c.money_or_zero(7)?,
            card_amount: c.money_or_zero(8)?,
            service_fee: c.money_or_zero(9)?,
            profit_share: c.money_or_zero(10)?,
            net_received: c.money_or_zero(11)?,
            extra: c.extras(),
        })
    }

    pub(crate) fn cells(&self) -> [Cell<'_>; 12] {
        use Cell::{Count as N, Money as M, Text as T};
        [
            T(&self.store_id),
            T(&self.store_name),
            N(self.trade_count),
            N(self.refund_count),
            M(self.order_amount),
            M(self.received),
            M(self.alipay_discount),
            M(self.merchant_discount),
            M(self.card_amount),
            M(self.service_fee),
            M(self.profit_share),
            M(self.net_received),
        ]
    }
}

/// One row of the 账务明细 (account flow) table of a `signcustomer` bill.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AccountRow {
    /// 账务流水号.
    pub flow_no: String,
    /// 业务流水号.
    pub biz_no: String,
    /// 商户订单号.
    pub out_trade_no: String,
    /// 商品名称.
    pub subject: String,
    /// 发生时间.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::time::serde_opt_time")
    )]
    pub occurred_at: Option<DateTime>,
    /// 对方账号.
    pub counterparty: String,
    /// 收入金额（+元）.
    pub income: Money,
    /// 支出金额（-元）, as printed.
    pub expense: Money,
    /// 账户余额（元） after this entry.
    pub balance: Money,
    /// 交易渠道.
    pub channel: String,
    /// 业务类型 (在线支付, 转账, 提现, …), as printed.
    pub business_type: String,
    /// 备注.
    pub remark: String,
    /// Columns that are not among the 12 standard ones, as `(header, cell)`.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serde_extra"))]
    pub extra: Vec<(String, String)>,
}

impl AccountRow {
    pub(crate) fn from_cells(c: &Cells<'_>) -> Result<Self, Error> {
        Ok(Self {
            flow_no: c.text(0),
            biz_no: c.text(1),
            out_trade_no: c.text(2),
            subject: c.text(3),
            occurred_at: c.time(4)?,
            counterparty: c.text(5),
            income: c.money_or_zero(6)?,
            expense: c.money_or_zero(7)?,
            balance: c.money_or_zero(8)?,
            channel: c.text(9),
            business_type: c.text(10),
            remark: c.text(11),
            extra: c.extras(),
        })
    }

    pub(crate) fn cells(&self) -> [Cell<'_>; 12] {
        use Cell::{Money as M, Text as T, Time};
        [
            T(&self.flow_no),
            T(&self.biz_no),
            T(&self.out_trade_no),
            T(&self.subject),
            Time(self.occurred_at),
            T(&self.counterparty),
            M(self.income),
            M(self.expense),
            M(self.balance),
            T(&self.channel),
            T(&self.business_type),
            T(&self.remark),
        ]
    }
}

/// A cell to write.
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Money(Money),
    Count(u64),
    Time(Option<DateTime>),
}

/// One row of any table.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "table", rename_all = "lowercase"))]
pub enum Row {
    /// A 业务明细 row.
    Detail(DetailRow),
    /// A 业务明细(汇总) row.
    Summary(SummaryRow),
    /// A 账务明细 row.
    Account(AccountRow),
}

impl Row {
    /// The table the row belongs to.
    #[must_use]
    pub fn kind(&self) -> TableKind {
        match self {
            Self::Detail(_) => TableKind::Detail,
            Self::Summary(_) => TableKind::Summary,
            Self::Account(_) => TableKind::Account,
        }
    }

    /// The detail row, if this is one.
    #[must_use]
    pub fn as_detail(&self) -> Option<&DetailRow> {
        match self {
            Self::Detail(r) => Some(r),
            _ => None,
        }
    }

    /// The summary row, if this is one.
    #[must_use]
    pub fn as_summary(&self) -> Option<&SummaryRow> {
        match self {
            Self::Summary(r) => Some(r),
            _ => None,
        }
    }

    /// The account-flow row, if this is one.
    #[must_use]
    pub fn as_account(&self) -> Option<&AccountRow> {
        match self {
            Self::Account(r) => Some(r),
            _ => None,
        }
    }

    pub(crate) fn extra(&self) -> &[(String, String)] {
        match self {
            Self::Detail(r) => &r.extra,
            Self::Summary(r) => &r.extra,
            Self::Account(r) => &r.extra,
        }
    }

    pub(crate) fn from_cells(c: &Cells<'_>) -> Result<Self, Error> {
        Ok(match c.layout.kind {
            TableKind::Detail => Self::Detail(DetailRow::from_cells(c)?),
            TableKind::Summary => Self::Summary(SummaryRow::from_cells(c)?),
            TableKind::Account => Self::Account(AccountRow::from_cells(c)?),
        })
    }
}

impl From<DetailRow> for Row {
    fn from(r: DetailRow) -> Self {
        Self::Detail(r)
    }
}

impl From<SummaryRow> for Row {
    fn from(r: SummaryRow) -> Self {
        Self::Summary(r)
    }
}

impl From<AccountRow> for Row {
    fn from(r: AccountRow) -> Self {
        Self::Account(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_have_the_real_dash_counts() {
        assert_eq!(
            TableKind::Detail.begin_marker(),
            "#-----------------------------------------业务明细列表----------------------------------------"
        );
        assert_eq!(
            TableKind::Detail.end_marker(),
            "#-----------------------------------------业务明细列表结束------------------------------------"
        );
        assert_eq!(
            TableKind::Summary.end_marker(),
            "#----------------------------------------业务汇总列表结束-------------------------------------"
        );
        assert_eq!(
            TableKind::Account.begin_marker(),
            "#-----------------------------------------账务明细列表----------------------------------------"
        );
        assert_eq!(
            TableKind::Account.end_marker(),
            "#----------------------------------------账务明细列表结束-------------------------------------"
        );
    }

    #[test]
    fn entry_names() {
        let date = "2019-09-16".parse().unwrap();
        assert_eq!(
            TableKind::Summary.entry_name("20880211096256330156", date),
            "20880211096256330156_20190916_业务明细(汇总).csv"
        );
        assert_eq!(
            TableKind::from_entry_name("x_业务明细(汇总).csv"),
            Some(TableKind::Summary)
        );
        assert_eq!(
            TableKind::from_entry_name("x_业务明细.csv"),
            Some(TableKind::Detail)
        );
        assert_eq!(
            TableKind::from_entry_name("x_账务明细.csv"),
            Some(TableKind::Account)
        );
        assert_eq!(TableKind::from_entry_name("readme.txt"), None);
    }

    #[test]
    fn layout_maps_by_name_and_keeps_extras() {
        let mut names: Vec<String> = TableKind::Account
            .columns()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        names.swap(0, 11);
        names.insert(3, "新列".to_owned());
        let layout = Layout::new(TableKind::Account, names).unwrap();
        assert_eq!(layout.map[0], Some(12));
        assert_eq!(layout.map[11], Some(0));
        assert_eq!(layout.extras, [3]);

        // A newer detail header: `退款批次号` and extra columns at the end.
        let mut names: Vec<String> = TableKind::Detail
            .columns()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        names[21] = "退款批次号".to_owned();
        names.extend(
            [
                "实收净额（元）",
                "商户识别号",
                "交易方式",
                "花呗分期手续费",
                "花呗分期数",
            ]
            .map(String::from),
        );
        let layout = Layout::new(TableKind::Detail, names).unwrap();
        assert_eq!(layout.map[21], Some(21));
        assert_eq!(layout.extras, [25, 26, 27, 28, 29]);

        let err = Layout::new(
            TableKind::Detail,
            vec!["支付宝交易号".into(), "业务类型".into()],
        )
        .unwrap_err();
        assert!(err.is_format());
        assert!(err.to_string().contains("商家实收（元）"), "{err}");
    }
}
