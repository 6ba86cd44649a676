//! `JSON.stringify` for parsed JSON values: how the Node SDK turns a non-string request
//! parameter (a `biz_content` object, a number) into the text that is signed.
//!
//! Compact, object keys in input order, literal UTF-8, the same string escapes as
//! `JSON.stringify` (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as lowercase
//! `\u00xx`), and numbers as JavaScript prints them (`1.0` → `1`, `1e21` → `1e+21`,
//! `0.0000001` → `1e-7`, integers beyond 2^53 rounded as a JavaScript number would be).
//! One deliberate difference: JavaScript moves integer-like keys (`"1"`, `"2"`) to the front of
//! an object; CLI.md asks for input key order, which is what this keeps.

use serde_json::{Number, Value};

/// The `JSON.stringify` text of `value`.
pub(crate) fn stringify(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&js_number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE: u64 = 1 << 53;

fn js_number(n: &Number) -> String {
    if let Some(u) = n.as_u64()
        && u <= MAX_SAFE
    {
        return u.to_string();
    }
    if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= MAX_SAFE
    {
        return i.to_string();
    }
    n.as_f64().map_or_else(|| "null".to_owned(), js_f64)
}

/// `Number.prototype.toString()` (ECMA-262 Number::toString with radix 10).
fn js_f64(v: f64) -> String {
    if !v.is_finite() {
        return "null".to_owned();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest digits that round-trip, as JavaScript does.
    let sci = format!("{:e}", v.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return sci;
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    // value = 0.digits × 10^n
    let n = exp + 1;
    let body = if k <= n && n <= 21 {
        let zeros = usize::try_from(n - k).unwrap_or(0);
        format!("{digits}{}", "0".repeat(zeros))
    } else if 0 < n && n <= 21 {
        let split = usize::try_from(n).unwrap_or(0);
        format!("{}.{}", &digits[..split], &digits[split..])
    } else if -6 < n && n <= 0 {
        let zeros = usize::try_from(-n).unwrap_or(0);
        format!("0.{}{digits}", "0".repeat(zeros))
    } else {
        let e = n - 1;
        let e = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if digits.len() == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(json: &str) -> String {
        stringify(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn like_json_stringify() {
        assert_eq!(
            s(r#"{ "b" : 1, "a" : [true, null, "中文 \" \\ \n \u0001 / \u2028"] }"#),
            "{\"b\":1,\"a\":[true,null,\"中文 \\\" \\\\ \\n \\u0001 / \u{2028}\"]}"
        );
        assert_eq!(s(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn numbers_like_javascript() {
        for (input, js) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("1.50", "1.5"),
            ("-12.25", "-12.25"),
            ("88.88", "88.88"),
            ("0.1", "0.1"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("1.5e-7", "1.5e-7"),
            ("123456789012345680000", "123456789012345680000"),
            ("1e21", "1e+21"),
            ("1.25e21", "1.25e+21"),
            ("9007199254740993", "9007199254740992"),
            ("12345678901234567890", "12345678901234567000"),
            ("-9007199254740993", "-9007199254740992"),
            ("9007199254740992", "9007199254740992"),
            ("1e400", "null"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ] {
            let parsed: Result<Value, _> = serde_json::from_str(input);
            match parsed {
                Ok(v) => assert_eq!(stringify(&v), js, "{input}"),
                // serde_json refuses numbers out of f64 range; JSON.parse gives Infinity there.
                Err(_) => assert_eq!(input, "1e400"),
            }
        }
    }
}
