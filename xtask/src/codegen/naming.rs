//! The naming rules of `xtask/naming.toml`, applied.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `xtask/naming.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Naming {
    pub(crate) families: Families,
    pub(crate) types: Types,
    #[serde(default)]
    pub(crate) schema_renames: BTreeMap<String, String>,
    pub(crate) errors: Errors,
    pub(crate) operations: Operations,
    #[serde(default)]
    pub(crate) field_types: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) override_types: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Families {
    pub(crate) implicit_roots: Vec<String>,
    pub(crate) default: Vec<String>,
    pub(crate) common_module: String,
    pub(crate) handwritten: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Types {
    pub(crate) request_suffix: String,
    pub(crate) response_suffix: String,
    pub(crate) error_code_suffix: String,
    pub(crate) unknown_variant: String,
    pub(crate) extra_field: String,
    pub(crate) digit_prefix: String,
    pub(crate) digit_field_prefix: String,
    pub(crate) keyword_suffix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Errors {
    pub(crate) common: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Operations {
    pub(crate) skip: Vec<String>,
}

/// Rust's strict and reserved keywords (2024 edition), which cannot be field names.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A family: the first two segments of a method name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Family {
    /// `alipay.trade`
    pub(crate) key: String,
    /// `trade`
    pub(crate) module: String,
    /// `trade`, `zhima-credit`
    pub(crate) feature: String,
}

impl Naming {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|err| format!("naming.toml: {err}"))
    }

    /// The family of a method name, and the segments after it.
    pub(crate) fn family<'m>(&self, method: &'m str) -> Result<(Family, Vec<&'m str>), String> {
        let segments: Vec<&str> = method.split('.').collect();
        if segments.len() < 2 || segments.iter().any(|s| s.is_empty()) {
            return Err(format!("method name `{method}` does not have two segments"));
        }
        let key = format!("{}.{}", segments[0], segments[1]);
        let parts: Vec<&str> = if self
            .families
            .implicit_roots
            .iter()
            .any(|r| r == segments[0])
        {
            vec![segments[1]]
        } else {
            vec![segments[0], segments[1]]
        };
        let module = field_name(&parts.join("_"), &self.types);
        let feature = module.trim_end_matches('_').replace('_', "-");
        Ok((
            Family {
                key,
                module,
                feature,
            },
            segments[2..].to_vec(),
        ))
    }

    /// The base of an operation's type names: the segments after the family, each capitalised
    /// (`alipay.open.mini.version.audit.apply` -> `MiniVersionAuditApply`). An operation named by
    /// its family alone takes the family's last segment.
    pub(crate) fn operation_base(&self, method: &str) -> Result<String, String> {
        let (family, rest) = self.family(method)?;
        let words: Vec<&str> = if rest.is_empty() {
            family.key.rsplit('.').take(1).collect()
        } else {
            rest
        };
        Ok(type_name(
            &words.iter().map(|w| capitalise(w)).collect::<String>(),
            &self.types,
        ))
    }

    /// The Rust name of a component schema.
    pub(crate) fn schema_type(&self, schema: &str) -> String {
        match self.schema_renames.get(schema) {
            Some(renamed) => renamed.clone(),
            None => type_name(schema, &self.types),
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A type name: letters, digits and `_` kept; anything else dropped with the next letter capitalised.
pub(crate) fn type_name(raw: &str, types: &Types) -> String {
    let mut out = String::new();
    for word in raw.split(|c: char| !c.is_ascii_alphanumeric()) {
        out.push_str(&capitalise(word));
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, &types.digit_prefix);
    }
    out
}

/// A field (or module) name: snake case of the wire name. `orderStr` -> `order_str`,
/// `h_5_pic` -> `h_5_pic`, `type` -> `type_`, `3d` -> `n_3d`.
pub(crate) fn field_name(wire: &str, types: &Types) -> String {
    let mut out = String::new();
    let mut prev_lower_or_digit = false;
    for c in wire.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower_or_digit = true;
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower_or_digit = false;
        }
    }
    let trimmed = out.trim_matches('_');
    let mut out = if trimmed.is_empty() {
        "field".to_owned()
    } else {
        trimmed.to_owned()
    };
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, &types.digit_field_prefix);
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push_str(&types.keyword_suffix);
    }
    out
}

/// An enum variant for a code value: `ACQ.SYSTEM_ERROR` -> `AcqSystemError`,
/// `invalid-parameter` -> `InvalidParameter`.
pub(crate) fn variant_name(code: &str, types: &Types) -> String {
    let mut out = String::new();
    for word in code.split(|c: char| !c.is_ascii_alphanumeric()) {
        out.push_str(&capitalise(&word.to_ascii_lowercase()));
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, &types.digit_prefix);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming() -> Naming {
        Naming::parse(include_str!("../../naming.toml")).unwrap()
    }

    #[test]
    fn families_and_type_bases() {
        let n = naming();
        let (family, rest) = n.family("alipay.trade.query").unwrap();
        assert_eq!(
            (family.key.as_str(), family.module.as_str()),
            ("alipay.trade", "trade")
        );
        assert_eq!(rest, ["query"]);
        let (family, _) = n.family("zhima.credit.pe.zmgo.agreement.query").unwrap();
        assert_eq!(family.module, "zhima_credit");
        assert_eq!(family.feature, "zhima-credit");
        assert_eq!(n.operation_base("alipay.trade.query").unwrap(), "Query");
        assert_eq!(
            n.operation_base("alipay.open.mini.version.audit.apply")
                .unwrap(),
            "MiniVersionAuditApply"
        );
        assert_eq!(
            n.operation_base("alipay.trade.fastpay.refund.query")
                .unwrap(),
            "FastpayRefundQuery"
        );
        assert_eq!(n.operation_base("monitor.heartbeat").unwrap(), "Heartbeat");
        assert_eq!(n.operation_base("alipay.x.3d.view").unwrap(), "N3dView");
        assert!(n.family("alipay").is_err());
    }

    #[test]
    fn field_names() {
        let t = naming().types;
        assert_eq!(field_name("out_trade_no", &t), "out_trade_no");
        assert_eq!(field_name("orderStr", &t), "order_str");
        assert_eq!(field_name("type", &t), "type_");
        assert_eq!(field_name("box", &t), "box_");
        assert_eq!(field_name("3d_url", &t), "n_3d_url");
        assert_eq!(field_name("h_5_pic", &t), "h_5_pic");
        assert_eq!(field_name("a-b.c", &t), "a_b_c");
    }

    #[test]
    fn variant_names() {
        let t = naming().types;
        assert_eq!(variant_name("ACQ.SYSTEM_ERROR", &t), "AcqSystemError");
        assert_eq!(variant_name("invalid-parameter", &t), "InvalidParameter");
        assert_eq!(
            variant_name("app-key-security-risk, app-cert-expired", &t),
            "AppKeySecurityRiskAppCertExpired"
        );
        assert_eq!(variant_name("40004", &t), "N40004");
    }
}
