//! Where everything goes and what it is called: one module per family, component schemas in the one
//! family that uses them or in the common module, and a check that no two items share a name.

use std::collections::{BTreeMap, BTreeSet};

use super::naming::{Family, Naming, field_name, variant_name};
use super::spec::{Api, Operation, Prop};

/// One generated module.
#[derive(Debug, Clone)]
pub(crate) struct Module {
    pub(crate) name: String,
    /// `None` for the common module, which is always compiled.
    pub(crate) family: Option<Family>,
    /// Indices into `Api::operations`, in method-name order.
    pub(crate) operations: Vec<usize>,
    /// Component schemas defined here, by spec name.
    pub(crate) components: BTreeSet<String>,
    /// Common component schemas used here (re-exported), by spec name.
    pub(crate) common_uses: BTreeSet<String>,
    /// Common error schemas whose code enumeration is defined here (common module only).
    pub(crate) common_errors: BTreeSet<String>,
}

/// The plan of the whole output.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// By module name; the common module included.
    pub(crate) modules: BTreeMap<String, Module>,
    /// Module of every emitted component schema.
    pub(crate) placement: BTreeMap<String, String>,
    pub(crate) common: String,
}

/// The Rust names of one operation's items.
#[derive(Debug, Clone)]
pub(crate) struct OpNames {
    pub(crate) request: String,
    pub(crate) response: String,
    pub(crate) error_code: String,
}

pub(crate) fn op_names(op: &Operation, naming: &Naming) -> Result<OpNames, String> {
    let base = naming.operation_base(&op.method)?;
    let t = &naming.types;
    Ok(OpNames {
        request: format!("{base}{}", t.request_suffix),
        response: format!("{base}{}", t.response_suffix),
        error_code: format!("{base}{}", t.error_code_suffix),
    })
}

/// The name of a common error schema's code enumeration.
pub(crate) fn common_error_code_name(schema: &str, naming: &Naming) -> String {
    format!("{}Code", naming.schema_type(schema))
}

/// Fields of an operation's request type: path and query parameters, then body fields.
pub(crate) fn request_props(op: &Operation) -> impl Iterator<Item = &Prop> {
    op.params.iter().map(|(_, p)| p).chain(op.body.iter())
}

pub(crate) fn plan(api: &Api, naming: &Naming) -> Result<Plan, String> {
    let common = naming.families.common_module.clone();
    for skipped in &naming.operations.skip {
        if !api.operations.iter().any(|op| &op.method == skipped) {
            return Err(format!(
                "naming.toml [operations] skip: no operation `{skipped}`"
            ));
        }
    }

    let mut modules: BTreeMap<String, Module> = BTreeMap::new();
    let empty = |name: &str, family: Option<Family>| Module {
        name: name.to_owned(),
        family,
        operations: Vec::new(),
        components: BTreeSet::new(),
        common_uses: BTreeSet::new(),
        common_errors: BTreeSet::new(),
    };
    modules.insert(common.clone(), empty(&common, None));

    // Which families reach each component schema.
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (index, op) in api.operations.iter().enumerate() {
        if naming.operations.skip.contains(&op.method) {
            continue;
        }
        let (family, _) = naming.family(&op.method)?;
        let module = family.module.clone();
        if module == common {
            return Err(format!(
                "family {} would be named like the common module",
                family.key
            ));
        }
        match modules.get(&module) {
            Some(existing)
                if existing
                    .family
                    .as_ref()
                    .is_some_and(|f| f.key != family.key) =>
            {
                return Err(format!(
                    "families {} and {} both map to module `{module}`",
                    family.key,
                    existing.family.as_ref().map_or("", |f| f.key.as_str())
                ));
            }
            _ => {}
        }
        modules
            .entry(module.clone())
            .or_insert_with(|| empty(&module, Some(family)))
            .operations
            .push(index);

        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = Vec::new();
        for prop in request_props(op).chain(op.response.iter()) {
            let mut refs = BTreeSet::new();
            prop.ty.refs(&mut refs);
            stack.extend(refs);
        }
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let schema = api
                .schemas
                .get(&name)
                .ok_or_else(|| format!("{}: no schema {name}", op.method))?;
            for prop in &schema.props {
                let mut refs = BTreeSet::new();
                prop.ty.refs(&mut refs);
                stack.extend(refs);
            }
        }
        for name in seen {
            users.entry(name).or_default().insert(module.clone());
        }
    }

    let mut placement = BTreeMap::new();
    for (schema, families) in &users {
        let home = if families.len() == 1 {
            families.iter().next().cloned().unwrap_or_default()
        } else {
            for family in families {
                if let Some(module) = modules.get_mut(family) {
                    module.common_uses.insert(schema.clone());
                }
            }
            common.clone()
        };
        if let Some(module) = modules.get_mut(&home) {
            module.components.insert(schema.clone());
        }
        placement.insert(schema.clone(), home);
    }
    if let Some(module) = modules.get_mut(&common) {
        for schema in &naming.errors.common {
            if api
                .schemas
                .get(schema)
                .is_some_and(|s| s.code_enum.is_some())
            {
                module.common_errors.insert(schema.clone());
            }
        }
    }
    for family in &naming.families.default {
        if !modules.contains_key(family) {
            return Err(format!(
                "naming.toml: default family `{family}` has no operations"
            ));
        }
    }

    let plan = Plan {
        modules,
        placement,
        common,
    };
    check_names(api, naming, &plan)?;
    Ok(plan)
}

