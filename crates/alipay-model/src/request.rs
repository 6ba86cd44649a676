//! The [`AlipayRequest`] trait: what a transport-level client needs to know about an operation.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::CodeEnum;
use crate::error::Error;

/// An Alipay API operation: its request type implements this trait.
///
/// The implementing type is the request's business model. The same value serves both protocols:
///
/// - **v2** (`/gateway.do`): serialise it as JSON ([`biz_content`](Self::biz_content)) and send it as the
///   `biz_content` parameter, with `method =` [`METHOD`](Self::METHOD). The response node
///   `<method with _>_response` decodes as [`V2Response<Self::Response>`](crate::V2Response).
/// - **v3** (`/v3/...`), when [`V3`](Self::V3) is `Some`: [`v3_parts`](Self::v3_parts) splits the same
///   fields into the path (path parameters substituted into the template), the query string and the
///   JSON body, as the route lists them. The 2xx body decodes as [`Self::Response`]; an error body as
///   [`V3ErrorBody<Self::ErrorCode>`](crate::V3ErrorBody).
/// - **Uploads** ([`UPLOAD`](Self::UPLOAD)): [`files`](Self::files) returns the binary parts; the other
///   fields travel as the JSON `data` part in v3 (see [`V3Body::Multipart`]), or as text parameters in
///   v2. File fields are never serialised.
///
/// Every generated request type implements this trait. A hand-written one only needs `METHOD`,
/// `V3`, and the two associated types:
///
/// ```
/// use alipay_model::{AlipayRequest, HttpMethod};
/// use alipay_model::trade::QueryRequest;
///
/// assert_eq!(QueryRequest::METHOD, "alipay.trade.query");
/// let route = QueryRequest::V3.unwrap();
/// assert_eq!((route.method, route.path), (HttpMethod::Post, "/v3/alipay/trade/query"));
///
/// let request = QueryRequest::default().out_trade_no("T1");
/// assert_eq!(request.biz_content().unwrap(), r#"{"out_trade_no":"T1"}"#);
/// let v3 = request.v3_parts().unwrap();
/// assert_eq!(v3.target(), "/v3/alipay/trade/query");
/// assert_eq!(v3.body.as_deref(), Some(r#"{"out_trade_no":"T1"}"#));
/// ```
pub trait AlipayRequest: Serialize {
    /// The business fields of a successful response.
    type Response: DeserializeOwned + Serialize + fmt::Debug + Clone + Send + Sync + 'static;

    /// The operation's own error codes in a v3 error body (`ACQ.TRADE_NOT_EXIST`, ...).
    type ErrorCode: CodeEnum + fmt::Debug + Clone + PartialEq + Send + Sync + 'static;

    /// The method name: `alipay.trade.query`.
    const METHOD: &'static str;

    /// The v3 route, or `None` for an operation that exists only in v2.
    const V3: Option<V3Route>;

    /// Whether the request carries files (`multipart/form-data`).
    const UPLOAD: bool = false;

    /// The file parts that are set, in the order of the spec.
    fn files(&self) -> Vec<FilePart<'_>> {
        Vec::new()
    }

    /// The v2 `biz_content`: every field that is set, as compact JSON (file parts excluded).
    ///
    /// # Errors
    /// When serialisation fails, which only a hand-written `Serialize` can cause.
    fn biz_content(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(Error::json)
    }

    /// The v3 request split into path, query and body.
    ///
    /// # Errors
    /// [`Error::is_not_v3`] for an operation without a v3 route; [`Error::is_missing_path_param`] when a
    /// path parameter is not set or is not a string, number or boolean.
    fn v3_parts(&self) -> Result<V3Parts, Error> {
        let route = Self::V3.ok_or_else(|| Error::not_v3(Self::METHOD))?;
        let value = serde_json::to_value(self).map_err(Error::json)?;
        let Value::Object(fields) = value else {
            return Err(Error::not_an_object(Self::METHOD));
        };
        route.split(fields)
    }
}

/// The HTTP method of a v3 route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `PATCH`
    Patch,
    /// `HEAD`
    Head,
    /// `OPTIONS`
    Options,
}

