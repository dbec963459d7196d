//! The C# data contracts of the ABI's JSON (`dotnet-shim/Interop/Contracts.g.cs`) are generated
//! from the Rust wire types (`mscommerce_core::protocol::wire_schemas`), so a field is defined
//! once, in Rust. This test fails when the committed file differs from what the types give now;
//! `MSCOMMERCE_UPDATE_CONTRACTS=1 cargo test -p mscommerce-core --test contracts` rewrites it.
//!
//! What is generated (DataContractJsonSerializer contracts, netstandard2.0, nullable enabled):
//! - `CoreRequest`, the base of every request (`op` and the fields all operations share), and one
//!   `<Op>Request` class per operation, with its `OpName` constant;
//! - the configuration and the other request and reply types, as internal `<Name>Wire` classes
//!   (`RawConfig` is `ClientConfigWire`, `RawTarget` is `BulkTargetWire`);
//! - `CoreDefaults`, the core's defaults and limits (`protocol::defaults`) as constants that
//!   binding attributes name, so the C# compiler checks them;
//! - `CoreVariables`, the environment variables the core uses (`settings`), which the shim
//!   reads with .NET and passes in every request;
//! - the output items (`Policy`, `ProductPolicy`, `ScopePolicy`, `PolicyDrift`) as the public
//!   model classes PowerShell shows, `public sealed partial class MSCommerce.<Name>`: their
//!   hand-written halves keep `ToString`; `OutputItemKinds` holds the `kind` of each.
//!   A member whose type is an output item (`item`, `items`) is not generated: the shim reads it
//!   by its `kind` (`WireMapping`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Map, Value};

const UNION: &str = "OutputItem";
const REQUEST_UNION: &str = "RawRequest";

fn contracts_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dotnet-shim/Interop/Contracts.g.cs")
}

/// What the schemas are: requests are written by the shim, replies read by it.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Request,
    Reply,
    Model,
}

fn class_name(rust: &str) -> String {
    match rust {
        "RawConfig" => "ClientConfigWire".to_owned(),
        "RawTarget" => "BulkTargetWire".to_owned(),
        other => format!("{other}Wire"),
    }
}

fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A doc comment's text as XML documentation: `code` becomes `<c>code</c>`.
fn xml_doc(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<c>");
            out.push_str(part);
            out.push_str("</c>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn summary(out: &mut String, indent: &str, text: Option<&str>) {
    if let Some(text) = text {
        out.push_str(&format!(
            "{indent}/// <summary>{}</summary>\n",
            xml_doc(text)
        ));
    }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

/// The C# type of a property schema; `None` for an output item, which is not generated.
fn cs_type(schema: &Value) -> Option<(String, bool)> {
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let inner = any.iter().find(|s| s.get("type") != Some(&"null".into()))?;
        let (ty, _) = cs_type(inner)?;
        return Some((ty, true));
    }
    if let Some(name) = ref_name(schema) {
        if name == UNION {
            return None;
        }
        return Some((class_name(name), false));
    }
    let (ty, nullable) = match schema.get("type") {
        Some(Value::String(ty)) => (ty.as_str(), false),
        Some(Value::Array(types)) => (
            types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            types.iter().any(|t| t == "null"),
        ),
        other => panic!("a schema without a type: {other:?} in {schema}"),
    };
    let cs = match ty {
        "string" => "string".to_owned(),
        "boolean" => "bool".to_owned(),
        "number" => "double".to_owned(),
        "integer" => match schema.get("format").and_then(Value::as_str) {
            Some("uint64") => "ulong".to_owned(),
            Some("int64") => "long".to_owned(),
            Some("uint16" | "int32" | "uint32" | "uint8") => "int".to_owned(),
            other => panic!("an integer of format {other:?}: give it a C# type here"),
        },
        "array" => {
            let (item, _) = cs_type(&schema["items"])?;
            format!("{item}[]")
        }
        "object" if schema.get("additionalProperties").is_some() => {
            "Dictionary<string, string>".to_owned()
        }
        other => panic!("a JSON type the generator does not know: {other}"),
    };
    Some((cs, nullable))
}

/// One `[DataMember]` property.
fn member(out: &mut String, json: &str, schema: &Value, order: usize, required: bool, role: Role) {
    let Some((ty, nullable)) = cs_type(schema) else {
        out.push_str(&format!(
            "        // `{json}` holds output items: read by their kind (WireMapping).\n"
        ));
        return;
    };
    summary(
        out,
        "        ",
        schema.get("description").and_then(Value::as_str),
    );
    let is_reference = ty == "string"
        || ty.ends_with("[]")
        || ty.ends_with("Wire")
        || ty.starts_with("Dictionary");
    let (declared, init) = match role {
        // A request leaves out what it does not set; what it must send starts empty.
        Role::Request if required => (
            ty.clone(),
            match ty.as_str() {
                "string" => " = string.Empty;".to_owned(),
                t if t.ends_with("[]") => {
                    format!(" = System.Array.Empty<{}>();", t.trim_end_matches("[]"))
                }
                _ => String::new(),
            },
        ),
        Role::Request => (format!("{ty}?"), String::new()),
        // What is read may be missing from a reply of another build: references may be null.
        _ if is_reference || nullable || !required => (format!("{ty}?"), String::new()),
        _ => (ty.clone(), String::new()),
    };
    let emit = if role == Role::Request && !required {
        ", EmitDefaultValue = false"
    } else {
        ""
    };
    out.push_str(&format!(
        "        [DataMember(Name = \"{json}\", Order = {order}{emit})]\n        public {declared} {} {{ get; set; }}{init}\n\n",
        pascal(json)
    ));
}

fn properties(schema: &Value) -> Vec<(String, Value, bool)> {
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .map(|(name, s)| (name.clone(), s.clone(), required.contains(name.as_str())))
                .collect()
        })
        .unwrap_or_default()
}

