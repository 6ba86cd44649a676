//! The HTTP server: accept loop, routing, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::gateway::DropConnection;
use crate::http::{Body, json_error, read_body, response};
use crate::state::Shared;

/// Serves until `shutdown` turns true, then lets open connections finish (at most 2 s).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: wait a moment, then go on.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                let service = service_fn(move |req| {
                    let shared = Arc::clone(&shared);
                    async move { route(&shared, req).await }
                });
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
}

fn split_cashier(path: &str) -> Option<(&str, Option<&str>)> {
    let rest = path.strip_prefix("/cashier/")?;
    match rest.split_once('/') {
        Some((no, action)) => Some((no, Some(action))),
        None => Some((rest, None)),
    }
}

async fn route(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => {
            return Ok(response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain; charset=utf-8",
                e,
            ));
        }
    };
    let path = parts.uri.path().to_owned();
    let method = parts.method.clone();
    if path == "/gateway.do" {
        if method == Method::GET || method == Method::POST {
            return crate::gateway::handle(shared, &parts, &body).await;
        }
        return Ok(response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "the gateway takes GET and POST",
        ));
    }
    if path.starts_with("/v3/") {
        return crate::v3::handle(shared, &parts, &body).await;
    }
    if path == "/control" || path.starts_with("/control/") {
        let rest = &path["/control".len()..];
        return Ok(crate::control::handle(shared, &parts, rest, &body).await);
    }
    if let Some((trade_no, action)) = split_cashier(&path) {
        return Ok(match (method, action) {
            (Method::GET, None) => crate::cashier::cashier(shared, trade_no),
            (Method::POST, Some("pay")) => crate::cashier::pay(shared, trade_no),
            (Method::POST, Some("cancel")) => crate::cashier::cancel(shared, trade_no),
            _ => json_error(StatusCode::NOT_FOUND, "no such cashier page"),
        });
    }
    if method == Method::GET && path.starts_with("/qr/") {
        return Ok(crate::cashier::scan(shared, &path));
    }
    if method == Method::GET && path == "/downloadBillFile.resource" {
        return Ok(crate::bill::download(
            shared,
            parts.uri.query().unwrap_or(""),
        ));
    }
    if method == Method::GET && (path == "/" || path == "/dashboard") {
        return Ok(crate::dashboard::dashboard(
            shared,
            parts.uri.query().unwrap_or(""),
        ));
    }
    Ok(json_error(
        StatusCode::NOT_FOUND,
        &format!("nothing at {path}"),
    ))
}