impl HttpMethod {
    /// The method as it appears in the request line and in the v3 string to sign.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Patch => "PATCH",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the fields that are neither path nor query parameters travel in v3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum V3Body {
    /// No body (GET, DELETE, ...).
    Empty,
    /// `application/json`.
    Json,
    /// `multipart/form-data`: a JSON part named `data` with the other fields when `data_part` is set,
    /// plus [`AlipayRequest::files`]. The v3 signature covers the `data` JSON.
    Multipart {
        /// Whether the operation has a `data` part.
        data_part: bool,
    },
}

/// Where a v3 operation lives and how its fields are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct V3Route {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template: `/v3/alipay/marketing/activity/{activity_id}`.
    pub path: &'static str,
    /// Wire names of the fields substituted into the path.
    pub path_params: &'static [&'static str],
    /// Wire names of the fields sent in the query string, in this order.
    pub query_params: &'static [&'static str],
    /// How the remaining fields travel.
    pub body: V3Body,
}

/// The characters left as they are in a path segment or a query component: RFC 3986 unreserved.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => None,
        // Arrays and objects in a query parameter travel as JSON text.
        other => Some(other.to_string()),
    }
}

impl V3Route {
    /// A route, for operations that are not in the generated model (the fields are public, but
    /// the struct is `#[non_exhaustive]`, so this is the way to build one outside this crate).
    ///
    /// ```
    /// use alipay_model::{HttpMethod, V3Body, V3Route};
    ///
    /// let route = V3Route::new(HttpMethod::Get, "/v3/alipay/demo/{id}", &["id"], &["page"], V3Body::Empty);
    /// let fields = serde_json::json!({"id": "a b", "page": 2});
    /// let parts = route.split(fields.as_object().cloned().unwrap_or_default())?;
    /// assert_eq!(parts.target(), "/v3/alipay/demo/a%20b?page=2");
    /// assert_eq!(parts.body, None);
    /// # Ok::<(), alipay_model::Error>(())
    /// ```
    #[must_use]
    pub const fn new(
        method: HttpMethod,
        path: &'static str,
        path_params: &'static [&'static str],
        query_params: &'static [&'static str],
        body: V3Body,
    ) -> Self {
        Self {
            method,
            path,
            path_params,
            query_params,
            body,
        }
    }

    /// Splits serialised fields by this route.
    ///
    /// # Errors
    /// [`Error::is_missing_path_param`] when a path parameter is absent, null, an array or an object.
    pub fn split(&self, mut fields: Map<String, Value>) -> Result<V3Parts, Error> {
        let mut path = String::with_capacity(self.path.len());
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            path.push_str(&rest[..open]);
            let name = rest.get(open + 1..close).unwrap_or_default();
            let value = match fields.shift_remove(name) {
                Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => scalar(&v),
                _ => None,
            };
            let value = value.ok_or_else(|| Error::missing_path_param(name))?;
            path.extend(percent_encoding::utf8_percent_encode(&value, ENCODE));
            rest = rest.get(close + 1..).unwrap_or_default();
        }
        path.push_str(rest);
        for name in self.path_params {
            fields.shift_remove(*name);
        }
        let mut query = Vec::new();
        for name in self.query_params {
            if let Some(value) = fields.shift_remove(*name).as_ref().and_then(scalar) {
                query.push(((*name).to_owned(), value));
            }
        }
        let body = match self.body {
            V3Body::Empty | V3Body::Multipart { data_part: false } => None,
            V3Body::Json | V3Body::Multipart { data_part: true } => {
                Some(serde_json::to_string(&fields).map_err(Error::json)?)
            }
        };
        Ok(V3Parts {
            method: self.method,
            path,
            query,
            body,
        })
    }
}