fn class(out: &mut String, modifiers: &str, name: &str, schema: &Value, role: Role) {
    summary(
        out,
        "    ",
        schema.get("description").and_then(Value::as_str),
    );
    out.push_str(&format!(
        "    [DataContract]\n    {modifiers} class {name}\n    {{\n"
    ));
    for (order, (json, property, required)) in properties(schema).iter().enumerate() {
        member(out, json, property, order, *required, role);
    }
    trim_blank(out);
    out.push_str("    }\n\n");
}

fn trim_blank(out: &mut String) {
    while out.ends_with("\n\n") {
        out.pop();
    }
}

/// The requests: a base with the fields every operation has, and one class per operation.
fn requests(out: &mut String, schemas: &Map<String, Value>) {
    let variants: Vec<&Value> = schemas[REQUEST_UNION]["oneOf"]
        .as_array()
        .expect("the requests are one schema per operation")
        .iter()
        .collect();
    let op_of = |variant: &Value| -> String {
        variant["properties"]["op"]["const"]
            .as_str()
            .expect("each operation names its op")
            .to_owned()
    };
    let common: Vec<String> = properties(variants[0])
        .into_iter()
        .map(|(name, _, _)| name)
        .filter(|name| name != "op")
        .filter(|name| {
            variants
                .iter()
                .all(|v| v["properties"].get(name.as_str()).is_some())
        })
        .collect();
    out.push_str(
        "    /// <summary>One request to <c>mc_invoke</c>: the fields every operation takes.</summary>\n",
    );
    out.push_str("    [DataContract]\n    internal abstract partial class CoreRequest\n    {\n");
    out.push_str("        protected CoreRequest(string op) => Op = op;\n\n");
    out.push_str("        /// <summary>The operation.</summary>\n");
    out.push_str("        [DataMember(Name = \"op\", Order = 0)]\n        public string Op { get; private set; }\n\n");
    for (order, name) in common.iter().enumerate() {
        let property = &variants[0]["properties"][name.as_str()];
        member(out, name, property, order + 1, false, Role::Request);
    }
    trim_blank(out);
    out.push_str("    }\n\n");
    for variant in &variants {
        let op = op_of(variant);
        let name = format!("{}Request", pascal(&op));
        out.push_str(&format!(
            "    /// <summary>The <c>{op}</c> request.</summary>\n    [DataContract]\n    internal sealed class {name} : CoreRequest\n    {{\n"
        ));
        out.push_str(&format!(
            "        internal const string OpName = \"{op}\";\n\n        public {name}()\n            : base(OpName)\n        {{\n        }}\n\n"
        ));
        let mut order = 0;
        for (json, property, required) in properties(variant) {
            if json == "op" || common.contains(&json) {
                continue;
            }
            member(out, &json, &property, order, required, Role::Request);
            order += 1;
        }
        trim_blank(out);
        out.push_str("    }\n\n");
    }
}

