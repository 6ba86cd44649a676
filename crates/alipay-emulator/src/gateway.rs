//! The v2 gateway, `GET/POST /gateway.do` (PROTOCOL §1, §2, §5).

use std::sync::Arc;
use std::time::Duration;

use alipay_sign::{Charset, Rule, SignType, Verifier as _, canonical_string};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::HeaderValue;
use http::request::Parts;
use http::{Response, StatusCode};
use serde_json::Value;

use crate::app::{App, KeyMode};
use crate::http::{
    Body, charset_field, content_type_charset, decode_pairs, form_pairs, media_type, response,
};
use crate::model::{Biz, Fail, Fields};
use crate::notify::flush_outbox;
use crate::ops::{Ctx, Op, Outcome, execute};
use crate::state::{Fault, FaultKind, Shared};

/// The connection is to be closed without an answer (an injected `drop` fault).
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// What running an operation gave.
#[derive(Debug)]
pub(crate) enum Ran {
    Outcome(Outcome),
    Fail(Fail),
    Drop,
}

fn fault_fail(f: &Fault, op: Op) -> Fail {
    let fail = match f.kind {
        FaultKind::SystemError => Fail::system_error(),
        FaultKind::BusinessError => Fail::business(
            f.sub_code.as_deref().unwrap_or("ACQ.SYSTEM_ERROR"),
            f.sub_msg.as_deref().unwrap_or("系统错误"),
        ),
        _ => Fail::unavailable(),
    };
    if op == Op::Cancel && f.kind != FaultKind::BusinessError {
        fail.with("retry_flag", "Y")
    } else {
        fail
    }
}

/// Runs `op` with the faults set for it, queues its notifications and saves the state.
pub(crate) async fn run_op(shared: &Arc<Shared>, ctx: &Ctx<'_>, op: Op, biz: &Biz) -> Ran {
    let fault = shared.lock().take_fault(op.method());
    if let Some(f) = &fault {
        if f.kind == FaultKind::Delay {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        } else if !f.after {
            if f.kind == FaultKind::Drop {
                return Ran::Drop;
            }
            return Ran::Fail(fault_fail(f, op));
        }
    }
    let result = if op == Op::CertDownload {
        cert_download(shared, biz)
    } else {
        let mut inner = shared.lock();
        execute(&mut inner, ctx, op, biz)
    };
    flush_outbox(shared);
    if let Err(e) = shared.persist_if_dirty() {
        shared.note_error(&e);
    }
    if let Some(f) = &fault
        && f.after
        && f.kind != FaultKind::Delay
    {
        if f.kind == FaultKind::Drop {
            return Ran::Drop;
        }
        return Ran::Fail(fault_fail(f, op));
    }
    match result {
        Ok(o) => Ran::Outcome(o),
        Err(f) => Ran::Fail(f),
    }
}

fn cert_download(shared: &Shared, biz: &Biz) -> Result<Outcome, Fail> {
    let sn = biz
        .text("alipay_cert_sn")?
        .ok_or_else(|| Fail::param("缺少必选参数 alipay_cert_sn"))?;
    let ca = shared
        .ca
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let authority = ca
        .as_ref()
        .ok_or_else(|| Fail::business("isv.alipay-cert-not-exist", "支付宝公钥证书不存在"))?;
    let cert = authority
        .find(&sn)
        .ok_or_else(|| Fail::business("isv.alipay-cert-not-exist", "支付宝公钥证书不存在"))?;
    let mut m = Fields::new();
    m.insert(
        "alipay_cert_content".into(),
        STANDARD.encode(authority.alipay_chain_pem(cert)).into(),
    );
    Ok(Outcome::Done(m))
}

