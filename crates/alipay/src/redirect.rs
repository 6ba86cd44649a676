//! Redirect APIs (PROTOCOL §6): the signed parameters of page/wap/app payments, handed to the
//! buyer's browser (an auto-submitting form, or a URL) or to the mobile SDK (an order string).
//! No HTTP call is made.

use std::borrow::Cow;

use alipay_model::RedirectRequest;
use serde_json::Value;

use crate::client::{Client, RequestOptions};
use crate::encode::{form_encode, html_escape};
use crate::error::Error;
use crate::v2::{SignedV2, V2Payload};

/// How the buyer's browser reaches the cashier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PageMethod {
    /// An HTML form that submits itself with `POST` (protocol parameters and `sign` in the
    /// action URL, `biz_content` as a hidden input).
    #[default]
    Post,
    /// A URL with every parameter in the query (sorted, `sign` last).
    Get,
}

impl Client {
    fn sign_redirect(
        &self,
        method: &str,
        biz_content: String,
        options: &RequestOptions,
    ) -> Result<SignedV2, Error> {
        let encrypt = options.encrypt == Some(true);
        let payload = V2Payload {
            method,
            biz_content: Some(Cow::Owned(biz_content)),
            text_params: Vec::new(),
            encrypt,
        };
        self.sign_v2(&payload, options)
    }

    /// Signs any redirect method with a JSON `biz_content` and renders it as a self-submitting
    /// form (`PageMethod::Post`) or a URL (`PageMethod::Get`).
    pub fn page_execute(
        &self,
        method: &str,
        biz: &Value,
        options: &RequestOptions,
        page_method: PageMethod,
    ) -> Result<String, Error> {
        let signed = self.sign_redirect(method, biz_json(method, biz)?, options)?;
        Ok(match page_method {
            PageMethod::Post => self.render_form(&signed),
            PageMethod::Get => self.render_url(&signed),
        })
    }

    /// `alipay.trade.page.pay` (or any [`RedirectRequest`]) as an auto-submitting POST form.
    /// Every attribute value is HTML-escaped (`&`, `<`, `>`, `"`, `'`).
    ///
    /// ```
    /// # let app_key = include_bytes!("../tests/data/app_private_pkcs1.pem");
    /// # let alipay_key = include_bytes!("../tests/data/alipay_public.pem");
    /// use alipay::{Client, RequestOptions};
    /// use alipay::model::{Amount, trade::PagePayRequest};
    /// let client = Client::builder().app_id("2021000000000001")
    ///     .app_private_key(app_key).alipay_public_key(alipay_key).build()?;
    /// let order = PagePayRequest::new("T1", Amount::from_fen(100), "Book");
    /// let html = client.page_pay(&order, &RequestOptions::new().return_url("https://shop.example/done"))?;
    /// assert!(html.starts_with("<form name=\"punchout_form\" method=\"post\" action=\"https://openapi.alipay.com/gateway.do?app_id=2021000000000001&amp;method=alipay.trade.page.pay&amp;"));
    /// assert!(html.contains("<input type=\"hidden\" name=\"biz_content\" value=\"{&quot;out_trade_no&quot;:&quot;T1&quot;,"));
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn page_pay<R: RedirectRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<String, Error> {
        let signed = self.sign_redirect(R::METHOD, redirect_biz(request)?, options)?;
        Ok(self.render_form(&signed))
    }

    /// `alipay.trade.page.pay` (or any [`RedirectRequest`]) as a GET URL.
    pub fn page_pay_url<R: RedirectRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<String, Error> {
        let signed = self.sign_redirect(R::METHOD, redirect_biz(request)?, options)?;
        Ok(self.render_url(&signed))
    }

    /// `alipay.trade.wap.pay` as an auto-submitting POST form (the same rendering as
    /// [`page_pay`](Self::page_pay)).
    pub fn wap_pay<R: RedirectRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<String, Error> {
        self.page_pay(request, options)
    }

    /// `alipay.trade.wap.pay` as a GET URL.
    pub fn wap_pay_url<R: RedirectRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<String, Error> {
        self.page_pay_url(request, options)
    }

    /// `alipay.trade.app.pay` (or any [`RedirectRequest`]): the order string for the mobile SDK —
    /// every parameter sorted by name, `sign` last, form-encoded.
    pub fn app_pay<R: RedirectRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<String, Error> {
        let signed = self.sign_redirect(R::METHOD, redirect_biz(request)?, options)?;
        Ok(self.order_string(&signed))
    }

    /// The order string of any method with a JSON `biz_content` (the SDKs' `sdkExecute`).
    pub fn sdk_execute(
        &self,
        method: &str,
        biz: &Value,
        options: &RequestOptions,
    ) -> Result<String, Error> {
        let signed = self.sign_redirect(method, biz_json(method, biz)?, options)?;
        Ok(self.order_string(&signed))
    }

    /// Sorted parameters with `sign` last.
    fn sorted_with_sign_last(signed: &SignedV2) -> Vec<(&str, &str)> {
        let mut all: Vec<(&str, &str)> = signed.all().filter(|(k, _)| *k != "sign").collect();
        all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if let Some(sign) = signed.query.iter().find(|(k, _)| k == "sign") {
            all.push(("sign", sign.1.as_str()));
        }
        all
    }

    fn order_string(&self, signed: &SignedV2) -> String {
        form_encode(Self::sorted_with_sign_last(signed), self.inner.charset)
    }

    fn render_url(&self, signed: &SignedV2) -> String {
        format!(
            "{}?{}",
            self.inner.environment.gateway(),
            self.order_string(signed)
        )
    }

    fn render_form(&self, signed: &SignedV2) -> String {
        let action = self.v2_url(&signed.query);
        let mut html = String::with_capacity(action.len() + 512);
        html.push_str("<form name=\"punchout_form\" method=\"post\" action=\"");
        html.push_str(&html_escape(&action));
        html.push_str("\">\n");
        for (k, v) in &signed.body {
            html.push_str("<input type=\"hidden\" name=\"");
            html.push_str(&html_escape(k));
            html.push_str("\" value=\"");
            html.push_str(&html_escape(v));
            html.push_str("\">\n");
        }
        html.push_str("<input type=\"submit\" value=\"立即支付\" style=\"display:none\" >\n</form>\n<script>document.forms[0].submit();</script>");
        html
    }
}

fn redirect_biz<R: RedirectRequest>(request: &R) -> Result<String, Error> {
    request.biz_content().map_err(|e| {
        Error::request(format!("cannot serialise the {} request", R::METHOD)).with_source(e)
    })
}

fn biz_json(method: &str, biz: &Value) -> Result<String, Error> {
    match biz {
        Value::Object(_) => Ok(biz.to_string()),
        _ => Err(Error::request(format!(
            "the biz_content of {method} must be a JSON object"
        ))),
    }
}
