//! Asynchronous notifications (PROTOCOL §3): signing (rule V1, in the request charset), delivery
//! to `notify_url`, retries on Alipay's schedule, and the clock task that runs timers.

use std::sync::Arc;
use std::time::Duration;

use alipay_sign::{Rule, canonical_string};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::format_time;
use crate::http::{encode_form, send};
use crate::state::{Attempt, FaultKind, Notification, Shared};

/// Signs the queued drafts and adds them to the delivery queue, due now.
pub(crate) fn flush_outbox(shared: &Shared) {
    let drafts = std::mem::take(&mut shared.lock().outbox);
    if drafts.is_empty() {
        return;
    }
    let now = shared.clock.now_ms();
    let mut ready = Vec::with_capacity(drafts.len());
    for d in drafts {
        let mode = shared.app(&d.app_id).map(|a| a.mode).unwrap_or_default();
        let content = canonical_string(
            d.params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            Rule::NotifyV1,
        );
        let mut params = d.params.clone();
        let (body, outcome) = match d
            .charset
            .encode(&content)
            .map_err(crate::error::Error::from)
            .and_then(|bytes| shared.sign_answer(mode, d.sign_type, &bytes))
        {
            Ok(sig) => {
                params.push(("sign_type".to_owned(), d.sign_type.as_str().to_owned()));
                params.push(("sign".to_owned(), sig.sign));
                match encode_form(&params, d.charset) {
                    Ok(body) => (body, None),
                    Err(e) => (String::new(), Some(e)),
                }
            }
            Err(e) => (String::new(), Some(e.to_string())),
        };
        let notify_id = params
            .iter()
            .find(|(k, _)| k == "notify_id")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let attempts = match &outcome {
            Some(e) => vec![Attempt {
                at_ms: now,
                status: None,
                response: String::new(),
                outcome: format!("not sent: {e}"),
            }],
            None => Vec::new(),
        };
        ready.push(Notification {
            id: 0,
            notify_id,
            url: d.url,
            app_id: d.app_id,
            out_trade_no: d.out_trade_no,
            trade_status: d.trade_status,
            charset: d.charset.as_str().to_owned(),
            content_type: format!(
                "application/x-www-form-urlencoded; charset={}",
                d.charset.as_str()
            ),
            body,
            params,
            attempts,
            next_at_ms: outcome.is_none().then_some(now),
            delivered: false,
            in_flight: false,
        });
    }
    let mut inner = shared.lock();
    for mut n in ready {
        n.id = inner.next_seq();
        inner.notifications.push(n);
    }
    inner.dirty = true;
    drop(inner);
    shared.wake.notify_one();
}

struct Due {
    id: u64,
    url: String,
    content_type: String,
    body: String,
    fault: Option<FaultKind>,
}

/// Runs the timers and delivers every notification that is due, waiting for the deliveries.
/// Serialised: one run at a time.
pub(crate) async fn run_due(shared: &Arc<Shared>) {
    let _guard = shared.tick.lock().await;
    // Bounded: each round delivers what is due; deliveries take real time, during which more
    // may fall due at high time scales. The next tick picks up the rest.
    for _ in 0..8 {
        let now = shared.clock.now_ms();
        {
            let mut inner = shared.lock();
            crate::ops::run_timers(&mut inner, &shared.config, now);
        }
        flush_outbox(shared);
        let due: Vec<Due> = {
            let mut inner = shared.lock();
            let ids: Vec<u64> = inner
                .notifications
                .iter()
                .filter(|n| !n.delivered && !n.in_flight && n.next_at_ms.is_some_and(|t| t <= now))
                .map(|n| n.id)
                .collect();
            let mut due = Vec::with_capacity(ids.len());
            for id in ids {
                let fault = inner.take_fault("notify").map(|f| f.kind);
                if let Some(n) = inner.notifications.iter_mut().find(|n| n.id == id) {
                    n.in_flight = true;
                    due.push(Due {
                        id,
                        url: n.url.clone(),
                        content_type: n.content_type.clone(),
                        body: n.body.clone(),
                        fault,
                    });
                }
            }
            due
        };
        if due.is_empty() {
            break;
        }
        let timeout = shared.config.notify_timeout;
        let mut set = JoinSet::new();
        for d in due {
            set.spawn(deliver(d, timeout));
        }
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                results.push(r);
            }
        }
        let at = shared.clock.now_ms();
        let mut inner = shared.lock();
        for (id, attempts) in results {
            let Some(n) = inner.notifications.iter_mut().find(|n| n.id == id) else {
                continue;
            };
            n.in_flight = false;
            let success = attempts.iter().any(|a| a.outcome == "success");
            for mut a in attempts {
                a.at_ms = at;
                n.attempts.push(a);
            }
            if success {
                n.delivered = true;
                n.next_at_ms = None;
            } else {
                let made = n.attempts.len();
                n.next_at_ms = shared
                    .config
                    .notify_schedule_ms
                    .get(made.saturating_sub(1))
                    .map(|wait| at + wait);
            }
        }
        inner.dirty = true;
    }
    // Notifications caught by an error in the loop above are never left in flight.
    {
        let mut inner = shared.lock();
        for n in &mut inner.notifications {
            n.in_flight = false;
        }
    }
    if let Err(e) = shared.persist_if_dirty() {
        shared.note_error(&e);
    }
}

