//! The control API (`{control}` = `<base>/control`): JSON in and out; what a test does as the
//! buyer, the clock or the network. Documented in `docs/emulator.md`.

#![allow(
    clippy::result_large_err,
    reason = "handlers return the error response itself; it is built once per request"
)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::app::{AppCredentials, AppSpec, Grant, KeyMode};
use crate::gateway::{Ran, Verified, body_text, run_op, success_text, verify};
use crate::http::{Body, form_pairs, json as json_response, json_error, media_type};
use crate::model::Status;
use crate::notify::{flush_outbox, log_json, run_due};
use crate::ops::{self, Outcome};
use crate::state::{Fault, FaultKind, Shared};

/// The JSON of a registered app's credentials. The private key is included only when `secret`.
pub(crate) fn credentials_json(c: &AppCredentials, secret: bool) -> Value {
    json!({
        "app_id": c.app_id,
        "seller_id": c.seller_id,
        "mode": match c.mode { KeyMode::Certificate => "cert", _ => "public_key" },
        "app_private_key": if secret { c.app_private_key_pem.as_ref().map(|k| k.to_string()) } else { None },
        "app_public_key": c.app_public_key_pem,
        "alipay_public_key": c.alipay_public_key_pem,
        "app_cert": c.app_cert_pem,
        "app_cert_sn": c.app_cert_sn,
        "alipay_cert": c.alipay_cert_pem,
        "alipay_cert_sn": c.alipay_cert_sn,
        "alipay_root_cert": c.alipay_root_cert_pem,
        "alipay_root_cert_sn": c.alipay_root_cert_sn,
        "aes_key": if secret { c.aes_key.as_ref().map(|k| k.to_string()) } else { None },
    })
}

fn bad(message: impl Into<String>) -> Response<Body> {
    json_error(StatusCode::BAD_REQUEST, &message.into())
}

fn not_found(message: impl Into<String>) -> Response<Body> {
    json_error(StatusCode::NOT_FOUND, &message.into())
}

fn conflict(message: impl Into<String>) -> Response<Body> {
    json_error(StatusCode::CONFLICT, &message.into())
}

fn parse_json(body: &Bytes) -> Result<Value, Response<Body>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(format!("the body is not JSON: {e}"))),
    }
}

fn str_field(v: &Value, key: &str) -> Result<Option<String>, Response<Body>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(format!("\"{key}\" must be a string, not {other}"))),
    }
}

fn u64_field(v: &Value, key: &str) -> Result<Option<u64>, Response<Body>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(format!("\"{key}\" must be a whole number ≥ 0, not {n}"))),
        Some(other) => Err(bad(format!("\"{key}\" must be a number, not {other}"))),
    }
}

fn bool_field(v: &Value, key: &str, default: bool) -> Result<bool, Response<Body>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(bad(format!("\"{key}\" must be true or false, not {other}"))),
    }
}

fn query_param(parts: &Parts, key: &str) -> Option<String> {
    form_pairs(parts.uri.query().unwrap_or("").as_bytes())
        .into_iter()
        .find(|(k, _)| k == key.as_bytes())
        .and_then(|(_, v)| String::from_utf8(v).ok())
}

fn decode_segment(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Handles `/control/...` (`rest` is the path after `/control`).
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    parts: &Parts,
    rest: &str,
    body: &Bytes,
) -> Response<Body> {
    let segments: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_segment)
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = &parts.method;
    let result = match (m, seg.as_slice()) {
        (&Method::GET, [] | ["status"]) => Ok(status(shared)),
        (&Method::GET, ["clock"]) => Ok(clock(shared)),
        (&Method::POST, ["clock", "advance"]) => advance(shared, body).await,
        (&Method::GET, ["apps"]) => Ok(list_apps(shared)),
        (&Method::POST, ["apps"]) => register(shared, body),
        (&Method::POST, ["apps", app_id, "app-auth-tokens"]) => grant(shared, app_id, body),
        (&Method::GET, ["trades"]) => Ok(list_trades(shared, parts)),
        (&Method::GET, ["trades", id]) => trade(shared, parts, id),
        (&Method::POST, ["trades", id, "pay"]) => pay(shared, parts, id).await,
        (&Method::POST, ["trades", id, "cancel"]) => {
            buyer_action(shared, parts, id, Action::Cancel).await
        }
        (&Method::POST, ["trades", id, "scan"]) => {
            buyer_action(shared, parts, id, Action::Scan).await
        }
        (&Method::POST, ["trades", id, "state"]) => force(shared, parts, id, body).await,
        (&Method::GET, ["faults"]) => Ok(list_faults(shared)),
        (&Method::POST, ["faults"]) => add_fault(shared, body),
        (&Method::DELETE, ["faults"]) => {
            shared.lock().faults.clear();
            Ok(list_faults(shared))
        }
        (&Method::GET, ["notifications"]) => Ok(notifications(shared)),
        (&Method::GET, ["alipay-cert"]) => alipay_cert(shared),
        (&Method::POST, ["alipay-cert", "rotate"]) => rotate(shared),
        (&Method::POST, ["app-pay"]) => app_pay(shared, parts, body).await,
        (&Method::POST, ["oauth", "codes"]) => oauth_code(shared, body),
        _ => Err(not_found(format!(
            "no control endpoint {} /control{rest}",
            parts.method
        ))),
    };
    let response = result.unwrap_or_else(|r| r);
    if let Err(e) = shared.persist_if_dirty() {
        shared.note_error(&e);
    }
    response
}

