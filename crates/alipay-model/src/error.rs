//! The error of building a request.

use std::fmt;

/// Why a request could not be turned into wire parts.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Json(serde_json::Error),
    NotV3(&'static str),
    NotAnObject(&'static str),
    MissingPathParam(String),
}

impl Error {
    pub(crate) fn json(err: serde_json::Error) -> Self {
        Self {
            kind: Kind::Json(err),
        }
    }

    pub(crate) fn not_v3(method: &'static str) -> Self {
        Self {
            kind: Kind::NotV3(method),
        }
    }

    pub(crate) fn not_an_object(method: &'static str) -> Self {
        Self {
            kind: Kind::NotAnObject(method),
        }
    }

    pub(crate) fn missing_path_param(name: &str) -> Self {
        Self {
            kind: Kind::MissingPathParam(name.to_owned()),
        }
    }

    /// Serialisation failed (only a hand-written `Serialize` can fail), or the request does not
    /// serialise as a JSON object.
    #[must_use]
    pub fn is_serialize(&self) -> bool {
        matches!(self.kind, Kind::Json(_) | Kind::NotAnObject(_))
    }

    /// The operation has no v3 route; call it through v2.
    #[must_use]
    pub fn is_not_v3(&self) -> bool {
        matches!(self.kind, Kind::NotV3(_))
    }

    /// A path parameter of the v3 route is not set (or is not a string, number or boolean).
    #[must_use]
    pub fn is_missing_path_param(&self) -> bool {
        matches!(self.kind, Kind::MissingPathParam(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Json(_) => f.write_str("cannot serialise the request as JSON"),
            Kind::NotV3(method) => write!(f, "`{method}` has no v3 route"),
            Kind::NotAnObject(method) => {
                write!(f, "`{method}` does not serialise as a JSON object")
            }
            Kind::MissingPathParam(name) => write!(f, "path parameter `{name}` is not set"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Json(err) => Some(err),
            _ => None,
        }
    }
}
