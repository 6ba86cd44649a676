//! `multipart/form-data` bodies for uploads (PROTOCOL §7.6).

use alipay_sign::Charset;
use bytes::Bytes;

use crate::encode::random_hex;

#[derive(Debug, Clone)]
struct Part {
    name: String,
    file_name: Option<String>,
    content_type: String,
    bytes: Bytes,
}

/// A multipart body: text parts first, then files.
#[derive(Debug, Clone)]
pub(crate) struct Multipart {
    boundary: String,
    texts: Vec<Part>,
    files: Vec<Part>,
}

/// Quotes a part or file name: `"` and line breaks cannot appear inside the quoted string.
fn quoted(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '"' => "%22".to_owned(),
            '\r' => "%0D".to_owned(),
            '\n' => "%0A".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

impl Multipart {
    pub(crate) fn new() -> Self {
        Multipart {
            boundary: format!("alipayrs{}", random_hex()),
            texts: Vec::new(),
            files: Vec::new(),
        }
    }

    #[cfg(test)]
    fn with_boundary(boundary: &str) -> Self {
        Multipart {
            boundary: boundary.to_owned(),
            texts: Vec::new(),
            files: Vec::new(),
        }
    }

    /// A text part (v2 application parameters), in the request charset.
    pub(crate) fn text_first(&mut self, name: &str, value: &str, charset: Charset) {
        let bytes = charset.encode(value).map_or_else(
            |_| Bytes::from(value.as_bytes().to_vec()),
            |b| Bytes::from(b.into_owned()),
        );
        self.texts.push(Part {
            name: name.to_owned(),
            file_name: None,
            content_type: format!("text/plain;charset={}", charset.as_str()),
            bytes,
        });
    }

    /// A JSON part (the v3 `data` part).
    pub(crate) fn json(&mut self, name: &str, json: &str) {
        self.texts.push(Part {
            name: name.to_owned(),
            file_name: None,
            content_type: "application/json".to_owned(),
            bytes: Bytes::from(json.as_bytes().to_vec()),
        });
    }

    /// A file part.
    pub(crate) fn file(&mut self, name: &str, file: &alipay_model::FileContent) {
        self.files.push(Part {
            name: name.to_owned(),
            file_name: Some(file.file_name.clone()),
            content_type: file
                .content_type
                .clone()
                .unwrap_or_else(|| content_type_for(&file.file_name).to_owned()),
            bytes: Bytes::from(file.bytes.clone()),
        });
    }

    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub(crate) fn finish(&self) -> Bytes {
        let mut out = Vec::new();
        for p in self.texts.iter().chain(self.files.iter()) {
            out.extend_from_slice(b"--");
            out.extend_from_slice(self.boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(quoted(&p.name).as_bytes());
            out.push(b'"');
            if let Some(f) = &p.file_name {
                out.extend_from_slice(b"; filename=\"");
                out.extend_from_slice(quoted(f).as_bytes());
                out.push(b'"');
            }
            out.extend_from_slice(b"\r\nContent-Type: ");
            out.extend_from_slice(p.content_type.as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&p.bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(self.boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        Bytes::from(out)
    }
}

fn content_type_for(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_body() {
        let mut m = Multipart::with_boundary("B");
        m.file(
            "file_content",
            &alipay_model::FileContent::new("a\".png", vec![1u8, 2]),
        );
        m.json("data", r#"{"biz_code":"x"}"#);
        m.text_first("biz_code", "中", Charset::Utf8);
        assert_eq!(m.content_type(), "multipart/form-data; boundary=B");
        let mut expected = b"--B\r\nContent-Disposition: form-data; name=\"data\"\r\nContent-Type: application/json\r\n\r\n{\"biz_code\":\"x\"}\r\n\
--B\r\nContent-Disposition: form-data; name=\"biz_code\"\r\nContent-Type: text/plain;charset=utf-8\r\n\r\n\xe4\xb8\xad\r\n\
--B\r\nContent-Disposition: form-data; name=\"file_content\"; filename=\"a%22.png\"\r\nContent-Type: image/png\r\n\r\n"
            .to_vec();
        expected.extend_from_slice(&[1, 2]);
        expected.extend_from_slice(b"\r\n--B--\r\n");
        assert_eq!(m.finish().as_ref(), expected.as_slice());
    }
}