fn ok(value: &Value) -> Response<Body> {
    json_response(StatusCode::OK, value)
}

fn status(shared: &Shared) -> Response<Body> {
    let inner = shared.lock();
    let base = &shared.base_url;
    ok(&json!({
        "gateway": format!("{base}/gateway.do"),
        "v3": base,
        "control": format!("{base}/control"),
        "dashboard": format!("{base}/dashboard"),
        "now": shared.clock.format_now(),
        "apps": inner.apps.keys().collect::<Vec<_>>(),
        "default_app": inner.default_app,
        "trades": inner.trades.len(),
        "notifications": inner.notifications.len(),
        "errors": shared.errors(),
    }))
}

fn clock(shared: &Shared) -> Response<Body> {
    let micros = shared.clock.scale_micros();
    ok(&json!({
        "now": shared.clock.format_now(),
        "now_ms": shared.clock.now_ms(),
        "time_scale": format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
            .trim_end_matches('0')
            .trim_end_matches('.'),
    }))
}

async fn advance(shared: &Arc<Shared>, body: &Bytes) -> Result<Response<Body>, Response<Body>> {
    let v = parse_json(body)?;
    let seconds = u64_field(&v, "seconds")?;
    let ms = u64_field(&v, "ms")?;
    if seconds.is_none() && ms.is_none() {
        return Err(bad(
            "give \"seconds\" (or \"ms\"): how far to move emulator time",
        ));
    }
    let by = Duration::from_secs(seconds.unwrap_or(0)) + Duration::from_millis(ms.unwrap_or(0));
    shared.clock.advance(by);
    // Run what fell due now, so a test sees its effects when this call returns.
    run_due(shared).await;
    Ok(clock(shared))
}

fn list_apps(shared: &Shared) -> Response<Body> {
    let apps: Vec<_> = shared.lock().apps.values().cloned().collect();
    let list: Vec<Value> = apps
        .iter()
        .map(|a| credentials_json(&shared.credentials(a), false))
        .collect();
    ok(&Value::Array(list))
}

fn register(shared: &Shared, body: &Bytes) -> Result<Response<Body>, Response<Body>> {
    let v = parse_json(body)?;
    let mut spec = AppSpec::new();
    spec.app_id = str_field(&v, "app_id")?;
    spec.mode = match str_field(&v, "mode")?.as_deref() {
        None | Some("public_key") => KeyMode::PublicKey,
        Some("cert") => KeyMode::Certificate,
        Some(other) => {
            return Err(bad(format!(
                "\"mode\" is public_key or cert, not \"{other}\""
            )));
        }
    };
    spec.public_key = str_field(&v, "public_key")?;
    spec.app_cert = str_field(&v, "app_cert")?;
    if spec.app_cert.is_some() {
        spec.mode = KeyMode::Certificate;
    }
    spec.aes_key = str_field(&v, "aes_key")?;
    spec.generate_aes_key = bool_field(&v, "aes", false)?;
    spec.name = str_field(&v, "name")?;
    match shared.register(&spec) {
        Ok(c) => Ok(json_response(
            StatusCode::CREATED,
            &credentials_json(&c, true),
        )),
        Err(e) => Err(bad(describe(&e))),
    }
}

fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    for _ in 0..4 {
        let Some(s) = source else { break };
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn grant(shared: &Shared, app_id: &str, body: &Bytes) -> Result<Response<Body>, Response<Body>> {
    let v = parse_json(body)?;
    let mut inner = shared.lock();
    if !inner.apps.contains_key(app_id) {
        return Err(not_found(format!("no app {app_id}")));
    }
    let auth_app_id = match str_field(&v, "auth_app_id")? {
        Some(id) => id,
        None => format!("2021{}", crate::crypto::random_digits(12)),
    };
    let seller_id = match str_field(&v, "user_id")? {
        Some(id) => id,
        None => format!("2088{}", crate::crypto::random_digits(12)),
    };
    let token = format!("202{}", crate::crypto::random_hex(29));
    inner.grants.insert(
        token.clone(),
        Grant {
            app_id: app_id.to_owned(),
            auth_app_id: auth_app_id.clone(),
            seller_id: seller_id.clone(),
        },
    );
    inner.dirty = true;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"app_auth_token": token, "auth_app_id": auth_app_id, "user_id": seller_id}),
    ))
}

fn list_trades(shared: &Shared, parts: &Parts) -> Response<Body> {
    let app_id = query_param(parts, "app_id");
    let inner = shared.lock();
    let list: Vec<Value> = inner
        .trades
        .iter()
        .filter(|t| app_id.as_deref().is_none_or(|a| t.app_id == a))
        .map(|t| ops::trade_json(t, &shared.base_url))
        .collect();
    ok(&Value::Array(list))
}

fn find(shared: &Shared, parts: &Parts, id: &str) -> Result<usize, Response<Body>> {
    let app_id = query_param(parts, "app_id");
    shared
        .lock()
        .find_any(id, app_id.as_deref())
        .ok_or_else(|| not_found(format!("no trade with out_trade_no or trade_no \"{id}\"")))
}

fn trade_value(shared: &Shared, idx: usize) -> Value {
    shared
        .lock()
        .trades
        .get(idx)
        .map_or(Value::Null, |t| ops::trade_json(t, &shared.base_url))
}

fn trade(shared: &Shared, parts: &Parts, id: &str) -> Result<Response<Body>, Response<Body>> {
    let idx = find(shared, parts, id)?;
    Ok(ok(&trade_value(shared, idx)))
}

async fn after_change(shared: &Arc<Shared>) {
    flush_outbox(shared);
    // Deliver right away so a test that pays sees the notification soon.
    shared.wake.notify_one();
}

async fn pay(
    shared: &Arc<Shared>,
    parts: &Parts,
    id: &str,
) -> Result<Response<Body>, Response<Body>> {
    let idx = find(shared, parts, id)?;
    let now = shared.clock.now_ms();
    let result = ops::buyer_pay(&mut shared.lock(), idx, now);
    after_change(shared).await;
    result.map_err(conflict)?;
    let t = shared.lock().trades.get(idx).cloned();
    let return_url = t
        .as_ref()
        .and_then(|t| crate::cashier::return_location(shared, t));
    Ok(ok(&json!({
        "trade": trade_value(shared, idx),
        "return_url": return_url,
    })))
}

enum Action {
    Cancel,
    Scan,
}

async fn buyer_action(
    shared: &Arc<Shared>,
    parts: &Parts,
    id: &str,
    action: Action,
) -> Result<Response<Body>, Response<Body>> {
    let idx = find(shared, parts, id)?;
    let now = shared.clock.now_ms();
    let result = {
        let mut inner = shared.lock();
        match action {
            Action::Cancel => ops::buyer_cancel(&mut inner, idx),
            Action::Scan => ops::buyer_scan(&mut inner, idx, now),
        }
    };
    after_change(shared).await;
    result.map_err(conflict)?;
    Ok(ok(&json!({"trade": trade_value(shared, idx)})))
}

async fn force(
    shared: &Arc<Shared>,
    parts: &Parts,
    id: &str,
    body: &Bytes,
) -> Result<Response<Body>, Response<Body>> {
    let v = parse_json(body)?;
    let idx = find(shared, parts, id)?;
    let text = str_field(&v, "status")?.or(str_field(&v, "trade_status")?);
    let Some(status) = text.as_deref().and_then(Status::parse) else {
        return Err(bad(
            "\"status\" must be WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED or TRADE_FINISHED",
        ));
    };
    let notify = bool_field(&v, "notify", true)?;
    let now = shared.clock.now_ms();
    let result = ops::force_status(&mut shared.lock(), idx, status, notify, now);
    after_change(shared).await;
    result.map_err(conflict)?;
    Ok(ok(&json!({"trade": trade_value(shared, idx)})))
}

fn fault_json(f: &Fault) -> Value {
    json!({
        "method": f.method,
        "kind": serde_json::to_value(f.kind).unwrap_or(Value::Null),
        "count": f.remaining,
        "delay_ms": f.delay_ms,
        "phase": if f.after { "after" } else { "before" },
        "sub_code": f.sub_code,
        "sub_msg": f.sub_msg,
    })
}