/// Prelude names that generated code uses unqualified; no generated type may take them.
const PRELUDE: &[&str] = &[
    "Option",
    "Some",
    "None",
    "String",
    "Vec",
    "Result",
    "Ok",
    "Err",
    "Box",
    "Default",
    "Clone",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "Into",
    "From",
    "Self",
    "Sized",
    "Send",
    "Sync",
];

/// Fails on any two items of one module with the same name, any two fields of one struct with the
/// same name, and any two variants of one enum with the same name.
fn check_names(api: &Api, naming: &Naming, plan: &Plan) -> Result<(), String> {
    let t = &naming.types;
    for module in plan.modules.values() {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut claim = |name: String, what: String| match names.insert(name.clone(), what.clone())
        {
            Some(previous) => Err(format!(
                "module {}: `{name}` is both {previous} and {what}",
                module.name
            )),
            None => Ok(()),
        };
        for &index in &module.operations {
            let op = &api.operations[index];
            let n = op_names(op, naming)?;
            claim(n.request, format!("the request of {}", op.method))?;
            claim(n.response, format!("the response of {}", op.method))?;
            if op.error_codes.is_some() {
                claim(n.error_code, format!("the error codes of {}", op.method))?;
            }
            let mut fields = BTreeMap::new();
            let files = op.files.iter().map(|f| (f, "file part"));
            for (wire, what) in request_props(op).map(|p| (&p.name, "field")).chain(files) {
                unique_field(&mut fields, wire, what, t, &op.method)?;
            }
            unique_field(&mut BTreeMap::new(), &t.extra_field, "extra", t, &op.method)?;
            let mut fields = BTreeMap::new();
            fields.insert(t.extra_field.clone(), "the extra map".to_owned());
            for prop in &op.response {
                unique_field(&mut fields, &prop.name, "field", t, &op.method)?;
            }
            if let Some(codes) = &op.error_codes {
                unique_variants(codes, t, &op.method)?;
            }
        }
        for schema in module.components.iter().chain(module.common_uses.iter()) {
            let rust = naming.schema_type(schema);
            if PRELUDE.contains(&rust.as_str()) {
                return Err(format!(
                    "schema {schema} would shadow the prelude's `{rust}`: rename it in naming.toml [schema_renames]"
                ));
            }
            claim(rust, format!("schema {schema}"))?;
        }
        for schema in &module.components {
            let mut fields = BTreeMap::new();
            fields.insert(t.extra_field.clone(), "the extra map".to_owned());
            for prop in &api.schemas[schema].props {
                unique_field(&mut fields, &prop.name, "field", t, schema)?;
            }
        }
        for schema in &module.common_errors {
            claim(
                common_error_code_name(schema, naming),
                format!("the codes of {schema}"),
            )?;
            if let Some(codes) = &api.schemas[schema].code_enum {
                unique_variants(codes, t, schema)?;
            }
        }
    }
    Ok(())
}

fn unique_field(
    fields: &mut BTreeMap<String, String>,
    wire: &str,
    what: &str,
    t: &super::naming::Types,
    owner: &str,
) -> Result<(), String> {
    let name = field_name(wire, t);
    match fields.insert(name.clone(), format!("{what} `{wire}`")) {
        Some(previous) => Err(format!(
            "{owner}: field `{name}` is both {previous} and {what} `{wire}`"
        )),
        None => Ok(()),
    }
}

