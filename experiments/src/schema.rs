//! What a kind's config accepts, derived from the serde types that read it (schemars), so help
//! cannot drift from the code: `experiments schema KIND` prints a JSON Schema for editors that
//! check TOML against one (taplo, Even Better TOML), `experiments explain KIND` the same as a
//! list of fields with type, default and meaning.

use serde_json::{json, Map, Value};

use crate::kinds::Kind;

/// The JSON Schema (draft 7, which the TOML editors read) of configs of kind `C`: the derived
/// schema with `kind` fixed to the kind's name.
pub fn of<C: crate::kinds::KindConfig>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<C>().to_value();
    schema["title"] = json!(format!("experiments config: kind = \"{}\"", C::NAME));
    schema["description"] = json!(C::SUMMARY);
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(
            "kind".into(),
            json!({"const": C::NAME, "description": "The model kind; `experiments kinds` lists them."}),
        );
    }
    schema
}

/// `experiments explain KIND`: the kind's summary, then one line per field (tables as headers),
/// each with its type, `required` or its default, and its doc comment.
pub fn explain(kind: &dyn Kind) -> String {
    let schema = kind.schema();
    let mut rows = vec![];
    fields(&schema, &schema, "", &mut rows);
    let width = rows.iter().filter(|r| !r.table).map(|r| r.path.len()).max().unwrap_or(0).min(32);
    let mut out = format!("kind = \"{}\": {}\n", kind.name(), kind.summary());
    if kind.resumable() {
        out.push_str("Stops and resumes (--stop-after, --resume).\n");
    }
    if kind.predicts() {
        out.push_str("Its saved model predicts new rows (experiments predict).\n");
    }
    for r in rows {
        if r.table {
            out.push_str(&format!("\n{}{}\n", r.path, r.about.map(|a| format!("  {a}")).unwrap_or_default()));
            continue;
        }
        let mut line = format!("  {:width$}  {}", r.path, r.kind);
        line.push_str(&match (&r.default, r.required) {
            (Some(d), _) => format!(", default {d}"),
            (None, true) => ", required".into(),
            (None, false) => ", optional".into(),
        });
        if let Some(about) = r.about {
            line.push_str(&format!("\n  {:width$}    {about}", ""));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(reference) = kind.reference() {
        out.push('\n');
        out.push_str(&reference);
    }
    out
}

/// One line of `explain`.
struct Row {
    path: String,
    /// A `[table]` header rather than a field.
    table: bool,
    kind: String,
    default: Option<String>,
    required: bool,
    about: Option<String>,
}

/// Follows `$ref` and the `T | null` of an `Option<T>`.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/")) {
        return resolve(root, &root["definitions"][name]);
    }
    if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return resolve(root, only);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let real: Vec<&Value> = options.iter().filter(|o| o.get("type") != Some(&json!("null"))).collect();
            if real.len() == 1 && options.len() == 2 {
                return resolve(root, real[0]);
            }
        }
    }
    schema
}

/// Whether `schema` is a table with named fields.
fn is_table(schema: &Value) -> bool {
    schema.get("properties").is_some()
}

/// Appends the fields of the table `schema` under `prefix` (`data.`), tables after plain fields.
fn fields(root: &Value, schema: &Value, prefix: &str, rows: &mut Vec<Row>) {
    let empty = Map::new();
    let properties = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map_or(vec![], |r| r.iter().filter_map(Value::as_str).collect());
    let mut tables = vec![];
    for (name, field) in properties {
        let target = resolve(root, field);
        let path = format!("{prefix}{name}");
        let about = description(field).or_else(|| description(target));
        let array_of_tables = target.get("items").map(|i| resolve(root, i)).filter(|i| is_table(i));
        if is_table(target) {
            tables.push((format!("[{path}]"), about, target, format!("{path}.")));
        } else if let Some(items) = array_of_tables {
            tables.push((format!("[[{path}]]"), about, items, format!("{path}[].")));
        } else {
            // A value that may also be written as a table (`loss = "..."` or `loss = { ... }`):
            // the table's fields follow.
            let variants: Vec<&Value> = ["anyOf", "oneOf"]
                .iter()
                .filter_map(|k| target.get(*k).and_then(Value::as_array))
                .flatten()
                .map(|v| resolve(root, v))
                .filter(|v| is_table(v))
                .collect();
            for v in variants {
                tables.push((format!("[{path}] (or)"), description(v), v, format!("{path}.")));
            }
            rows.push(Row {
                path,
                table: false,
                kind: type_name(root, field),
                default: field.get("default").map(short_json),
                required: required.contains(&name.as_str()),
                about,
            });
        }
    }
    for (header, about, table, prefix) in tables {
        rows.push(Row { path: header, table: true, kind: String::new(), default: None, required: false, about });
        fields(root, table, &prefix, rows);
    }
}

/// The doc comment of a schema, on one line.
fn description(schema: &Value) -> Option<String> {
    schema.get("description").and_then(Value::as_str).map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn short_json(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// A type as a reader would write it: `integer >= 0`, `"sgd" | "adam"`, `[number]`,
/// `table of string`.
fn type_name(root: &Value, schema: &Value) -> String {
    let s = resolve(root, schema);
    if let Some(c) = s.get("const") {
        return short_json(c);
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return values.iter().map(short_json).collect::<Vec<_>>().join(" | ");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = s.get(key).and_then(Value::as_array) {
            let mut names: Vec<String> =
                options.iter().filter(|o| o.get("type") != Some(&json!("null"))).map(|o| type_name(root, o)).collect();
            names.dedup();
            return names.join(" | ");
        }
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => vec![],
    };
    let one = |t: &str| -> String {
        match t {
            "integer" | "number" => match s.get("minimum").and_then(Value::as_f64) {
                Some(m) => format!("{t} >= {m}"),
                None => t.to_string(),
            },
            "array" => match s.get("items") {
                Some(items) if items.is_object() => format!("[{}]", type_name(root, items)),
                _ => "array".into(),
            },
            "object" => match s.get("additionalProperties") {
                Some(v) if v.is_object() => format!("table of {}", type_name(root, v)),
                _ => "table".into(),
            },
            other => other.to_string(),
        }
    };
    if types.is_empty() {
        return "any".into();
    }
    types.into_iter().map(one).collect::<Vec<_>>().join(" | ")
}