fn list_faults(shared: &Shared) -> Response<Body> {
    let list: Vec<Value> = shared.lock().faults.iter().map(fault_json).collect();
    ok(&Value::Array(list))
}

fn add_fault(shared: &Shared, body: &Bytes) -> Result<Response<Body>, Response<Body>> {
    let v = parse_json(body)?;
    let Some(method) = str_field(&v, "method")? else {
        return Err(bad(
            "\"method\" is required: an API method, \"*\", or \"notify\"",
        ));
    };
    let kind_text = str_field(&v, "kind")?.unwrap_or_default();
    let kind: FaultKind = serde_json::from_value(Value::String(kind_text.clone())).map_err(|_| {
        bad(format!(
            "\"kind\" is unknown_error, system_error, business_error, delay, drop or duplicate, not \"{kind_text}\""
        ))
    })?;
    let notify = method == "notify";
    let valid = if notify {
        matches!(kind, FaultKind::Drop | FaultKind::Duplicate)
    } else {
        kind != FaultKind::Duplicate
    };
    if !valid {
        return Err(bad(if notify {
            "a notification fault is \"drop\" or \"duplicate\""
        } else {
            "\"duplicate\" is a notification fault (method \"notify\")"
        }));
    }
    let count = u64_field(&v, "count")?.unwrap_or(1);
    let remaining = u32::try_from(count).map_err(|_| bad("\"count\" is too large"))?;
    if remaining == 0 {
        return Err(bad("\"count\" must be at least 1"));
    }
    let delay_ms = u64_field(&v, "delay_ms")?.unwrap_or(0);
    if kind == FaultKind::Delay && delay_ms == 0 {
        return Err(bad("a \"delay\" fault needs \"delay_ms\""));
    }
    let after = match str_field(&v, "phase")?.as_deref() {
        None | Some("before") => false,
        Some("after") => true,
        Some(other) => {
            return Err(bad(format!(
                "\"phase\" is before or after, not \"{other}\""
            )));
        }
    };
    let sub_code = str_field(&v, "sub_code")?;
    if kind == FaultKind::BusinessError && sub_code.is_none() {
        return Err(bad("a \"business_error\" fault needs \"sub_code\""));
    }
    let fault = Fault {
        method,
        kind,
        remaining,
        delay_ms,
        after,
        sub_code,
        sub_msg: str_field(&v, "sub_msg")?,
    };
    let value = fault_json(&fault);
    shared.lock().faults.push(fault);
    Ok(json_response(StatusCode::CREATED, &value))
}

fn notifications(shared: &Shared) -> Response<Body> {
    let list: Vec<Value> = shared.lock().notifications.iter().map(log_json).collect();
    ok(&Value::Array(list))
}

fn cert_json(shared: &Shared, previous: Option<&str>) -> Result<Response<Body>, Response<Body>> {
    let ca = shared
        .ca
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(authority) = ca.as_ref() else {
        return Err(conflict(
            "certificate mode is not in use: no app is registered in cert mode",
        ));
    };
    let Some(current) = authority.current() else {
        return Err(conflict("no Alipay certificate"));
    };
    Ok(ok(&json!({
        "alipay_cert_sn": current.sn,
        "previous_alipay_cert_sn": previous,
        "alipay_cert": authority.alipay_chain_pem(current),
        "alipay_public_key": current.key.public().to_pem(),
        "alipay_root_cert_sn": authority.root_sn(),
    })))
}

fn alipay_cert(shared: &Shared) -> Result<Response<Body>, Response<Body>> {
    cert_json(shared, None)
}

fn rotate(shared: &Shared) -> Result<Response<Body>, Response<Body>> {
    let previous = {
        let mut ca = shared
            .ca
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(authority) = ca.as_mut() else {
            return Err(conflict(
                "certificate mode is not in use: no app is registered in cert mode",
            ));
        };
        let previous = authority.current().map(|c| c.sn.clone());
        authority
            .rotate(shared.clock.now_ms())
            .map_err(|e| json_error(StatusCode::INTERNAL_SERVER_ERROR, &describe(&e)))?;
        previous
    };
    shared.lock().dirty = true;
    cert_json(shared, previous.as_deref())
}