fn unique_variants(codes: &[String], t: &super::naming::Types, owner: &str) -> Result<(), String> {
    let mut variants = BTreeMap::new();
    variants.insert(t.unknown_variant.clone(), "the unknown variant".to_owned());
    for code in codes {
        let name = variant_name(code, t);
        if let Some(previous) = variants.insert(name.clone(), format!("code `{code}`")) {
            return Err(format!(
                "{owner}: variant `{name}` is both {previous} and code `{code}`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::{DEFAULT_SPEC, spec, workspace_root};

    /// Over the whole vendored spec: every module item, struct field and enum variant has a name of
    /// its own (`plan` fails otherwise), and every operation lands in exactly one module.
    #[test]
    fn names_never_collide_over_the_whole_spec() {
        let naming = Naming::parse(include_str!("../../naming.toml")).unwrap();
        let doc = spec::load_document(&workspace_root().join(DEFAULT_SPEC)).unwrap();
        let api = spec::read_api(&doc, &naming.errors.common, &naming.field_types).unwrap();
        assert_eq!(api.operations.len(), 747);
        let plan = plan(&api, &naming).unwrap();
        let placed: usize = plan.modules.values().map(|m| m.operations.len()).sum();
        assert_eq!(placed, 747);
        // Every emitted type path is unique across the crate.
        let mut paths = BTreeSet::new();
        for module in plan.modules.values() {
            for &i in &module.operations {
                let n = op_names(&api.operations[i], &naming).unwrap();
                assert!(paths.insert(format!("{}::{}", module.name, n.request)));
                assert!(paths.insert(format!("{}::{}", module.name, n.response)));
            }
            for schema in &module.components {
                assert!(paths.insert(format!("{}::{}", module.name, naming.schema_type(schema))));
            }
        }
        assert_eq!(plan.modules.len(), 27);
        assert_eq!(plan.modules["common"].components.len(), 3);
        assert!(paths.contains("trade::QueryRequest"));
        assert!(paths.contains("open::MiniVersionAuditApplyRequest"));
        assert!(paths.contains("zhima_credit::PayafteruseCreditagreementQueryRequest"));
        assert!(paths.contains("trade::GoodsDetail"));
        assert!(paths.contains("common::PeriodRuleParams"));
    }

    fn tiny_spec(second_method: &str, schema: &str) -> serde_json::Value {
        let response = serde_json::json!({"200": {"content": {"application/json": {"schema":
            {"$ref": format!("#/components/schemas/{schema}")}}}}});
        serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/v3/alipay/trade/a/b": {"post": {"operationId": "alipay.trade.a.b",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/M"}}}},
                    "responses": response}},
                "/v3/alipay/trade/x": {"post": {"operationId": second_method, "responses": response}}
            },
            "components": {"schemas": {
                "M": {"type": "object", "properties": {"n": {"$ref": format!("#/components/schemas/{schema}")}}},
                "Option": {"type": "object", "properties": {"v": {"type": "string"}}},
                "Dup": {"type": "object", "properties": {"orderStr": {"type": "string"}, "order_str": {"type": "string"}}}
            }}
        })
    }

    fn tiny_naming() -> Naming {
        let mut naming = Naming::parse(include_str!("../../naming.toml")).unwrap();
        naming.families.default = vec!["trade".to_owned()];
        naming.schema_renames.clear();
        naming
    }

    fn plan_error(second_method: &str, schema: &str) -> String {
        let api = spec::read_api(&tiny_spec(second_method, schema), &[], &BTreeMap::new()).unwrap();
        plan(&api, &tiny_naming()).unwrap_err()
    }

    #[test]
    fn collisions_are_reported() {
        assert_eq!(
            plan_error("alipay.trade.AB", "M"),
            "module trade: `ABRequest` is both the request of alipay.trade.AB and the request of alipay.trade.a.b"
        );
        assert_eq!(
            plan_error("alipay.trade.c", "Dup"),
            "alipay.trade.a.b: field `order_str` is both field `orderStr` and field `order_str`"
        );
        assert_eq!(
            plan_error("alipay.trade.c", "Option"),
            "schema Option would shadow the prelude's `Option`: rename it in naming.toml [schema_renames]"
        );
        let api = spec::read_api(&tiny_spec("alipay.trade.c", "M"), &[], &BTreeMap::new()).unwrap();
        let mut naming = tiny_naming();
        naming.families.common_module = "trade".to_owned();
        assert_eq!(
            plan(&api, &naming).unwrap_err(),
            "family alipay.trade would be named like the common module"
        );
    }
}