/// The node name of a method: `alipay.trade.query` → `alipay_trade_query_response`.
pub(crate) fn node_name(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// A v2 answer before rendering.
struct Reply {
    node: String,
    /// The node's exact text: an object, or a quoted ciphertext.
    text: String,
    /// Signed with this mode and type; `None` for an unsigned `error_response`.
    signed: Option<(KeyMode, SignType)>,
    charset: Charset,
}

fn fail_reply(
    node: String,
    fail: &Fail,
    signed: Option<(KeyMode, SignType)>,
    charset: Charset,
) -> Reply {
    Reply {
        node,
        text: serde_json::to_string(&fail.node()).unwrap_or_default(),
        signed,
        charset,
    }
}

fn render(shared: &Shared, reply: &Reply) -> Response<Body> {
    // Bytes in the request charset; text the charset cannot hold falls back to UTF-8.
    let charset = if reply.charset.encode(&reply.text).is_ok() {
        reply.charset
    } else {
        Charset::Utf8
    };
    let out = body_text(shared, &reply.node, &reply.text, reply.signed, charset);
    let body = charset
        .encode(&out)
        .map_or_else(|_| out.clone().into_bytes(), |b| b.into_owned());
    response(
        StatusCode::OK,
        &format!("application/json;charset={}", charset.as_str()),
        Bytes::from(body),
    )
}

fn raw_ascii(pairs: &[(Vec<u8>, Vec<u8>)], key: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == key.as_bytes())
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The sub_msg Alipay writes for a bad signature: the string it verified, `&` written `&amp;`.
pub(crate) fn invalid_signature_msg(content: &str) -> String {
    format!(
        "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{}",
        content.replace('&', "&amp;")
    )
}

/// A request that passed the gateway's checks.
pub(crate) struct Verified {
    pub(crate) app: Arc<App>,
    pub(crate) op: Op,
    pub(crate) node: String,
    pub(crate) charset: Charset,
    pub(crate) sign_type: SignType,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) biz: Biz,
    pub(crate) encrypted: bool,
    pub(crate) seller_id: String,
    pub(crate) auth_app_id: String,
}

impl Verified {
    fn get(&self, key: &str) -> Option<String> {
        param(&self.params, key)
    }

    /// How answers to this request are signed.
    pub(crate) fn signed(&self) -> Option<(KeyMode, SignType)> {
        Some((self.app.mode, self.sign_type))
    }

    /// The operation context.
    pub(crate) fn ctx<'a>(&'a self, shared: &'a Shared) -> Ctx<'a> {
        Ctx {
            app: &self.app,
            seller_id: self.seller_id.clone(),
            auth_app_id: self.auth_app_id.clone(),
            charset: self.charset,
            sign_type: self.sign_type,
            notify_url: self.get("notify_url"),
            return_url: self.get("return_url"),
            now: shared.clock.now_ms(),
            base_url: &shared.base_url,
            config: &shared.config,
        }
    }
}

/// A request the gateway refused, with how to answer it.
pub(crate) struct Rejection {
    pub(crate) node: String,
    pub(crate) fail: Fail,
    pub(crate) signed: Option<(KeyMode, SignType)>,
    pub(crate) charset: Charset,
    /// A page/wap payment: answer with an HTML error page.
    pub(crate) page: bool,
}