fn oauth_code(shared: &Shared, body: &Bytes) -> Result<Response<Body>, Response<Body>> {
    let v = parse_json(body)?;
    let mut inner = shared.lock();
    let app_id = match str_field(&v, "app_id")? {
        Some(id) => id,
        None => inner
            .default_app
            .clone()
            .ok_or_else(|| bad("\"app_id\" is required (there is no default app)"))?,
    };
    if !inner.apps.contains_key(&app_id) {
        return Err(not_found(format!("no app {app_id}")));
    }
    let (code, user_id, open_id) = ops::issue_oauth_code(
        &mut inner,
        &app_id,
        str_field(&v, "user_id")?,
        shared.clock.now_ms(),
    );
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"code": code, "app_id": app_id, "user_id": user_id, "open_id": open_id}),
    ))
}

/// `POST {control}/app-pay`: the Alipay app receives an order string (as the mobile SDK would
/// hand it over), checks it like the gateway, creates the trade and, unless `"pay": false`,
/// pays it. Answers like the mobile SDK: `resultStatus` and the signed `result`.
async fn app_pay(
    shared: &Arc<Shared>,
    parts: &Parts,
    body: &Bytes,
) -> Result<Response<Body>, Response<Body>> {
    let (order, pay_now) = if media_type(&parts.headers) == "application/json" {
        let v = parse_json(body)?;
        let Some(order) = str_field(&v, "order_string")? else {
            return Err(bad("\"order_string\" is required"));
        };
        (order.into_bytes(), bool_field(&v, "pay", true)?)
    } else {
        (body.to_vec(), true)
    };
    let raw = form_pairs(order.trim_ascii());
    let v: Verified = match verify(shared, &raw, None, true) {
        Ok(v) => v,
        Err(r) => {
            let text = serde_json::to_string(&r.fail.node()).unwrap_or_default();
            let result = body_text(shared, &r.node, &text, r.signed, r.charset);
            return Ok(ok(
                &json!({"resultStatus": "4000", "result": result, "memo": r.fail.sub_msg}),
            ));
        }
    };
    if v.op != crate::ops::Op::AppPay {
        return Err(bad(format!(
            "the order string is for {}, not alipay.trade.app.pay",
            v.op.method()
        )));
    }
    let ctx = v.ctx(shared);
    let trade_no = match run_op(shared, &ctx, v.op, &v.biz).await {
        Ran::Outcome(Outcome::Cashier(trade_no)) => trade_no,
        Ran::Outcome(_) | Ran::Drop => {
            return Err(json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unexpected outcome",
            ));
        }
        Ran::Fail(f) => {
            let text = serde_json::to_string(&f.node()).unwrap_or_default();
            let result = body_text(shared, &v.node, &text, v.signed(), v.charset);
            return Ok(ok(
                &json!({"resultStatus": "4000", "result": result, "memo": f.sub_msg}),
            ));
        }
    };
    let idx = shared
        .lock()
        .by_trade_no
        .get(&trade_no)
        .copied()
        .ok_or_else(|| not_found("the trade vanished"))?;
    if pay_now {
        let now = shared.clock.now_ms();
        let result = ops::buyer_pay(&mut shared.lock(), idx, now);
        after_change(shared).await;
        result.map_err(conflict)?;
    }
    let t = shared
        .lock()
        .trades
        .get(idx)
        .cloned()
        .ok_or_else(|| not_found("the trade vanished"))?;
    let mut fields = crate::model::Fields::new();
    let mut put = |k: &str, val: String| {
        fields.insert(k.to_owned(), Value::String(val));
    };
    put("out_trade_no", t.out_trade_no.clone());
    put("trade_no", t.trade_no.clone());
    put("app_id", t.app_id.clone());
    put("total_amount", crate::model::yuan(t.total_fen));
    put("seller_id", t.seller_id.clone());
    put("charset", t.charset.clone());
    put("timestamp", shared.clock.format_now());
    let text = success_text(
        &Verified {
            encrypted: false,
            ..v
        },
        "10000",
        "Success",
        fields,
    );
    let result = body_text(
        shared,
        "alipay_trade_app_pay_response",
        &text,
        Some((
            ctx_mode(shared, &t.app_id),
            t.sign_type.parse().unwrap_or_default(),
        )),
        alipay_sign::Charset::from_label(&t.charset).unwrap_or_default(),
    );
    let status = if pay_now { "9000" } else { "6001" };
    Ok(ok(&json!({
        "resultStatus": status,
        "result": if pay_now { result } else { String::new() },
        "memo": if pay_now { "" } else { "用户中途取消" },
        "trade": ops::trade_json(&t, &shared.base_url),
    })))
}

fn ctx_mode(shared: &Shared, app_id: &str) -> KeyMode {
    shared.app(app_id).map(|a| a.mode).unwrap_or_default()
}
