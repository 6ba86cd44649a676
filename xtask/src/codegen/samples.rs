//! The generated round-trip test: for every generated request and response type, a JSON instance with
//! every field populated from the schema (nested schemas included, plus an undescribed field at every
//! level), which must deserialise and serialise back to the same JSON; and for every code enumeration,
//! every listed code must map to its own variant and back.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::{Map, Value};

use super::HEADER;
use super::naming::Naming;
use super::plan::{Plan, common_error_code_name, op_names, request_props};
use super::spec::{Api, Prop, Ty};

/// The undescribed field put in every sample object: it must survive the round trip.
pub(crate) const UNKNOWN_FIELD: &str = "x_field_not_in_spec";

struct Sampler<'a> {
    api: &'a Api,
    naming: &'a Naming,
}

impl Sampler<'_> {
    fn object(&self, props: &[Prop], depth: usize) -> Result<Value, String> {
        let mut map = Map::new();
        for prop in props {
            if prop.ty == Ty::File {
                continue;
            }
            map.insert(prop.name.clone(), self.value(&prop.ty, &prop.name, depth)?);
        }
        map.insert(
            UNKNOWN_FIELD.to_owned(),
            serde_json::json!({"kept": [1, "two", null]}),
        );
        Ok(Value::Object(map))
    }

    fn value(&self, ty: &Ty, wire: &str, depth: usize) -> Result<Value, String> {
        Ok(match ty {
            Ty::String => Value::String(format!("{wire} value")),
            Ty::Integer => Value::from(42),
            Ty::Boolean => Value::Bool(true),
            Ty::Number => serde_json::json!(7),
            Ty::Any => serde_json::json!({"free": ["form", 1]}),
            Ty::File => Value::Null,
            Ty::Array(inner) => Value::Array(vec![self.value(inner, wire, depth)?]),
            Ty::Ref(name) => {
                if depth > 16 {
                    return Err(format!("{name}: schemas nest more than 16 deep"));
                }
                let schema = self
                    .api
                    .schemas
                    .get(name)
                    .ok_or_else(|| format!("no schema {name}"))?;
                self.object(&schema.props, depth + 1)?
            }
            Ty::Override(path) => {
                let sample = self.naming.override_types.get(path).ok_or_else(|| {
                    format!("naming.toml [override_types] has no sample for `{path}`")
                })?;
                Value::String(sample.clone())
            }
        })
    }
}

/// `crates/alipay-model/tests/roundtrip/generated.rs`.
pub(crate) fn roundtrip_tests(api: &Api, naming: &Naming, plan: &Plan) -> Result<String, String> {
    let sampler = Sampler { api, naming };
    let mut tests = Vec::new();
    for module in plan.modules.values() {
        let name = quote::format_ident!("{}", module.name);
        let mut checks = Vec::new();
        for &index in &module.operations {
            let op = &api.operations[index];
            let names = op_names(op, naming)?;
            let request_props: Vec<Prop> = request_props(op).cloned().collect();
            for (type_name, props) in [
                (&names.request, &request_props),
                (&names.response, &op.response),
            ] {
                let ty = quote::format_ident!("{}", type_name);
                let json = raw_string(
                    &serde_json::to_string(&sampler.object(props, 0)?)
                        .map_err(|e| e.to_string())?,
                )?;
                checks.push(quote!(super::round_trip::<alipay_model::#name::#ty>(#json);));
            }
            if let Some(codes) = &op.error_codes {
                let ty = quote::format_ident!("{}", names.error_code);
                checks.push(quote!(super::codes::<alipay_model::#name::#ty>(&[#(#codes),*]);));
            }
        }
        for schema in &module.components {
            let ty = quote::format_ident!("{}", naming.schema_type(schema));
            let json = raw_string(
                &serde_json::to_string(&sampler.object(&api.schemas[schema].props, 0)?)
                    .map_err(|e| e.to_string())?,
            )?;
            checks.push(quote!(super::round_trip::<alipay_model::#name::#ty>(#json);));
        }
        for schema in &module.common_errors {
            if let Some(codes) = &api.schemas[schema].code_enum {
                let ty = quote::format_ident!("{}", common_error_code_name(schema, naming));
                checks.push(quote!(super::codes::<alipay_model::#name::#ty>(&[#(#codes),*]);));
            }
        }
        let cfg = module.family.as_ref().map(|f| {
            let feature = &f.feature;
            quote!(#[cfg(feature = #feature)])
        });
        let doc = format!(
            " Every generated type of `{}` survives a JSON round trip.",
            module.name
        );
        tests.push(quote! {
            #[doc = #doc]
            #cfg
            #[test]
            fn #name() {
                #(#checks)*
            }
        });
    }
    let file: syn::File = syn::parse2(quote! {
        //! Round-trip tests of every generated type; the helpers are in `tests/roundtrip.rs`.
        #(#tests)*
    })
    .map_err(|err| format!("generated test does not parse: {err}"))?;
    Ok(format!("{HEADER}\n{}", prettyplease::unparse(&file)))
}

fn raw_string(json: &str) -> Result<TokenStream, String> {
    if json.contains("\"#") {
        return Err(format!("sample contains `\"#`: {json}"));
    }
    format!("r#\"{json}\"#")
        .parse()
        .map_err(|err| format!("raw string literal: {err}"))
}