/// `CoreDefaults`: the core's defaults and limits as C# constants, for binding attributes.
fn constants(out: &mut String) {
    use mscommerce_core::protocol::defaults::{ConstantValue, SHIM_CONSTANTS};
    out.push_str(
        "    /// <summary>The core's defaults and limits (rust-core/src/protocol/defaults.rs), as constants binding attributes can name.</summary>\n",
    );
    out.push_str("    internal static class CoreDefaults\n    {\n");
    for constant in SHIM_CONSTANTS {
        summary(out, "        ", Some(constant.doc));
        let (ty, value) = match constant.value {
            ConstantValue::Int(n) => ("int", n.to_string()),
            ConstantValue::Text(text) => (
                "string",
                format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
            ),
        };
        out.push_str(&format!(
            "        internal const {ty} {} = {value};\n\n",
            constant.name
        ));
    }
    trim_blank(out);
    out.push_str("    }\n\n");
    variables(out);
}

/// `CoreVariables`: the environment variables the core uses (`settings::PREFIX` and `NAMES`),
/// which the shim reads with .NET and passes in every request.
fn variables(out: &mut String) {
    use mscommerce_core::settings::{NAMES, PREFIX};
    out.push_str(
        "    /// <summary>The environment variables the core uses (rust-core/src/settings.rs): every one whose name starts with <c>Prefix</c>, and <c>Names</c>.</summary>\n",
    );
    out.push_str("    internal static class CoreVariables\n    {\n");
    out.push_str("        /// <summary>Every variable whose name starts with this is passed, whatever the rest of its name.</summary>\n");
    out.push_str(&format!(
        "        internal const string Prefix = \"{PREFIX}\";\n\n"
    ));
    out.push_str("        /// <summary>The other variables the core uses.</summary>\n");
    out.push_str("        internal static readonly string[] Names =\n        {\n");
    for name in NAMES {
        out.push_str(&format!("            \"{name}\",\n"));
    }
    out.push_str("        };\n    }\n");
}

/// `OutputItemReader`: each output item's members read straight into its model object, so a
/// list of output items needs no general-purpose JSON pass (`WireReader`). Only string members
/// are read this way; a member of another type is for `JsonCursor` and this function to learn.
fn item_reader(out: &mut String, models: &[String], schemas: &Map<String, Value>) {
    out.push_str("    /// <summary>Reads the members of an output item, after its <c>kind</c>, straight into its model object (<see cref=\"WireReader\"/>).</summary>\n");
    out.push_str("    internal static class OutputItemReader\n    {\n");
    out.push_str("        /// <summary>The item of kind <paramref name=\"kind\"/> whose other members <paramref name=\"reader\"/> is at, up to its closing brace; null for a kind this build does not know. Members it does not know are skipped.</summary>\n");
    out.push_str("        internal static object? ReadRest(string kind, JsonCursor reader)\n        {\n            switch (kind)\n            {\n");
    for model in models {
        out.push_str(&format!(
            "                case OutputItemKinds.{model}:\n                {{\n                    var item = new {model}();\n\
             \x20                   for (var name = reader.NextProperty(); name != null; name = reader.NextProperty())\n\
             \x20                   {{\n                        switch (name)\n                        {{\n"
        ));
        for (json, property, _) in properties(&schemas[model.as_str()]) {
            let (ty, _) = cs_type(&property).expect("a model member is not an output item");
            assert_eq!(
                ty, "string",
                "{model}.{json} is a {ty}: teach JsonCursor and item_reader to read it"
            );
            out.push_str(&format!(
                "                            case \"{json}\":\n                                item.{} = reader.ReadString();\n                                break;\n",
                pascal(&json)
            ));
        }
        out.push_str(
            "                            default:\n                                reader.SkipValue();\n                                break;\n\
             \x20                       }\n                    }\n\n                    return item;\n                }\n\n",
        );
    }
    out.push_str("                default:\n                    return null;\n            }\n        }\n    }\n\n");
}

