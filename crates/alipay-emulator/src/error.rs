//! The one error type of the crate.

use std::error::Error as StdError;
use std::fmt;

/// What went wrong while starting, configuring or talking to an emulator.
///
/// Opaque: ask with the `is_*` predicates; the cause, if any, is in [`StdError::source`]. The
/// message never holds key material.
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Io,
    Key,
    Config,
    Http,
    Control,
    State,
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(Kind::Io, message).with_source(source)
    }

    pub(crate) fn key(message: impl Into<String>) -> Self {
        Self::new(Kind::Key, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }

    pub(crate) fn http(message: impl Into<String>) -> Self {
        Self::new(Kind::Http, message)
    }

    pub(crate) fn control(message: impl Into<String>) -> Self {
        Self::new(Kind::Control, message)
    }

    pub(crate) fn state(message: impl Into<String>) -> Self {
        Self::new(Kind::State, message)
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// A file or socket operation failed (binding the port, reading or writing `--state`).
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }

    /// A key or certificate could not be generated, read or used.
    pub fn is_key(&self) -> bool {
        self.kind == Kind::Key
    }

    /// A builder setting or an app registration was not acceptable.
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }

    /// An HTTP exchange failed (the control client could not reach the emulator, or got a
    /// response it could not read).
    pub fn is_http(&self) -> bool {
        self.kind == Kind::Http
    }

    /// The control API refused a request (unknown trade, a state that does not allow it, …);
    /// the message is the API's `error` text.
    pub fn is_control(&self) -> bool {
        self.kind == Kind::Control
    }

    /// The `--state` folder holds data this version cannot read.
    pub fn is_state(&self) -> bool {
        self.kind == Kind::State
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<alipay_sign::Error> for Error {
    fn from(e: alipay_sign::Error) -> Self {
        Error::key("a key or certificate operation failed").with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_and_source_chain() {
        let e = Error::io("cannot bind 127.0.0.1:1", std::io::Error::other("denied"));
        assert!(e.is_io() && !e.is_key() && !e.is_config());
        assert_eq!(e.to_string(), "cannot bind 127.0.0.1:1");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("denied")
        );
        assert!(Error::control("no trade T1").is_control());
        assert!(Error::state("bad").is_state());
        assert!(Error::http("x").is_http());
    }
}