fn param(params: &[(String, String)], key: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// The gateway's checks, in its order: method, app, charset, sign type, common parameters,
/// certificate SNs, signature, `app_auth_token`, decryption, business parameters.
/// `from_phone` admits `alipay.trade.app.pay` (an order string submitted by the control API).
pub(crate) fn verify(
    shared: &Shared,
    raw: &[(Vec<u8>, Vec<u8>)],
    header_charset: Option<String>,
    from_phone: bool,
) -> Result<Verified, Box<Rejection>> {
    let method = raw_ascii(raw, "method");
    let app_id = raw_ascii(raw, "app_id");
    let app = app_id.as_deref().and_then(|id| shared.app(id));
    let label = charset_field(raw)
        .or(header_charset)
        .unwrap_or_else(|| "utf-8".to_owned());
    let sign_type =
        raw_ascii(raw, "sign_type").map_or(Ok(SignType::Rsa), |t| t.parse::<SignType>());
    let answer_sign_type = *sign_type.as_ref().unwrap_or(&SignType::Rsa2);
    let charset_result = Charset::from_label(&label);
    let charset = *charset_result.as_ref().unwrap_or(&Charset::Utf8);
    let reject = |node: &str, fail: Fail, signed: Option<(KeyMode, SignType)>, page: bool| {
        Box::new(Rejection {
            node: node.to_owned(),
            fail,
            signed,
            charset,
            page,
        })
    };

    let Some(method) = method else {
        let signed = app.as_ref().map(|a| (a.mode, answer_sign_type));
        let f = Fail::missing("isv.missing-method", "缺少方法名参数");
        return Err(reject("error_response", f, signed, false));
    };
    let Some(app_id) = app_id else {
        let f = Fail::missing("isv.missing-app-id", "缺少appId参数");
        return Err(reject("error_response", f, None, false));
    };
    let Some(app) = app else {
        let f = Fail::invalid("isv.invalid-app-id", &format!("无效的AppID参数 {app_id}"));
        return Err(reject("error_response", f, None, false));
    };
    let node = node_name(&method);
    let signed = Some((app.mode, answer_sign_type));
    let op = Op::from_method(&method);
    let page = op.is_some_and(|o| matches!(o, Op::PagePay | Op::WapPay));
    let fail = |f: Fail| reject(&node, f, signed, page);

    if charset_result.is_err() {
        return Err(fail(Fail::invalid(
            "isv.invalid-charset",
            &format!("字符集错误 {label}"),
        )));
    }
    let params = match decode_pairs(raw, charset) {
        Ok(p) => dedup(p),
        Err(e) => {
            return Err(fail(Fail::invalid(
                "isv.invalid-charset",
                &format!("字符集错误：{e}"),
            )));
        }
    };
    let get = |k: &str| param(&params, k);
    let Some(op) = op else {
        return Err(fail(Fail::invalid(
            "isv.invalid-method",
            &format!("不存在的方法名 {method}"),
        )));
    };
    if op == Op::AppPay && !from_phone {
        return Err(fail(Fail::invalid(
            "isv.invalid-method",
            "alipay.trade.app.pay 的订单串由支付宝客户端提交，不经过网关（模拟器：POST {control}/app-pay）",
        )));
    }
    let Ok(sign_type) = sign_type else {
        return Err(fail(Fail::invalid(
            "isv.invalid-signature-type",
            "无效的签名类型",
        )));
    };
    let Some(sign) = get("sign") else {
        return Err(fail(Fail::missing("isv.missing-signature", "缺少签名参数")));
    };
    let Some(timestamp) = get("timestamp") else {
        return Err(fail(Fail::missing(
            "isv.missing-timestamp",
            "缺少时间戳参数",
        )));
    };
    let now = shared.clock.now_ms();
    match crate::clock::parse_time(&timestamp) {
        None => {
            return Err(fail(Fail::invalid(
                "isv.invalid-timestamp",
                &format!("非法的时间戳参数 {timestamp}"),
            )));
        }
        Some(ts) => {
            if let Some(max) = shared.config.max_clock_skew_ms
                && (ts - now).abs() > max
            {
                return Err(fail(Fail::invalid(
                    "isv.invalid-timestamp",
                    &format!("时间戳 {timestamp} 与网关时间相差超过 {} 秒", max / 1000),
                )));
            }
        }
    }
    if get("version").is_none() {
        return Err(fail(Fail::missing("isv.missing-version", "缺少版本参数")));
    }
    if app.mode == KeyMode::Certificate {
        if get("app_cert_sn") != app.app_cert_sn {
            return Err(fail(Fail::invalid(
                "isv.app-cert-not-exist",
                "应用公钥证书不存在",
            )));
        }
        let root = {
            let ca = shared
                .ca
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            ca.as_ref().map(|a| a.root_sn().to_owned())
        };
        if get("alipay_root_cert_sn") != root {
            return Err(fail(Fail::invalid(
                "isv.invalid-alipay-root-cert-sn",
                "无效支付宝根证书序列号",
            )));
        }
    }
    let content = canonical_string(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Rule::Request,
    );
    let verified = charset.encode(&content).map_err(|_| ()).and_then(|bytes| {
        app.verifier
            .verify_base64(sign_type, &bytes, &sign)
            .map_err(|_| ())
    });
    if verified.is_err() {
        return Err(fail(Fail::invalid(
            "isv.invalid-signature",
            &invalid_signature_msg(&content),
        )));
    }

    // app_auth_token: an ISV acting for a merchant.
    let (seller_id, auth_app_id) = match get("app_auth_token") {
        None => (app.seller_id.clone(), app.app_id.clone()),
        Some(token) => {
            let grant = shared.lock().grants.get(&token).cloned();
            match grant {
                Some(g) if g.app_id == app.app_id => (g.seller_id, g.auth_app_id),
                _ => {
                    return Err(fail(Fail::token(
                        "aop.invalid-app-auth-token",
                        "无效的应用授权令牌",
                    )));
                }
            }
        }
    };

    // The business parameters, decrypted first when encrypted.
    let mut encrypted = false;
    let biz_text = match get("encrypt_type") {
        None => get("biz_content").unwrap_or_default(),
        Some(t) if t != "AES" => {
            return Err(fail(Fail::invalid(
                "isv.invalid-encrypt-type",
                &format!("解密出错, 不支持的加密算法 {t}"),
            )));
        }
        Some(_) => {
            let Some(key) = &app.aes else {
                return Err(fail(Fail::invalid(
                    "isv.decryption-error-not-valid-encrypt-key",
                    "解密出错, 未配置加密密钥或加密密钥格式错误",
                )));
            };
            let Some(cipher) = get("biz_content") else {
                return Err(fail(Fail::invalid(
                    "isv.invalid-encrypt",
                    "当前API不支持加密请求",
                )));
            };
            let plain = key.decrypt(&cipher).ok().and_then(|bytes| {
                charset
                    .decode(&bytes)
                    .ok()
                    .map(std::borrow::Cow::into_owned)
            });
            match plain {
                Some(p) => {
                    encrypted = true;
                    p
                }
                None => {
                    return Err(fail(Fail::conditions(
                        "isv.decryption-error-unknown",
                        "解密出错, 未知错误",
                    )));
                }
            }
        }
    };
    let biz = if op == Op::OauthToken {
        Biz::from_pairs(
            params
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "grant_type" | "code" | "refresh_token"))
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
    } else {
        Biz::from_json(&biz_text).map_err(fail)?
    };
    Ok(Verified {
        app,
        op,
        node,
        charset,
        sign_type,
        params,
        biz,
        encrypted,
        seller_id,
        auth_app_id,
    })
}