/// The whole generated file.
fn generate() -> String {
    let schemas = mscommerce_core::protocol::wire_schemas();
    let models: Vec<String> = schemas[UNION]["oneOf"]
        .as_array()
        .expect("output items are one schema per kind")
        .iter()
        .map(|variant| ref_name(variant).expect("a kind names its type").to_owned())
        .collect();
    let mut out = String::from(
        "// <auto-generated>\n// Generated from the Rust wire types (rust-core/src/protocol) by rust-core/tests/contracts.rs:\n\
         // do not edit. Regenerate with\n//   MSCOMMERCE_UPDATE_CONTRACTS=1 cargo test -p mscommerce-core --test contracts\n\
         // </auto-generated>\n\n#nullable enable\n\nusing System.Collections.Generic;\nusing System.Runtime.Serialization;\n\n\
         namespace MSCommerce.Interop\n{\n",
    );
    requests(&mut out, &schemas);
    for (name, schema) in &schemas {
        if name == REQUEST_UNION || name == UNION || models.contains(name) {
            continue;
        }
        let role = if name.starts_with("Raw") {
            Role::Request
        } else {
            Role::Reply
        };
        class(&mut out, "internal sealed", &class_name(name), schema, role);
    }
    out.push_str("    /// <summary>The <c>kind</c> of each output item: the name of its model class.</summary>\n");
    out.push_str("    internal static class OutputItemKinds\n    {\n");
    for model in &models {
        out.push_str(&format!(
            "        internal const string {model} = \"{model}\";\n"
        ));
    }
    out.push_str("    }\n\n");
    item_reader(&mut out, &models, &schemas);
    constants(&mut out);
    out.push_str("}\n\nnamespace MSCommerce\n{\n");
    for model in &models {
        class(
            &mut out,
            "public sealed partial",
            model,
            &schemas[model.as_str()],
            Role::Model,
        );
    }
    trim_blank(&mut out);
    out.push_str("}\n");
    out
}

/// Every `[DataMember]` of a C# file as `Class.jsonName`, so a difference names the member.
fn members(text: &str) -> BTreeSet<String> {
    let mut class = String::new();
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.split(" class ").nth(1) {
            class = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
        if let Some(rest) = line.strip_prefix("[DataMember(Name = \"") {
            let name = rest.split('"').next().unwrap_or_default();
            found.insert(format!("{class}.{name}"));
        }
        if let Some(rest) = line.strip_prefix("public ") {
            if let Some(property) = rest.strip_suffix(" { get; set; }") {
                let name = property.split_whitespace().last().unwrap_or_default();
                found.insert(format!("{class}.{name} (property)"));
            }
        }
    }
    found
}

/// What differs between the members of two files: those only in `expected`, those only in
/// `actual`.
fn differences(expected: &str, actual: &str) -> (Vec<String>, Vec<String>) {
    let (expected, actual) = (members(expected), members(actual));
    (
        expected.difference(&actual).cloned().collect(),
        actual.difference(&expected).cloned().collect(),
    )
}

#[test]
fn the_committed_contracts_are_what_the_rust_types_give() {
    let generated = generate();
    let path = contracts_path();
    if std::env::var_os("MSCOMMERCE_UPDATE_CONTRACTS").is_some() {
        std::fs::write(&path, &generated).expect("write the contracts");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let (missing, extra) = differences(&generated, &committed);
        panic!(
            "dotnet-shim/Interop/Contracts.g.cs is stale (members the Rust types have and it \
             lacks: {missing:?}; members it has that they lack: {extra:?}). Regenerate it with \
             `MSCOMMERCE_UPDATE_CONTRACTS=1 cargo test -p mscommerce-core --test contracts` and \
             commit the result."
        );
    }
}

#[test]
fn a_member_renamed_on_one_side_is_reported_by_name() {
    let generated = generate();
    // The connection's `tenantId`, wherever its order puts it.
    let class = generated
        .find("class ConnectionWire")
        .expect("the connection's contract");
    let at = class
        + generated[class..]
            .find("[DataMember(Name = \"tenantId\"")
            .expect("the connection has a tenantId member");
    let renamed = format!(
        "{}[DataMember(Name = \"tenant\"{}",
        &generated[..at],
        &generated[at + "[DataMember(Name = \"tenantId\"".len()..]
    );
    assert_ne!(renamed, generated, "the connection has a tenantId member");
    let (missing, extra) = differences(&generated, &renamed);
    assert_eq!(missing, ["ConnectionWire.tenantId"]);
    assert_eq!(extra, ["ConnectionWire.tenant"]);
}

#[test]
fn every_operation_has_its_request_class_and_op_constant() {
    let generated = generate();
    for op in [
        "connect",
        "getConnection",
        "disconnect",
        "getPolicies",
        "getPolicy",
        "getProductPolicies",
        "getProductPolicy",
        "updateProductPolicy",
        "updateProductPolicies",
        "selectItems",
        "planUpdate",
        "planImport",
        "exportBaseline",
        "testBaseline",
        "complete",
    ] {
        assert!(
            generated.contains(&format!("internal const string OpName = \"{op}\";")),
            "{op}"
        );
    }
}
