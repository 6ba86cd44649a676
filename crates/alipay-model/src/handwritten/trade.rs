//! Hand-written additions to the `trade` module: the v2-only payment pages (`alipay.trade.page.pay`,
//! `alipay.trade.wap.pay`, `alipay.trade.app.pay`) and constructors that take the required fields of
//! the core trade operations.

use serde::{Deserialize, Serialize};

use crate::generated::trade::{
    CancelRequest, CloseRequest, CreateRequest, ExtUserInfo, ExtendParams,
    FastpayRefundQueryRequest, GoodsDetail, PayRequest, PrecreateRequest, QueryRequest,
    RefundRequest, SubMerchant,
};
use crate::{Amount, ProductCode, RedirectRequest, TradeRef};

/// Defines a redirect model: a struct with the required fields first, optional fields after, an
/// `extra` map, chained setters for the optional fields, and `RedirectRequest`.
macro_rules! redirect_model {
    (
        $(#[$doc:meta])*
        $name:ident = $method:literal, $product:ident;
        $( $(#[$fdoc:meta])* $field:ident : $ty:ty, )*
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The merchant's order number, unique per merchant (≤ 64 characters of `[A-Za-z0-9_]`).
            pub out_trade_no: String,
            /// The amount, 0.01..=100000000.00 yuan.
            pub total_amount: Amount,
            /// The order title (no `/`, `=` or `&`).
            pub subject: String,
            /// The product code.
            pub product_code: ProductCode,
            $(
                $(#[$fdoc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Fields not listed here, sent as given.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// A request with the required fields and the product code of this payment method.
            #[must_use]
            pub fn new(out_trade_no: impl Into<String>, total_amount: Amount, subject: impl Into<String>) -> Self {
                Self {
                    out_trade_no: out_trade_no.into(),
                    total_amount,
                    subject: subject.into(),
                    product_code: ProductCode::$product,
                    $($field: None,)*
                    extra: serde_json::Map::new(),
                }
            }

            $(
                #[doc = concat!("Sets [`Self::", stringify!($field), "`].")]
                #[must_use]
                pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*
        }

        impl RedirectRequest for $name {
            const METHOD: &'static str = $method;
        }
    };
}

redirect_model! {
    /// `alipay.trade.page.pay`: computer website payment (电脑网站支付). The buyer's browser posts the
    /// signed form to the gateway's cashier page. Product code `FAST_INSTANT_TRADE_PAY`.
    PagePayRequest = "alipay.trade.page.pay", FastInstantTradePay;
    /// Order description.
    body: String,
    /// Goods in the order.
    goods_detail: Vec<GoodsDetail>,
    /// Absolute deadline, `yyyy-MM-dd HH:mm:ss`; wins over `timeout_express`.
    time_expire: String,
    /// Relative deadline: `1m`–`15d` or `1c`.
    timeout_express: String,
    /// QR code mode of the cashier page: `0`–`4`.
    qr_pay_mode: String,
    /// QR code width in pixels, with `qr_pay_mode` `4`.
    qrcode_width: u32,
    /// Business extension: `hb_fq_num`, `hb_fq_seller_percent`, `sys_service_provider_id`,
    /// `industry_reflux_info`, `specified_seller_name`, `royalty_freeze`, `card_type`.
    extend_params: ExtendParams,
    /// Business parameters, a JSON string.
    business_params: String,
    /// Promotion parameters, a JSON string.
    promo_params: String,
    /// Integration type: `ALIAPP` or `PCWEB`.
    integration_type: String,
    /// The merchant page the buyer returns to from the cashier.
    request_from_url: String,
    /// The merchant's store number.
    store_id: String,
    /// The merchant's original order number.
    merchant_order_no: String,
    /// Restrictions on the buyer (real name, age, ...).
    ext_user_info: ExtUserInfo,
    /// Invoice information.
    invoice_info: InvoiceInfo,
    /// The secondary merchant.
    sub_merchant: SubMerchant,
    /// Passed back unchanged in the notification (URL-encoded).
    passback_params: String,
    /// Allowed payment channels, comma-separated.
    enable_pay_channels: String,
    /// Forbidden payment channels, comma-separated.
    disable_pay_channels: String,
}

redirect_model! {
    /// `alipay.trade.wap.pay`: mobile website payment (手机网站支付). Product code `QUICK_WAP_WAY`.
    WapPayRequest = "alipay.trade.wap.pay", QuickWapWay;
    /// Where the buyer goes on leaving the cashier without paying.
    quit_url: String,
    /// Order description.
    body: String,
    /// Goods in the order.
    goods_detail: Vec<GoodsDetail>,
    /// Absolute deadline, `yyyy-MM-dd HH:mm:ss`; wins over `timeout_express`.
    time_expire: String,
    /// Relative deadline: `1m`–`15d` or `1c`.
    timeout_express: String,
    /// Business extension.
    extend_params: ExtendParams,
    /// Business parameters, a JSON string.
    business_params: String,
    /// Promotion parameters, a JSON string.
    promo_params: String,
    /// The merchant's store number.
    store_id: String,
    /// The merchant's original order number.
    merchant_order_no: String,
    /// Restrictions on the buyer.
    ext_user_info: ExtUserInfo,
    /// The secondary merchant.
    sub_merchant: SubMerchant,
    /// Passed back unchanged in the notification (URL-encoded).
    passback_params: String,
    /// Allowed payment channels, comma-separated.
    enable_pay_channels: String,
    /// Forbidden payment channels, comma-separated.
    disable_pay_channels: String,
}

redirect_model! {
    /// `alipay.trade.app.pay`: app payment (APP支付); the signed order string goes to the mobile
    /// SDK. Product code `QUICK_MSECURITY_PAY`.
    AppPayRequest = "alipay.trade.app.pay", QuickMsecurityPay;
    /// Order description.
    body: String,
    /// Goods in the order.
    goods_detail: Vec<GoodsDetail>,
    /// Absolute deadline, `yyyy-MM-dd HH:mm:ss`; wins over `timeout_express`.
    time_expire: String,
    /// Relative deadline: `1m`–`15d` or `1c`.
    timeout_express: String,
    /// Business extension.
    extend_params: ExtendParams,
    /// Business parameters, a JSON string.
    business_params: String,
    /// Promotion parameters, a JSON string.
    promo_params: String,
    /// The merchant's store number.
    store_id: String,
    /// The merchant's original order number.
    merchant_order_no: String,
    /// Restrictions on the buyer.
    ext_user_info: ExtUserInfo,
    /// The secondary merchant.
    sub_merchant: SubMerchant,
    /// Passed back unchanged in the notification (URL-encoded).
    passback_params: String,
    /// Allowed payment channels, comma-separated.
    enable_pay_channels: String,
    /// Forbidden payment channels, comma-separated.
    disable_pay_channels: String,
}

/// Invoice information of a page payment (`invoice_info`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvoiceInfo {
    /// Key invoice information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_info: Option<InvoiceKeyInfo>,
    /// Invoice details, a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Fields not listed here, kept and sent as given.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Key invoice information (`invoice_info.key_info`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvoiceKeyInfo {
    /// Whether the merchant supports electronic invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_support_invoice: Option<bool>,
    /// The merchant name on the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_merchant_name: Option<String>,
    /// The taxpayer identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_num: Option<String>,
    /// Fields not listed here, kept and sent as given.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Who the buyer of an `alipay.trade.create` (JSAPI) trade is: one of the three ids is required.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TradeBuyer {
    /// `buyer_id`: the buyer's Alipay user id (`2088...`).
    UserId(String),
    /// `buyer_open_id`: the buyer's open id under this app.
    OpenId(String),
    /// `op_buyer_open_id`: the buyer's open id under the app named by `op_app_id`.
    OpBuyerOpenId(String),
}

impl PrecreateRequest {
    /// A face-to-face QR-code order (`FACE_TO_FACE_PAYMENT`): the merchant's order number, the
    /// amount and the title are required.
    #[must_use]
    pub fn new(
        out_trade_no: impl Into<String>,
        total_amount: Amount,
        subject: impl Into<String>,
    ) -> Self {
        Self::default()
            .out_trade_no(out_trade_no)
            .total_amount(total_amount)
            .subject(subject)
    }
}

impl PayRequest {
    /// A barcode payment (`scene` = `bar_code`, `FACE_TO_FACE_PAYMENT`) with the code the buyer
    /// shows (`auth_code`). Use [`Self::scene`] for `security_code` (face).
    #[must_use]
    pub fn new(
        out_trade_no: impl Into<String>,
        total_amount: Amount,
        subject: impl Into<String>,
        auth_code: impl Into<String>,
    ) -> Self {
        Self::default()
            .out_trade_no(out_trade_no)
            .total_amount(total_amount)
            .subject(subject)
            .auth_code(auth_code)
            .scene("bar_code")
    }
}

impl CreateRequest {
    /// A JSAPI / mini-program trade for a known buyer.
    #[must_use]
    pub fn new(
        out_trade_no: impl Into<String>,
        total_amount: Amount,
        subject: impl Into<String>,
        buyer: TradeBuyer,
    ) -> Self {
        let request = Self::default()
            .out_trade_no(out_trade_no)
            .total_amount(total_amount)
            .subject(subject);
        match buyer {
            TradeBuyer::UserId(id) => request.buyer_id(id),
            TradeBuyer::OpenId(id) => request.buyer_open_id(id),
            TradeBuyer::OpBuyerOpenId(id) => request.op_buyer_open_id(id),
        }
    }
}

impl QueryRequest {
    /// Queries one trade.
    #[must_use]
    pub fn new(trade: TradeRef) -> Self {
        let (trade_no, out_trade_no) = trade.into_fields();
        Self {
            trade_no,
            out_trade_no,
            ..Self::default()
        }
    }
}

impl CloseRequest {
    /// Closes an unpaid trade.
    #[must_use]
    pub fn new(trade: TradeRef) -> Self {
        let (trade_no, out_trade_no) = trade.into_fields();
        Self {
            trade_no,
            out_trade_no,
            ..Self::default()
        }
    }
}

impl CancelRequest {
    /// Cancels a face-to-face trade whose outcome is unknown (closes it, or refunds it if paid).
    #[must_use]
    pub fn new(trade: TradeRef) -> Self {
        let (trade_no, out_trade_no) = trade.into_fields();
        Self {
            trade_no,
            out_trade_no,
            ..Self::default()
        }
    }
}

impl RefundRequest {
    /// Refunds `refund_amount` of a trade. Set [`Self::out_request_no`] for a partial refund, and
    /// reuse it when retrying: Alipay refunds once per `out_request_no`.
    #[must_use]
    pub fn new(trade: TradeRef, refund_amount: Amount) -> Self {
        let (trade_no, out_trade_no) = trade.into_fields();
        Self {
            trade_no,
            out_trade_no,
            ..Self::default()
        }
        .refund_amount(refund_amount)
    }
}

impl FastpayRefundQueryRequest {
    /// Queries one refund of a trade by its `out_request_no` (the `out_trade_no` when the refund was
    /// made without one).
    #[must_use]
    pub fn new(trade: TradeRef, out_request_no: impl Into<String>) -> Self {
        let (trade_no, out_trade_no) = trade.into_fields();
        Self {
            trade_no,
            out_trade_no,
            ..Self::default()
        }
        .out_request_no(out_request_no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlipayRequest;

    #[test]
    fn page_pay_carries_every_listed_field() {
        let mut extend = ExtendParams::default()
            .hb_fq_num("3")
            .hb_fq_seller_percent("100");
        extend.sys_service_provider_id = Some("2088511833207846".into());
        let pay = PagePayRequest::new("T1", Amount::from_fen(8888), "Book")
            .timeout_express("90m")
            .qrcode_width(200u32)
            .extend_params(extend)
            .invoice_info(InvoiceInfo {
                details: Some("[]".into()),
                ..InvoiceInfo::default()
            })
            .disable_pay_channels("credit_group");
        assert_eq!(
            pay.biz_content().unwrap(),
            concat!(
                r#"{"out_trade_no":"T1","total_amount":"88.88","subject":"Book","#,
                r#""product_code":"FAST_INSTANT_TRADE_PAY","timeout_express":"90m","qrcode_width":200,"#,
                r#""extend_params":{"hb_fq_num":"3","hb_fq_seller_percent":"100","#,
                r#""sys_service_provider_id":"2088511833207846"},"invoice_info":{"details":"[]"},"#,
                r#""disable_pay_channels":"credit_group"}"#
            )
        );
        let back: PagePayRequest = serde_json::from_str(&pay.biz_content().unwrap()).unwrap();
        assert_eq!(back, pay);
    }

    #[test]
    fn wap_and_app_pay_product_codes() {
        let wap =
            WapPayRequest::new("T2", Amount::from_fen(1), "x").quit_url("https://m.example/quit");
        assert_eq!(wap.product_code, ProductCode::QuickWapWay);
        assert_eq!(WapPayRequest::METHOD, "alipay.trade.wap.pay");
        let app = AppPayRequest::new("T3", Amount::from_fen(1), "x");
        assert_eq!(
            app.biz_content().unwrap(),
            r#"{"out_trade_no":"T3","total_amount":"0.01","subject":"x","product_code":"QUICK_MSECURITY_PAY"}"#
        );
        assert_eq!(AppPayRequest::METHOD, "alipay.trade.app.pay");
    }

    #[test]
    fn core_constructors_set_exactly_the_required_fields() {
        let q = QueryRequest::new(TradeRef::trade_no("2024"));
        assert_eq!(q.biz_content().unwrap(), r#"{"trade_no":"2024"}"#);
        let c = CloseRequest::new(TradeRef::out_trade_no("T1"));
        assert_eq!(c.biz_content().unwrap(), r#"{"out_trade_no":"T1"}"#);
        let c = CancelRequest::new(TradeRef::out_trade_no("T1"));
        assert_eq!(c.biz_content().unwrap(), r#"{"out_trade_no":"T1"}"#);
        let r = RefundRequest::new(TradeRef::out_trade_no("T1"), Amount::from_fen(50))
            .out_request_no("R1");
        assert_eq!(
            r.biz_content().unwrap(),
            r#"{"out_request_no":"R1","out_trade_no":"T1","refund_amount":"0.50"}"#
        );
        let rq = FastpayRefundQueryRequest::new(TradeRef::trade_no("2024"), "R1");
        assert_eq!(
            rq.biz_content().unwrap(),
            r#"{"out_request_no":"R1","trade_no":"2024"}"#
        );
        let p = PayRequest::new("T1", Amount::from_fen(100), "s", "287951669891795468");
        assert_eq!(
            p.biz_content().unwrap(),
            r#"{"auth_code":"287951669891795468","out_trade_no":"T1","scene":"bar_code","subject":"s","total_amount":"1.00"}"#
        );
        let c = CreateRequest::new(
            "T1",
            Amount::from_fen(100),
            "s",
            TradeBuyer::OpenId("o1".into()),
        );
        assert_eq!(
            c.biz_content().unwrap(),
            r#"{"buyer_open_id":"o1","out_trade_no":"T1","subject":"s","total_amount":"1.00"}"#
        );
    }
}
