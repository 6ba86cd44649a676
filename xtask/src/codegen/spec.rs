//! Reading an OpenAPI 3 document (JSON or YAML) into the small model the generator needs.
//!
//! Only what codegen uses is read: operations (method name = `operationId`, HTTP method, path,
//! parameters, request body, 200 response, error response) and the object schemas they reach. Anything
//! the model cannot express becomes `serde_json::Value` rather than a guess.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

/// The type of a wire value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Integer,
    Boolean,
    /// A JSON number that is not an integer: kept exact as `serde_json::Number`, never a float.
    Number,
    /// Anything the model does not type (free-form objects, `anyOf`, ...).
    Any,
    Array(Box<Ty>),
    /// A component schema, by its spec name.
    Ref(String),
    /// A binary multipart part.
    File,
    /// A hand-written Rust type chosen in `naming.toml` `[field_types]`.
    Override(String),
}

impl Ty {
    /// The component schemas this type mentions.
    pub(crate) fn refs(&self, out: &mut BTreeSet<String>) {
        match self {
            Self::Ref(name) => {
                out.insert(name.clone());
            }
            Self::Array(inner) => inner.refs(out),
            _ => {}
        }
    }
}

/// A named wire field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prop {
    pub(crate) name: String,
    pub(crate) ty: Ty,
    pub(crate) description: Option<String>,
}

/// An object schema of `components/schemas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    pub(crate) description: Option<String>,
    pub(crate) props: Vec<Prop>,
    /// The values of an enumerated `code` property (error models).
    pub(crate) code_enum: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No request body (GET, DELETE, or a POST without one).
    None,
    /// `application/json`.
    Json,
    /// `multipart/form-data`; `data_part` tells whether a JSON `data` part carries the non-file fields.
    Multipart { data_part: bool },
}

/// One API operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    /// The Alipay method name (`operationId`), e.g. `alipay.trade.query`.
    pub(crate) method: String,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    /// Upper-case HTTP method of the v3 route.
    pub(crate) http_method: String,
    pub(crate) path: String,
    pub(crate) params: Vec<(Location, Prop)>,
    pub(crate) body_kind: BodyKind,
    /// Fields of the JSON body, or of the multipart `data` part.
    pub(crate) body: Vec<Prop>,
    /// Names of the binary multipart parts.
    pub(crate) files: Vec<String>,
    pub(crate) response: Vec<Prop>,
    pub(crate) response_description: Option<String>,
    /// The operation's own error `code` values (common error models excluded), if it has any.
    pub(crate) error_codes: Option<Vec<String>>,
}

/// The whole API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Api {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) operations: Vec<Operation>,
    pub(crate) schemas: BTreeMap<String, Schema>,
}

/// Reads a JSON or YAML file into a JSON value. YAML mapping keys that are numbers or booleans (the
/// official description writes `"200":` but other writers emit `200:`) become strings.
pub(crate) fn load_document(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    parse_document(&text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Parses JSON (a document starting with `{`) or YAML text.
pub(crate) fn parse_document(text: &str) -> Result<Value, String> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|err| format!("invalid JSON: {err}"))
    } else {
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).map_err(|err| format!("invalid YAML: {err}"))?;
        yaml_to_json(yaml)
    }
}

fn yaml_to_json(yaml: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::from_str(&n.to_string())
            .map_err(|err| format!("YAML number {n} is not a JSON number: {err}"))?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported YAML mapping key {other:?}")),
                };
                out.insert(key, yaml_to_json(value)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

const HTTP_METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Builds the model of an OpenAPI document. `common_errors` are the error schemas whose codes are not
/// an operation's own; `field_types` maps `Schema.property` to a hand-written Rust type.
pub(crate) fn read_api(
    doc: &Value,
    common_errors: &[String],
    field_types: &BTreeMap<String, String>,
) -> Result<Api, String> {
    let reader = Reader {
        doc,
        field_types,
        used: RefCell::new(BTreeSet::new()),
    };
    let info = doc.get("info");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let title = text(info.and_then(|i| i.get("title")));
    let version = text(info.and_then(|i| i.get("version")));

    let mut schemas = BTreeMap::new();
    if let Some(all) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in all {
            schemas.insert(name.clone(), reader.schema(name, schema)?);
        }
    }

    let mut operations = Vec::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the document has no `paths`")?;
    for (path, item) in paths {
        let item = item
            .as_object()
            .ok_or_else(|| format!("path {path} is not an object"))?;
        let shared_params = item.get("parameters");
        for method in HTTP_METHODS {
            let Some(op) = item.get(method) else { continue };
            operations.push(reader.operation(path, method, op, shared_params, common_errors)?);
        }
    }
    operations.sort_by(|a, b| a.method.cmp(&b.method));
    for pair in operations.windows(2) {
        if pair[0].method == pair[1].method {
            return Err(format!("operationId {} is used twice", pair[0].method));
        }
    }
    let used = reader.used.into_inner();
    if let Some(unused) = field_types.keys().find(|k| !used.contains(*k)) {
        return Err(format!(
            "naming.toml [field_types]: `{unused}` names no field of the spec"
        ));
    }
    Ok(Api {
        title,
        version,
        operations,
        schemas,
    })
}