/// The v3 route of the operation named `method` (`alipay.trade.query`), from the generated
/// table of every operation of the vendored OpenAPI description — available whatever family
/// features are enabled, so untyped calls can find their HTTP method, path and parameters.
///
/// ```
/// use alipay_model::{HttpMethod, V3Body, v3_route};
///
/// let route = v3_route("alipay.trade.query").expect("a known operation");
/// assert_eq!(route.method, HttpMethod::Post);
/// assert_eq!(route.path, "/v3/alipay/trade/query");
/// assert_eq!(route.body, V3Body::Json);
/// assert!(v3_route("alipay.no.such.method").is_none());
/// ```
#[must_use]
pub fn v3_route(method: &str) -> Option<V3Route> {
    let routes = crate::generated::routes::ROUTES;
    routes
        .binary_search_by(|(name, _)| (*name).cmp(method))
        .ok()
        .and_then(|i| routes.get(i))
        .map(|(_, route)| *route)
}

/// The names and v3 routes of every operation of the generated table, sorted by name.
pub fn v3_routes() -> impl ExactSizeIterator<Item = (&'static str, V3Route)> {
    crate::generated::routes::ROUTES
        .iter()
        .map(|(name, route)| (*name, *route))
}

/// A v3 request, ready for the transport (which adds the host, headers and signature).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct V3Parts {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path with its parameters substituted and percent-encoded.
    pub path: String,
    /// The query parameters that are set, unencoded, in route order.
    pub query: Vec<(String, String)>,
    /// The JSON body (or the multipart `data` part), if the route has one.
    pub body: Option<String>,
}

impl V3Parts {
    /// The request target as sent and signed: the path, then `?` and the query, each name and value
    /// percent-encoded (RFC 3986 unreserved characters kept, space as `%20`).
    #[must_use]
    pub fn target(&self) -> String {
        let mut target = self.path.clone();
        for (i, (name, value)) in self.query.iter().enumerate() {
            target.push(if i == 0 { '?' } else { '&' });
            target.extend(percent_encoding::utf8_percent_encode(name, ENCODE));
            target.push('=');
            target.extend(percent_encoding::utf8_percent_encode(value, ENCODE));
        }
        target
    }
}

/// A file to upload in a multipart request.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FileContent {
    /// The file name sent in the part's `Content-Disposition`.
    pub file_name: String,
    /// The part's `Content-Type`; `None` lets the transport choose (usually from the name).
    pub content_type: Option<String>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl FileContent {
    /// A file with a name and its bytes.
    #[must_use]
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            file_name: file_name.into(),
            content_type: None,
            bytes: bytes.into(),
        }
    }

    /// Sets the part's `Content-Type`.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }
}

