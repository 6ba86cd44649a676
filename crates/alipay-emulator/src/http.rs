//! HTTP plumbing: responses the server writes, request bodies it reads, form decoding in a
//! charset, and the small HTTP/1 client used for notifications and the control client.

use std::time::Duration;

use alipay_sign::Charset;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// The response body type of the server.
pub(crate) type Body = Full<Bytes>;

/// The largest request body the server reads.
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

/// A response with `status`, a content type and `body`.
pub(crate) fn response(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

/// A JSON response (control API).
pub(crate) fn json(status: StatusCode, value: &Value) -> Response<Body> {
    response(
        status,
        "application/json; charset=utf-8",
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// A control API error: `{"error": message}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

/// An HTML page.
pub(crate) fn html(status: StatusCode, page: String) -> Response<Body> {
    response(status, "text/html; charset=utf-8", page)
}

/// A `302 Found` to `location`.
pub(crate) fn redirect(location: &str) -> Response<Body> {
    let mut r = response(StatusCode::FOUND, "text/html; charset=utf-8", Bytes::new());
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Reads a request body up to [`MAX_BODY`].
pub(crate) async fn read_body(body: hyper::body::Incoming) -> Result<Bytes, String> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(format!("cannot read the request body: {e}")),
    }
}

/// The `charset` of a `Content-Type` header value.
pub(crate) fn content_type_charset(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The media type of a `Content-Type` header value, lowercase.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Splits an `application/x-www-form-urlencoded` string into percent-decoded byte pairs
/// (`+` is a space), before any charset decoding.
pub(crate) fn form_pairs(input: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    input
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(part: &[u8]) -> Vec<u8> {
    let plus: Vec<u8> = part
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus).collect()
}

/// Finds the `charset` field among raw pairs (its value is ASCII).
pub(crate) fn charset_field(pairs: &[(Vec<u8>, Vec<u8>)]) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == b"charset")
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .map(str::to_owned)
}

/// Decodes raw pairs in `charset`; the first undecodable field is named in the error.
pub(crate) fn decode_pairs(
    pairs: &[(Vec<u8>, Vec<u8>)],
    charset: Charset,
) -> Result<Vec<(String, String)>, String> {
    pairs
        .iter()
        .map(|(k, v)| {
            let key = charset
                .decode(k)
                .map_err(|_| format!("a parameter name is not valid {charset}"))?;
            let value = charset
                .decode(v)
                .map_err(|_| format!("the value of {key} is not valid {charset}"))?;
            Ok((key.into_owned(), value.into_owned()))
        })
        .collect()
}

/// Form-encodes `params` with values encoded in `charset` (`application/x-www-form-urlencoded`).
pub(crate) fn encode_form(params: &[(String, String)], charset: Charset) -> Result<String, String> {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        let kb = charset.encode(k).map_err(|e| e.to_string())?;
        let vb = charset.encode(v).map_err(|e| e.to_string())?;
        out.extend(form_urlencoded::byte_serialize(&kb));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(&vb));
    }
    Ok(out)
}

/// Escapes text for HTML.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A response the client received.
#[derive(Debug)]
pub(crate) struct ClientResponse {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

/// Sends one HTTP/1.1 request to an `http://` URL on a fresh connection, within `timeout`.
pub(crate) async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<ClientResponse, String> {
    match tokio::time::timeout(timeout, send_inner(method, url, headers, body)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no response within {} ms", timeout.as_millis())),
    }
}

async fn send_inner(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<ClientResponse, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("only http:// URLs are supported, not {url}"));
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("the URL {url} has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake with {host}:{port} failed: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let target = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let authority = uri
        .authority()
        .map_or_else(|| host.clone(), |a| a.as_str().to_owned());
    let mut builder = http::Request::builder()
        .method(method)
        .uri(target)
        .header(http::header::HOST, authority);
    for (k, v) in headers {
        builder = builder.header(*k, v.as_str());
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let result = sender.send_request(request).await;
    let outcome = match result {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.into_body().collect().await {
                Ok(b) => Ok(ClientResponse {
                    status,
                    body: b.to_bytes(),
                }),
                Err(e) => Err(format!("cannot read the response body: {e}")),
            }
        }
        Err(e) => Err(format!("the request failed: {e}")),
    };
    driver.abort();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_once_in_their_charset() {
        let pairs = form_pairs(b"a=1+2&b=%D6%D0&charset=GBK&c&&d=%E4%B8%AD%2B");
        assert_eq!(charset_field(&pairs).as_deref(), Some("GBK"));
        let gbk = decode_pairs(&pairs[..2], Charset::Gbk).unwrap();
        assert_eq!(gbk, [("a".into(), "1 2".into()), ("b".into(), "中".into())]);
        let utf8 = decode_pairs(&pairs[3..], Charset::Utf8).unwrap();
        assert_eq!(
            utf8,
            [("c".into(), String::new()), ("d".into(), "中+".into())]
        );
        assert_eq!(
            decode_pairs(&pairs[1..2], Charset::Utf8).unwrap_err(),
            "the value of b is not valid utf-8"
        );
    }

    #[test]
    fn encodes_forms_and_html() {
        let p = vec![
            ("subject".to_owned(), "中 a&b=c".to_owned()),
            ("k".to_owned(), "*-._~".to_owned()),
        ];
        assert_eq!(
            encode_form(&p, Charset::Utf8).unwrap(),
            "subject=%E4%B8%AD+a%26b%3Dc&k=*-._%7E"
        );
        assert_eq!(
            encode_form(&p[..1], Charset::Gbk).unwrap(),
            "subject=%D6%D0+a%26b%3Dc"
        );
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn content_type_parts() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; Charset=\"GBK\""),
        );
        assert_eq!(content_type_charset(&h).as_deref(), Some("GBK"));
        assert_eq!(media_type(&h), "application/x-www-form-urlencoded");
    }
}