struct Reader<'a> {
    doc: &'a Value,
    field_types: &'a BTreeMap<String, String>,
    used: RefCell<BTreeSet<String>>,
}

fn description(v: &Value) -> Option<String> {
    v.get("description")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref").and_then(Value::as_str)
}

impl<'a> Reader<'a> {
    /// Follows a local `$ref` (any number of times).
    fn resolve(&self, mut v: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..32 {
            let Some(target) = ref_name(v) else {
                return Ok(v);
            };
            let pointer = target
                .strip_prefix('#')
                .ok_or_else(|| format!("only local $refs are supported: {target}"))?;
            v = self
                .doc
                .pointer(pointer)
                .ok_or_else(|| format!("unresolved $ref {target}"))?;
        }
        Err("$ref chain too long".to_owned())
    }

    fn schema(&self, name: &str, v: &Value) -> Result<Schema, String> {
        let name = ref_name(v)
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or(name);
        let v = self.resolve(v)?;
        let mut props = Vec::new();
        let mut code_enum = None;
        if let Some(properties) = v.get("properties").and_then(Value::as_object) {
            for (prop, pv) in properties {
                let key = format!("{name}.{prop}");
                let ty = match self.field_types.get(&key) {
                    Some(rust) => {
                        self.used.borrow_mut().insert(key);
                        Ty::Override(rust.clone())
                    }
                    None => self.ty(pv).map_err(|err| format!("{key}: {err}"))?,
                };
                if let Some(values) = pv.get("enum").and_then(Value::as_array)
                    && prop == "code"
                {
                    let mut seen = BTreeSet::new();
                    let mut codes = Vec::new();
                    for value in values {
                        let value = value
                            .as_str()
                            .ok_or_else(|| format!("{name}.code: non-string enum value"))?;
                        if seen.insert(value) {
                            codes.push(value.to_owned());
                        }
                    }
                    code_enum = Some(codes);
                }
                props.push(Prop {
                    name: prop.clone(),
                    ty,
                    description: description(pv),
                });
            }
        }
        Ok(Schema {
            description: description(v),
            props,
            code_enum,
        })
    }

    fn ty(&self, v: &Value) -> Result<Ty, String> {
        if let Some(target) = ref_name(v) {
            return match target.strip_prefix("#/components/schemas/") {
                Some(name) => {
                    let resolved = self.resolve(v)?;
                    // A $ref to a scalar or array schema is that type; to an object, a named type.
                    if is_object(resolved) {
                        Ok(Ty::Ref(name.to_owned()))
                    } else {
                        self.ty(resolved)
                    }
                }
                None => self.ty(self.resolve(v)?),
            };
        }
        let ty = v.get("type").and_then(Value::as_str);
        Ok(match ty {
            Some("string") if v.get("format").and_then(Value::as_str) == Some("binary") => Ty::File,
            Some("string") => Ty::String,
            Some("integer") => Ty::Integer,
            Some("boolean") => Ty::Boolean,
            Some("number") => Ty::Number,
            Some("array") => match v.get("items") {
                Some(items) => Ty::Array(Box::new(self.ty(items)?)),
                None => Ty::Array(Box::new(Ty::Any)),
            },
            _ => Ty::Any,
        })
    }

    /// The properties of a body or response schema, which is a `$ref` or inline.
    fn props_of(&self, v: &Value, context: &str) -> Result<Vec<Prop>, String> {
        Ok(self.schema(context, v)?.props)
    }