impl fmt::Debug for FileContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileContent")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// One file part of an upload: the part name (the wire field) and the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilePart<'a> {
    /// The multipart part name: `file_content`, `image_content`, ...
    pub name: &'static str,
    /// The file.
    pub file: &'a FileContent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROUTE: V3Route = V3Route {
        method: HttpMethod::Post,
        path: "/v3/x/{activity_id}/voucher/{voucher_code}/use",
        path_params: &["activity_id", "voucher_code"],
        query_params: &["auth_token", "page"],
        body: V3Body::Json,
    };

    fn fields(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn splits_path_query_and_body() {
        let parts = ROUTE
            .split(fields(json!({
                "activity_id": "A 1/2", "voucher_code": 7, "auth_token": "t+k", "page": 2,
                "biz": {"x": "y"}, "n": "中"
            })))
            .unwrap();
        assert_eq!(parts.path, "/v3/x/A%201%2F2/voucher/7/use");
        assert_eq!(
            parts.query,
            vec![
                ("auth_token".into(), "t+k".into()),
                ("page".into(), "2".into())
            ]
        );
        assert_eq!(
            parts.target(),
            "/v3/x/A%201%2F2/voucher/7/use?auth_token=t%2Bk&page=2"
        );
        assert_eq!(parts.body.as_deref(), Some(r#"{"biz":{"x":"y"},"n":"中"}"#));
    }

    #[test]
    fn missing_path_parameter_is_an_error() {
        let err = ROUTE
            .split(fields(json!({"activity_id": "A"})))
            .unwrap_err();
        assert!(err.is_missing_path_param());
        assert_eq!(err.to_string(), "path parameter `voucher_code` is not set");
        let err = ROUTE
            .split(fields(json!({"activity_id": ["A"], "voucher_code": "v"})))
            .unwrap_err();
        assert_eq!(err.to_string(), "path parameter `activity_id` is not set");
    }

    #[test]
    fn empty_body_and_absent_query() {
        let route = V3Route {
            body: V3Body::Empty,
            method: HttpMethod::Get,
            ..ROUTE
        };
        let parts = route
            .split(fields(json!({"activity_id": "a", "voucher_code": "b"})))
            .unwrap();
        assert_eq!(parts.target(), "/v3/x/a/voucher/b/use");
        assert_eq!(parts.body, None);
        assert_eq!(parts.method.as_str(), "GET");
    }

    #[cfg(feature = "merchant")]
    #[test]
    fn uploads_list_their_file_parts_and_send_the_rest_as_data() {
        use crate::merchant::ImageUploadRequest;
        const { assert!(ImageUploadRequest::UPLOAD) };
        let file = FileContent::new("logo.png", b"\x89PNG".to_vec());
        let request = ImageUploadRequest::default()
            .image_type("png")
            .image_content(file.clone());
        assert_eq!(
            request.files(),
            vec![FilePart {
                name: "image_content",
                file: &file
            }]
        );
        assert_eq!(request.biz_content().unwrap(), r#"{"image_type":"png"}"#);
        let parts = request.v3_parts().unwrap();
        assert_eq!(
            ImageUploadRequest::V3.unwrap().body,
            V3Body::Multipart { data_part: true }
        );
        assert_eq!(parts.body.as_deref(), Some(r#"{"image_type":"png"}"#));
        assert!(ImageUploadRequest::default().files().is_empty());
    }

    #[test]
    fn file_content_debug_hides_bytes() {
        let file = FileContent::new("a.png", vec![1, 2, 3]).content_type("image/png");
        assert_eq!(
            format!("{file:?}"),
            r#"FileContent { file_name: "a.png", content_type: Some("image/png"), len: 3 }"#
        );
    }

    #[test]
    fn route_table_is_sorted_unique_and_complete() {
        let names: Vec<&str> = v3_routes().map(|(name, _)| name).collect();
        assert_eq!(names.len(), 747);
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        for (name, route) in v3_routes() {
            assert_eq!(v3_route(name), Some(route), "{name}");
            assert!(route.path.starts_with("/v3/"), "{name}: {}", route.path);
        }
    }

    #[test]
    fn route_lookup_returns_the_generated_routes() {
        assert_eq!(
            v3_route("alipay.trade.advance.consult").map(|r| (r.method, r.path, r.body)),
            Some((
                HttpMethod::Get,
                "/v3/alipay/trade/advance/consult",
                V3Body::Empty
            ))
        );
        assert_eq!(
            v3_route("alipay.marketing.material.image.upload").map(|r| r.body),
            Some(V3Body::Multipart { data_part: true })
        );
        assert_eq!(v3_route(""), None);
        assert_eq!(v3_route("alipay.trade.query "), None);
        assert_eq!(v3_route("ALIPAY.TRADE.QUERY"), None);
    }

    #[cfg(feature = "trade")]
    #[test]
    fn route_lookup_agrees_with_the_typed_requests() {
        use crate::trade::{AdvanceConsultRequest, QueryRequest, RefundRequest};
        fn same<R: AlipayRequest>() {
            assert_eq!(v3_route(R::METHOD), R::V3, "{}", R::METHOD);
        }
        same::<AdvanceConsultRequest>();
        same::<QueryRequest>();
        same::<RefundRequest>();
    }

    #[test]
    fn new_builds_the_same_route_as_a_literal() {
        const BUILT: V3Route = V3Route::new(
            HttpMethod::Post,
            "/v3/x/{activity_id}/voucher/{voucher_code}/use",
            &["activity_id", "voucher_code"],
            &["auth_token", "page"],
            V3Body::Json,
        );
        assert_eq!(BUILT, ROUTE);
    }
}