/// The v2 node text of a success: `code`, `msg`, then the fields; encrypted (a quoted
/// ciphertext) when the request was.
pub(crate) fn success_text(v: &Verified, code: &str, msg: &str, fields: Fields) -> String {
    let mut node_fields = Fields::new();
    node_fields.insert("code".into(), code.into());
    node_fields.insert("msg".into(), msg.into());
    for (k, val) in fields {
        node_fields.insert(k, val);
    }
    let text = serde_json::to_string(&Value::Object(node_fields)).unwrap_or_default();
    match (v.encrypted, &v.app.aes) {
        (true, Some(key)) => {
            let bytes = v
                .charset
                .encode(&text)
                .map_or_else(|_| text.clone().into_bytes(), |b| b.into_owned());
            format!("\"{}\"", key.encrypt(&bytes))
        }
        _ => text,
    }
}

/// The complete v2 body `{"<node>":<text>[,"alipay_cert_sn":…],"sign":…}` as text.
pub(crate) fn body_text(
    shared: &Shared,
    node: &str,
    text: &str,
    signed: Option<(KeyMode, SignType)>,
    charset: Charset,
) -> String {
    let text_bytes = charset
        .encode(text)
        .map_or_else(|_| text.as_bytes().to_vec(), |b| b.into_owned());
    let mut out = String::with_capacity(text.len() + 420);
    out.push_str("{\"");
    out.push_str(node);
    out.push_str("\":");
    out.push_str(text);
    if let Some((mode, sign_type)) = signed {
        match shared.sign_answer(mode, sign_type, &text_bytes) {
            Ok(sig) => {
                if let Some(sn) = sig.cert_sn {
                    out.push_str(",\"alipay_cert_sn\":\"");
                    out.push_str(&sn);
                    out.push('"');
                }
                out.push_str(",\"sign\":\"");
                out.push_str(&sig.sign);
                out.push('"');
            }
            Err(e) => shared.note_error(&e),
        }
    }
    out.push('}');
    out
}

