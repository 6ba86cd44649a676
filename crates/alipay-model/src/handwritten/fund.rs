//! Hand-written additions to the `fund` module: the transfer constructor.

use crate::Amount;
use crate::generated::fund::{Participant, TransUniTransferRequest};

impl TransUniTransferRequest {
    /// A single transfer to an Alipay account (`product_code` `TRANS_ACCOUNT_NO_PWD`, `biz_scene`
    /// `DIRECT_TRANSFER`). `out_biz_no` is the idempotency key: reuse it when retrying.
    #[must_use]
    pub fn new(
        out_biz_no: impl Into<String>,
        trans_amount: Amount,
        order_title: impl Into<String>,
        payee: Participant,
    ) -> Self {
        Self::default()
            .out_biz_no(out_biz_no)
            .trans_amount(trans_amount)
            .order_title(order_title)
            .payee_info(payee)
            .product_code("TRANS_ACCOUNT_NO_PWD")
            .biz_scene("DIRECT_TRANSFER")
    }
}

impl Participant {
    /// A payee by Alipay user id (`identity_type` `ALIPAY_USER_ID`).
    #[must_use]
    pub fn alipay_user_id(user_id: impl Into<String>) -> Self {
        Self::default()
            .identity(user_id)
            .identity_type("ALIPAY_USER_ID")
    }

    /// A payee by login name (`ALIPAY_LOGON_ID`, a phone number or e-mail); Alipay checks `name`.
    #[must_use]
    pub fn alipay_logon_id(logon_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self::default()
            .identity(logon_id)
            .identity_type("ALIPAY_LOGON_ID")
            .name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlipayRequest;

    #[test]
    fn transfer_has_the_required_fields() {
        let t = TransUniTransferRequest::new(
            "B1",
            Amount::from_fen(123),
            "prize",
            Participant::alipay_logon_id("a@b.c", "张三"),
        );
        assert_eq!(
            t.biz_content().unwrap(),
            concat!(
                r#"{"biz_scene":"DIRECT_TRANSFER","order_title":"prize","out_biz_no":"B1","#,
                r#""payee_info":{"identity":"a@b.c","identity_type":"ALIPAY_LOGON_ID","name":"张三"},"#,
                r#""product_code":"TRANS_ACCOUNT_NO_PWD","trans_amount":"1.23"}"#
            )
        );
    }
}
