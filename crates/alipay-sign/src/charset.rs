//! The request `charset`: which bytes a string is signed as.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A charset Alipay accepts in the `charset` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Charset {
    /// `utf-8` (the default).
    #[default]
    Utf8,
    /// `GBK` (`GB2312` is read as GBK, its superset).
    Gbk,
    /// `GB18030`.
    Gb18030,
}

impl Charset {
    /// The name to put in the `charset` parameter and `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Gbk => "GBK",
            Charset::Gb18030 => "GB18030",
        }
    }

    /// Recognises a charset label, case-insensitively (`utf-8`, `utf8`, `gbk`, `gb2312`,
    /// `gb18030`).
    pub fn from_label(label: &str) -> Result<Self, Error> {
        match label.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Charset::Utf8),
            "gbk" | "gb2312" | "cp936" | "x-gbk" => Ok(Charset::Gbk),
            "gb18030" => Ok(Charset::Gb18030),
            other => Err(Error::charset(format!(
                "unsupported charset \"{other}\"; expected utf-8, GBK, GB2312 or GB18030"
            ))),
        }
    }

    fn encoding(self) -> &'static encoding_rs::Encoding {
        match self {
            Charset::Utf8 => encoding_rs::UTF_8,
            Charset::Gbk => encoding_rs::GBK,
            Charset::Gb18030 => encoding_rs::GB18030,
        }
    }

    /// Encodes `text`; a character the charset cannot represent is an error that names it.
    pub fn encode<'a>(self, text: &'a str) -> Result<std::borrow::Cow<'a, [u8]>, Error> {
        if self == Charset::Utf8 {
            return Ok(std::borrow::Cow::Borrowed(text.as_bytes()));
        }
        let (bytes, _, had_errors) = self.encoding().encode(text);
        if had_errors {
            let bad = text
                .chars()
                .find(|c| {
                    let mut buf = [0u8; 4];
                    self.encoding().encode(c.encode_utf8(&mut buf)).2
                })
                .unwrap_or('\u{fffd}');
            return Err(Error::charset(format!(
                "the character {bad:?} (U+{:04X}) cannot be encoded in {}",
                u32::from(bad),
                self.as_str()
            )));
        }
        Ok(bytes)
    }

    /// Decodes bytes; malformed sequences are an error.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, Error> {
        self.encoding()
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or_else(|| Error::charset(format!("the bytes are not valid {}", self.as_str())))
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Charset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_label(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_round_trip_and_errors() {
        let bytes = Charset::Gbk.encode("中文").unwrap();
        assert_eq!(&*bytes, &[0xd6, 0xd0, 0xce, 0xc4]);
        assert_eq!(Charset::Gbk.decode(&bytes).unwrap(), "中文");
        let err = Charset::Gbk.encode("a😀").unwrap_err();
        assert!(err.is_charset());
        assert_eq!(
            err.to_string(),
            "the character '😀' (U+1F600) cannot be encoded in GBK"
        );
        // GB18030 covers every code point.
        assert_eq!(
            &*Charset::Gb18030.encode("😀").unwrap(),
            &[0x94, 0x39, 0xfc, 0x36]
        );
        assert!(Charset::Utf8.decode(&[0xff]).is_err());
        assert_eq!(Charset::from_label("GB2312").unwrap(), Charset::Gbk);
        assert!(Charset::from_label("latin1").unwrap_err().is_charset());
    }
}