async fn deliver(d: Due, timeout: Duration) -> (u64, Vec<Attempt>) {
    if d.fault == Some(FaultKind::Drop) {
        return (
            d.id,
            vec![Attempt {
                at_ms: 0,
                status: None,
                response: String::new(),
                outcome: "dropped (injected fault)".to_owned(),
            }],
        );
    }
    let times = if d.fault == Some(FaultKind::Duplicate) {
        2
    } else {
        1
    };
    let mut attempts = Vec::with_capacity(times);
    for _ in 0..times {
        let headers = [("content-type", d.content_type.clone())];
        let attempt = match send(
            "POST",
            &d.url,
            &headers,
            d.body.clone().into_bytes(),
            timeout,
        )
        .await
        {
            Ok(r) => {
                let text = String::from_utf8_lossy(&r.body).into_owned();
                let ok = r.status == 200 && text == "success";
                Attempt {
                    at_ms: 0,
                    status: Some(r.status),
                    response: text.chars().take(200).collect(),
                    outcome: if ok {
                        "success".to_owned()
                    } else {
                        "failed: the answer was not 200 with the body `success`".to_owned()
                    },
                }
            }
            Err(e) => Attempt {
                at_ms: 0,
                status: None,
                response: String::new(),
                outcome: format!("failed: {e}"),
            },
        };
        attempts.push(attempt);
    }
    (d.id, attempts)
}

/// The clock task: sleeps until the next timer or notification is due (in real time, scaled),
/// or until something changes, and runs [`run_due`].
pub(crate) async fn ticker(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        run_due(&shared).await;
        let next = {
            let inner = shared.lock();
            let timer = crate::ops::next_timer(&inner, &shared.config);
            let notify = inner
                .notifications
                .iter()
                .filter(|n| !n.delivered)
                .filter_map(|n| n.next_at_ms)
                .min();
            match (timer, notify) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let wait = next
            .and_then(|t| shared.clock.real_wait(t))
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(5), Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.wake.notified() => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// The delivery log as the control API shows it.
pub(crate) fn log_json(n: &Notification) -> Value {
    let last = n.attempts.last();
    json!({
        "id": n.id,
        "notify_id": n.notify_id,
        "url": n.url,
        "app_id": n.app_id,
        "out_trade_no": n.out_trade_no,
        "trade_status": n.trade_status,
        "charset": n.charset,
        "content_type": n.content_type,
        "body": n.body,
        "params": n.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "attempts": n.attempts.len(),
        "last_status": last.and_then(|a| a.status),
        "last_outcome": last.map(|a| a.outcome.clone()),
        "delivered": n.delivered,
        "next_attempt_at": n.next_at_ms.filter(|_| !n.delivered).map(format_time),
        "history": n.attempts.iter().map(|a| json!({
            "at": format_time(a.at_ms),
            "status": a.status,
            "response": a.response,
            "outcome": a.outcome,
        })).collect::<Vec<_>>(),
    })
}
