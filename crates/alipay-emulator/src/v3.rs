//! The v3 protocol (PROTOCOL §7): `Authorization` verified, answers signed in the `alipay-*`
//! headers, errors as `{code, message, links}` with a 4xx/5xx status.

use std::sync::Arc;

use alipay_sign::{
    Charset, SignType, Verifier as _, v3_parse_authorization, v3_response_content,
    v3_signing_content,
};
use bytes::Bytes;
use http::header::HeaderValue;
use http::request::Parts;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::app::{App, KeyMode};
use crate::crypto::random_hex;
use crate::gateway::{DropConnection, Ran, invalid_signature_msg, run_op};
use crate::http::{Body, decode_pairs, form_pairs, response};
use crate::model::{Biz, Fail};
use crate::ops::{Ctx, Op, Outcome};
use crate::state::Shared;

struct Answer<'a> {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    /// Signed for this app's mode; unsigned when the caller is unknown.
    app: Option<&'a App>,
}

fn render(shared: &Shared, a: &Answer<'_>) -> Response<Body> {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = response(status, a.content_type, Bytes::from(a.body.clone()));
    let trace = random_hex(32);
    let h = r.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("alipay-trace-id", &trace);
    if let Some(app) = a.app {
        let timestamp = shared.clock.now_ms().to_string();
        let nonce = random_hex(32);
        let content = v3_response_content(&timestamp, &nonce, &a.body);
        match shared.sign_answer(app.mode, SignType::Rsa2, &content) {
            Ok(sig) => {
                set("alipay-timestamp", &timestamp);
                set("alipay-nonce", &nonce);
                set("alipay-signature", &sig.sign);
                if let Some(sn) = sig.cert_sn {
                    set("alipay-sn", &sn);
                }
            }
            Err(e) => shared.note_error(&e),
        }
    }
    r
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    let trace = random_hex(32);
    serde_json::to_vec(&json!({
        "code": code,
        "message": message,
        "links": [{
            "link": format!("https://open.alipay.com/api/errCheck?traceId={trace}"),
            "desc": "解决方案",
        }],
    }))
    .unwrap_or_default()
}

fn fail_answer<'a>(fail: &Fail, app: Option<&'a App>) -> Answer<'a> {
    Answer {
        status: fail.status,
        body: error_body(&fail.v3_code(), &fail.sub_msg),
        content_type: "application/json; charset=utf-8",
        app,
    }
}

fn auth_fail(sub_code: &str, message: &str) -> Fail {
    Fail::invalid(sub_code, message).with_status(401)
}

