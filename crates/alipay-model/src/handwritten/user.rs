//! Hand-written additions to the `user` module: the v2-only agreement signing page
//! (`alipay.user.agreement.page.sign`).

use serde::{Deserialize, Serialize};

use crate::RedirectRequest;
use crate::common::PeriodRuleParams;

/// `alipay.user.agreement.page.sign`: the page where a user signs a payment agreement (支付宝个人协议
/// 页面签约), e.g. for periodic deductions (`product_code` `CYCLE_PAY_AUTH`,
/// `personal_product_code` `CYCLE_PAY_AUTH_P`). Opened in the user's browser or the Alipay app.
///
/// ```
/// use alipay_model::RedirectRequest;
/// use alipay_model::user::{AgreementAccessParams, AgreementPageSignRequest};
///
/// let sign = AgreementPageSignRequest::new("CYCLE_PAY_AUTH", "CYCLE_PAY_AUTH_P", AgreementAccessParams::new("ALIPAYAPP"))
///     .external_agreement_no("A1");
/// assert_eq!(
///     sign.biz_content().unwrap(),
///     r#"{"product_code":"CYCLE_PAY_AUTH","personal_product_code":"CYCLE_PAY_AUTH_P","access_params":{"channel":"ALIPAYAPP"},"external_agreement_no":"A1"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgreementPageSignRequest {
    /// The merchant's signed sales product: `CYCLE_PAY_AUTH`, `GENERAL_WITHHOLDING`, ...
    pub product_code: String,
    /// The personal product: `CYCLE_PAY_AUTH_P`, `GENERAL_WITHHOLDING_P`, ...
    pub personal_product_code: String,
    /// Where the user signs.
    pub access_params: AgreementAccessParams,
    /// The signing scene, as agreed with Alipay (`INDUSTRY|...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_scene: Option<String>,
    /// The merchant's agreement number, unique per merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_agreement_no: Option<String>,
    /// The user's login name at the merchant, shown on the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_logon_id: Option<String>,
    /// Validity of the agreement: `2m`, `1y`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_validity_period: Option<String>,
    /// `PARTNER` (default) or `TINYAPP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_type: Option<String>,
    /// The deduction schedule of a periodic agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_rule_params: Option<PeriodRuleParams>,
    /// Fields not listed here, sent as given.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AgreementPageSignRequest {
    /// A signing request with the required fields.
    #[must_use]
    pub fn new(
        product_code: impl Into<String>,
        personal_product_code: impl Into<String>,
        access_params: AgreementAccessParams,
    ) -> Self {
        Self {
            product_code: product_code.into(),
            personal_product_code: personal_product_code.into(),
            access_params,
            sign_scene: None,
            external_agreement_no: None,
            external_logon_id: None,
            sign_validity_period: None,
            third_party_type: None,
            period_rule_params: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sets [`Self::sign_scene`].
    #[must_use]
    pub fn sign_scene(mut self, value: impl Into<String>) -> Self {
        self.sign_scene = Some(value.into());
        self
    }

    /// Sets [`Self::external_agreement_no`].
    #[must_use]
    pub fn external_agreement_no(mut self, value: impl Into<String>) -> Self {
        self.external_agreement_no = Some(value.into());
        self
    }

    /// Sets [`Self::external_logon_id`].
    #[must_use]
    pub fn external_logon_id(mut self, value: impl Into<String>) -> Self {
        self.external_logon_id = Some(value.into());
        self
    }

    /// Sets [`Self::sign_validity_period`].
    #[must_use]
    pub fn sign_validity_period(mut self, value: impl Into<String>) -> Self {
        self.sign_validity_period = Some(value.into());
        self
    }

    /// Sets [`Self::third_party_type`].
    #[must_use]
    pub fn third_party_type(mut self, value: impl Into<String>) -> Self {
        self.third_party_type = Some(value.into());
        self
    }

    /// Sets [`Self::period_rule_params`].
    #[must_use]
    pub fn period_rule_params(mut self, value: PeriodRuleParams) -> Self {
        self.period_rule_params = Some(value);
        self
    }
}

impl RedirectRequest for AgreementPageSignRequest {
    const METHOD: &'static str = "alipay.user.agreement.page.sign";
}

/// Where the user signs an agreement (`access_params`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgreementAccessParams {
    /// `ALIPAYAPP` (in the Alipay app), `QRCODE` (scan on a PC page) or `QRCODEORSMS`.
    pub channel: String,
    /// Fields not listed here, sent as given.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AgreementAccessParams {
    /// The signing channel.
    #[must_use]
    pub fn new(channel: impl Into<String>) -> Self {
        Self {
            channel: channel.into(),
            extra: serde_json::Map::new(),
        }
    }
}