    fn operation(
        &self,
        path: &str,
        method: &str,
        op: &Value,
        shared_params: Option<&Value>,
        common_errors: &[String],
    ) -> Result<Operation, String> {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{method} {path} has no operationId"))?;
        let ctx = |err: String| format!("{id}: {err}");

        let mut params = Vec::new();
        let all_params = shared_params
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        for param in all_params {
            let param = self.resolve(param).map_err(ctx)?;
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let location = match param.get("in").and_then(Value::as_str) {
                Some("path") => Location::Path,
                Some("query") => Location::Query,
                // Headers and cookies are the transport's business.
                _ => continue,
            };
            let ty = match param.get("schema") {
                Some(schema) => self.ty(schema).map_err(ctx)?,
                None => Ty::String,
            };
            let prop = Prop {
                name: name.to_owned(),
                ty,
                description: description(param),
            };
            params.retain(|(_, p): &(Location, Prop)| p.name != name);
            params.push((location, prop));
        }

        let mut body_kind = BodyKind::None;
        let mut body = Vec::new();
        let mut files = Vec::new();
        if let Some(request_body) = op.get("requestBody") {
            let request_body = self.resolve(request_body).map_err(ctx)?;
            let content = request_body.get("content").and_then(Value::as_object);
            if let Some(json) = content.and_then(|c| c.get("application/json")) {
                body_kind = BodyKind::Json;
                if let Some(schema) = json.get("schema") {
                    body = self.props_of(schema, id).map_err(ctx)?;
                }
            } else if let Some(multipart) = content.and_then(|c| c.get("multipart/form-data")) {
                let schema = multipart
                    .get("schema")
                    .ok_or_else(|| ctx("multipart without schema".into()))?;
                let schema = self.resolve(schema).map_err(ctx)?;
                let mut data_part = false;
                for prop in self.props_of(schema, id).map_err(ctx)? {
                    match prop.ty {
                        Ty::File => files.push(prop.name),
                        Ty::Ref(_) if prop.name == "data" => {
                            data_part = true;
                            let data = schema.pointer("/properties/data").unwrap_or(&Value::Null);
                            body = self.props_of(data, id).map_err(ctx)?;
                        }
                        // A text part that is not `data`: carried like a body field.
                        _ => body.push(prop),
                    }
                }
                body_kind = BodyKind::Multipart { data_part };
            } else if content.is_some_and(|c| !c.is_empty()) {
                return Err(ctx("unsupported request content type".into()));
            }
        }

        let responses = op.get("responses");
        let mut response = Vec::new();
        let mut response_description = None;
        if let Some(ok) = responses.and_then(|r| r.get("200").or_else(|| r.get("201"))) {
            let ok = self.resolve(ok).map_err(ctx)?;
            if let Some(schema) = ok.pointer("/content/application~1json/schema") {
                response = self.props_of(schema, id).map_err(ctx)?;
                response_description = description(self.resolve(schema).map_err(ctx)?);
            }
        }

        let mut error_codes = None;
        if let Some(default) = responses.and_then(|r| r.get("default")) {
            let default = self.resolve(default).map_err(ctx)?;
            if let Some(schema) = default.pointer("/content/application~1json/schema") {
                error_codes = self.error_codes(schema, common_errors).map_err(ctx)?;
            }
        }

        Ok(Operation {
            method: id.to_owned(),
            summary: op
                .get("summary")
                .and_then(Value::as_str)
                .map(str::trim)
                .map(str::to_owned),
            description: description(op),
            http_method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            params,
            body_kind,
            body,
            files,
            response,
            response_description,
            error_codes,
        })
    }

    /// The `code` enumeration of an error schema that is not one of the common ones, looking through
    /// `$ref`, `anyOf` and `oneOf`.
    fn error_codes(
        &self,
        schema: &Value,
        common: &[String],
    ) -> Result<Option<Vec<String>>, String> {
        if let Some(target) = ref_name(schema) {
            let name = target.rsplit('/').next().unwrap_or_default();
            if common.iter().any(|c| c == name) {
                return Ok(None);
            }
        }
        let resolved = self.resolve(schema)?;
        for key in ["anyOf", "oneOf"] {
            if let Some(members) = resolved.get(key).and_then(Value::as_array) {
                let mut found = None;
                for member in members {
                    if let Some(codes) = self.error_codes(member, common)? {
                        if found.is_some() {
                            return Err("more than one operation error schema".into());
                        }
                        found = Some(codes);
                    }
                }
                return Ok(found);
            }
        }
        Ok(self.schema("error", resolved)?.code_enum)
    }
}

fn is_object(v: &Value) -> bool {
    v.get("properties").is_some() || v.get("type").and_then(Value::as_str) == Some("object")
}
