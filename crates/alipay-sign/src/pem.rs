//! Tolerant reading of what users paste: PEM blocks (wrapped or one-line bodies, LF or CRLF,
//! blank lines between blocks), bare base64 with whitespace, or raw DER.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Base64Source, Error};

/// How the input was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// `-----BEGIN …-----` armour.
    Pem,
    /// Base64 without armour (whitespace tolerated).
    Base64,
    /// Binary DER.
    Der,
}

impl Encoding {
    /// The name used by the CLI: `pem`, `base64` or `der`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Pem => "pem",
            Encoding::Base64 => "base64",
            Encoding::Der => "der",
        }
    }
}

/// One decoded block: its PEM label (if any) and DER bytes.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) label: Option<String>,
    pub(crate) der: Vec<u8>,
}

/// Splits input into DER blocks and says how it was encoded.
pub(crate) fn decode_blocks(input: &[u8]) -> Result<(Encoding, Vec<Block>), Error> {
    let text = std::str::from_utf8(input).ok();
    match text {
        Some(t) if t.contains("-----BEGIN ") => Ok((Encoding::Pem, decode_pem(t)?)),
        Some(t) if !t.trim().is_empty() && looks_like_base64(t) => {
            let der = decode_base64_lenient(t).map_err(|e| {
                Error::key("the input looks like base64 but does not decode").with_source(e)
            })?;
            Ok((Encoding::Base64, vec![Block { label: None, der }]))
        }
        _ => {
            if input.first() == Some(&0x30) {
                Ok((
                    Encoding::Der,
                    vec![Block {
                        label: None,
                        der: input.to_vec(),
                    }],
                ))
            } else if input.iter().all(u8::is_ascii_whitespace) {
                Err(Error::key(
                    "the input is empty; a PEM, base64 or DER key or certificate was expected",
                ))
            } else {
                Err(Error::key(
                    "the input is neither PEM, base64 nor DER; a key or certificate was expected",
                ))
            }
        }
    }
}

fn looks_like_base64(t: &str) -> bool {
    t.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
    })
}

/// Decodes base64 with any ASCII whitespace inside.
pub(crate) fn decode_base64_lenient(t: &str) -> Result<Vec<u8>, Base64Source> {
    let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact.as_bytes()).map_err(Base64Source)
}

fn decode_pem(text: &str) -> Result<Vec<Block>, Error> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after_begin = &rest[begin + "-----BEGIN ".len()..];
        let label_end = after_begin
            .find("-----")
            .ok_or_else(|| Error::key("a PEM BEGIN line is not closed with -----"))?;
        let label = after_begin[..label_end].trim().to_owned();
        let body_start = &after_begin[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start.find(&end_marker).ok_or_else(|| {
            Error::key(format!(
                "the PEM block \"{label}\" has no matching \"{end_marker}\" line"
            ))
        })?;
        let body = &body_start[..body_end];
        if body.contains(':') {
            return Err(Error::unsupported(format!(
                "the PEM block \"{label}\" has headers (an encrypted legacy key?); export the key without a passphrase"
            )));
        }
        let der = decode_base64_lenient(body).map_err(|e| {
            Error::key(format!(
                "the body of the PEM block \"{label}\" is not valid base64"
            ))
            .with_source(e)
        })?;
        blocks.push(Block {
            label: Some(label),
            der,
        });
        rest = &body_start[body_end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err(Error::key("no PEM block found"));
    }
    Ok(blocks)
}

/// Encodes DER as PEM with 64-column lines and a trailing newline.
pub(crate) fn encode_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    let bytes = b64.as_bytes();
    for chunk in bytes.chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_variants_decode_to_the_same_bytes() {
        let der = (0u8..100).collect::<Vec<_>>();
        let wrapped = encode_pem("PUBLIC KEY", &der);
        let one_line = format!(
            "-----BEGIN PUBLIC KEY-----{}-----END PUBLIC KEY-----",
            STANDARD.encode(&der)
        );
        let crlf = wrapped.replace('\n', "\r\n");
        let no_trailing = wrapped.trim_end().to_owned();
        for text in [wrapped, one_line, crlf, no_trailing] {
            let (enc, blocks) = decode_blocks(text.as_bytes()).unwrap();
            assert_eq!(enc, Encoding::Pem);
            assert_eq!(blocks.len(), 1);
            assert_eq!(blocks[0].label.as_deref(), Some("PUBLIC KEY"));
            assert_eq!(blocks[0].der, der);
        }
    }

    #[test]
    fn bare_base64_with_whitespace_and_der() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x01];
        let b64 = format!("  {}\n", STANDARD.encode(&der));
        let (enc, blocks) = decode_blocks(b64.as_bytes()).unwrap();
        assert_eq!(enc, Encoding::Base64);
        assert_eq!(blocks[0].der, der);
        let (enc, blocks) = decode_blocks(&der).unwrap();
        assert_eq!(enc, Encoding::Der);
        assert_eq!(blocks[0].der, der);
    }

    #[test]
    fn broken_inputs_are_key_errors() {
        assert!(decode_blocks(b"").unwrap_err().is_key());
        assert!(
            decode_blocks(b"-----BEGIN X-----\nAAAA\n")
                .unwrap_err()
                .is_key()
        );
        assert!(
            decode_blocks(b"-----BEGIN X-----\n!!!!\n-----END X-----")
                .unwrap_err()
                .is_key()
        );
        assert!(decode_blocks(b"abc=def").unwrap_err().is_key());
        assert!(decode_blocks(&[0xff, 0x00]).unwrap_err().is_key());
        assert!(decode_blocks(b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----")
            .unwrap_err()
            .is_unsupported());
    }
}