/// The answer to a refused request.
pub(crate) fn rejection_response(shared: &Shared, r: &Rejection) -> Response<Body> {
    if r.page {
        return crate::cashier::error_page(&r.fail);
    }
    render(
        shared,
        &fail_reply(r.node.clone(), &r.fail, r.signed, r.charset),
    )
}

/// Handles one `/gateway.do` request.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    parts: &Parts,
    body: &Bytes,
) -> Result<Response<Body>, DropConnection> {
    let mut raw = form_pairs(parts.uri.query().unwrap_or("").as_bytes());
    let media = media_type(&parts.headers);
    if !body.is_empty() && (media.is_empty() || media == "application/x-www-form-urlencoded") {
        raw.extend(form_pairs(body));
    }
    let v = match verify(shared, &raw, content_type_charset(&parts.headers), false) {
        Ok(v) => v,
        Err(r) => return Ok(rejection_response(shared, &r)),
    };
    let ctx = v.ctx(shared);
    let page = matches!(v.op, Op::PagePay | Op::WapPay);
    let ran = run_op(shared, &ctx, v.op, &v.biz).await;
    let outcome = match ran {
        Ran::Drop => return Err(DropConnection),
        Ran::Fail(f) if page => return Ok(crate::cashier::error_page(&f)),
        Ran::Fail(f) => {
            // alipay.system.oauth.token answers its errors in `error_response` (PROTOCOL §2.1).
            let node = if v.op == Op::OauthToken {
                "error_response".to_owned()
            } else {
                v.node.clone()
            };
            return Ok(render(shared, &fail_reply(node, &f, v.signed(), v.charset)));
        }
        Ran::Outcome(o) => o,
    };
    let (code, msg, fields) = match outcome {
        Outcome::Cashier(trade_no) => {
            let mut r = crate::http::redirect(&format!("/cashier/{trade_no}"));
            if let Ok(value) = HeaderValue::from_str(&trade_no) {
                r.headers_mut().insert("alipay-emulator-trade-no", value);
            }
            return Ok(r);
        }
        Outcome::Done(f) => ("10000", "Success", f),
        Outcome::InProcess(f) => ("10003", "order success pay inprocess", f),
    };
    let text = success_text(&v, code, msg, fields);
    Ok(render(
        shared,
        &Reply {
            node: v.node.clone(),
            text,
            signed: v.signed(),
            charset: v.charset,
        },
    ))
}

/// Keeps the first value of each name (query before body).
fn dedup(params: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    params
        .into_iter()
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages() {
        assert_eq!(
            node_name("alipay.trade.query"),
            "alipay_trade_query_response"
        );
        assert_eq!(
            invalid_signature_msg("app_id=1&charset=utf-8"),
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：app_id=1&amp;charset=utf-8"
        );
        assert_eq!(
            dedup(vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("a".into(), "3".into())
            ]),
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2".to_owned())
            ]
        );
    }
}