/// The fields of the auth string: `app_id=…,app_cert_sn=…,nonce=…,timestamp=…`.
fn auth_field<'a>(auth: &'a str, key: &str) -> Option<&'a str> {
    auth.split(',').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// Handles one `/v3/...` request.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    parts: &Parts,
    body: &Bytes,
) -> Result<Response<Body>, DropConnection> {
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let target = parts
        .uri
        .path_and_query()
        .map_or(path, http::uri::PathAndQuery::as_str);
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let Some(op) = Op::from_v3(method, path) else {
        let f = Fail::invalid(
            "isv.invalid-method",
            &format!("不存在的接口 {method} {path}"),
        )
        .with_status(404);
        return Ok(render(shared, &fail_answer(&f, None)));
    };
    let Some(authorization) = header("authorization") else {
        let f = auth_fail("isv.missing-signature", "缺少签名参数 Authorization");
        return Ok(render(shared, &fail_answer(&f, None)));
    };
    let Some((auth, sign)) = v3_parse_authorization(&authorization) else {
        let f = auth_fail(
            "isv.invalid-signature",
            "Authorization 格式错误，应为 ALIPAY-SHA256withRSA app_id=…,nonce=…,timestamp=…,sign=…",
        );
        return Ok(render(shared, &fail_answer(&f, None)));
    };
    let Some(app_id) = auth_field(auth, "app_id") else {
        let f = auth_fail("isv.missing-app-id", "缺少appId参数");
        return Ok(render(shared, &fail_answer(&f, None)));
    };
    let Some(app) = shared.app(app_id) else {
        let f = auth_fail("isv.invalid-app-id", &format!("无效的AppID参数 {app_id}"));
        return Ok(render(shared, &fail_answer(&f, None)));
    };
    let out = |f: &Fail| render(shared, &fail_answer(f, Some(&app)));
    let now = shared.clock.now_ms();
    match auth_field(auth, "timestamp").and_then(|t| t.parse::<i64>().ok()) {
        None => return Ok(out(&auth_fail("isv.invalid-timestamp", "非法的时间戳参数"))),
        Some(ts) => {
            if let Some(max) = shared.config.max_clock_skew_ms
                && (ts - now).abs() > max
            {
                return Ok(out(&auth_fail(
                    "isv.invalid-timestamp",
                    &format!("时间戳与网关时间相差超过 {} 秒", max / 1000),
                )));
            }
        }
    }
    if auth_field(auth, "nonce").is_none_or(str::is_empty) {
        return Ok(out(&auth_fail("isv.invalid-signature", "缺少 nonce")));
    }
    if app.mode == KeyMode::Certificate {
        if auth_field(auth, "app_cert_sn").map(str::to_owned) != app.app_cert_sn {
            return Ok(out(&auth_fail(
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
        if header("alipay-root-cert-sn") != root {
            return Ok(out(&auth_fail(
                "isv.invalid-alipay-root-cert-sn",
                "无效支付宝根证书序列号",
            )));
        }
    }
    let Ok(body_text) = std::str::from_utf8(body) else {
        return Ok(out(&Fail::param("请求体不是 UTF-8")));
    };
    let token = header("alipay-app-auth-token");
    let content = v3_signing_content(auth, method, target, body_text, token.as_deref());
    if app
        .verifier
        .verify_base64(SignType::Rsa2, content.as_bytes(), sign)
        .is_err()
    {
        return Ok(out(&auth_fail(
            "isv.invalid-signature",
            &invalid_signature_msg(&content),
        )));
    }
    let (seller_id, auth_app_id) = match &token {
        None => (app.seller_id.clone(), app.app_id.clone()),
        Some(t) => {
            let grant = shared.lock().grants.get(t).cloned();
            match grant {
                Some(g) if g.app_id == app.app_id => (g.seller_id, g.auth_app_id),
                _ => {
                    return Ok(out(&Fail::token(
                        "aop.invalid-app-auth-token",
                        "无效的应用授权令牌",
                    )));
                }
            }
        }
    };
    let encrypted = header("alipay-encrypt-type").is_some_and(|t| t.eq_ignore_ascii_case("AES"));
    let plain = if encrypted {
        let Some(key) = &app.aes else {
            return Ok(out(&Fail::invalid(
                "isv.decryption-error-not-valid-encrypt-key",
                "解密出错, 未配置加密密钥或加密密钥格式错误",
            )));
        };
        match key
            .decrypt(body_text.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(p) => p,
            None => {
                return Ok(out(&Fail::conditions(
                    "isv.decryption-error-unknown",
                    "解密出错, 未知错误",
                )));
            }
        }
    } else {
        body_text.to_owned()
    };
    let biz = if method == "GET" {
        let pairs = form_pairs(parts.uri.query().unwrap_or("").as_bytes());
        match decode_pairs(&pairs, Charset::Utf8) {
            Ok(p) => Biz::from_pairs(p.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            Err(e) => return Ok(out(&Fail::param(&e))),
        }
    } else {
        match Biz::from_json(&plain) {
            Ok(b) => b,
            Err(f) => return Ok(out(&f)),
        }
    };
    let ctx = Ctx {
        app: &app,
        seller_id,
        auth_app_id,
        charset: Charset::Utf8,
        sign_type: SignType::Rsa2,
        notify_url: biz.text("notify_url").ok().flatten(),
        return_url: None,
        now,
        base_url: &shared.base_url,
        config: &shared.config,
    };
    let fields = match run_op(shared, &ctx, op, &biz).await {
        Ran::Drop => return Err(DropConnection),
        Ran::Fail(f) => return Ok(out(&f)),
        Ran::Outcome(Outcome::Done(f) | Outcome::InProcess(f)) => f,
        Ran::Outcome(Outcome::Cashier(_)) => {
            return Ok(out(&Fail::invalid("isv.invalid-method", "不存在的接口")));
        }
    };
    let json_body = serde_json::to_vec(&Value::Object(fields)).unwrap_or_default();
    let answer = match (encrypted, &app.aes) {
        (true, Some(key)) => Answer {
            status: 200,
            body: key.encrypt(&json_body).into_bytes(),
            content_type: "text/plain; charset=utf-8",
            app: Some(&app),
        },
        _ => Answer {
            status: 200,
            body: json_body,
            content_type: "application/json; charset=utf-8",
            app: Some(&app),
        },
    };
    Ok(render(shared, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_fields() {
        let a = "app_id=2021,app_cert_sn=abc,nonce=n1,timestamp=17";
        assert_eq!(auth_field(a, "app_id"), Some("2021"));
        assert_eq!(auth_field(a, "app_cert_sn"), Some("abc"));
        assert_eq!(auth_field(a, "timestamp"), Some("17"));
        assert_eq!(auth_field(a, "sign"), None);
        let body: Value = serde_json::from_slice(&error_body("invalid-signature", "m")).unwrap();
        assert_eq!(body["code"], "invalid-signature");
        assert_eq!(body["message"], "m");
        assert_eq!(body["links"][0]["desc"], "解决方案");
    }
}
