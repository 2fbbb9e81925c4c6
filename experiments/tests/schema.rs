//! The JSON Schemas editors read: shipped ones match the code, every shipped config passes its
//! kind's schema, and the schema refuses what the loader refuses (unknown keys, wrong types).
//! Checked with a small validator of the draft-7 keywords schemars emits, written here so the
//! check does not share code with the generator. `CG_UPDATE_SCHEMAS=1` rewrites schemas/.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every place `value` breaks `schema`, as `path: reason`.
fn violations(root_schema: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/definitions/").expect("local refs only");
        return violations(root_schema, &root_schema["definitions"][name], value, path, out);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            violations(root_schema, s, value, path, out);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().filter(|s| {
                let mut v = vec![];
                violations(root_schema, s, value, path, &mut v);
                v.is_empty()
            });
            let n = fits.count();
            if n == 0 || (key == "oneOf" && n > 1) {
                out.push(format!("{path}: {n} of the {key} alternatives fit"));
            }
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            out.push(format!("{path}: {value} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(value) {
            out.push(format!("{path}: {value} is not one of {e:?}"));
        }
    }
    let is = |t: &str| match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("type {other}"),
    };
    match schema.get("type") {
        Some(Value::String(t)) if !is(t) => out.push(format!("{path}: {value} is not a {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| is(t.as_str().unwrap())) => {
            out.push(format!("{path}: {value} is none of {ts:?}"));
        }
        _ => {}
    }
    if let (Some(min), Some(v)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
        if v < min {
            out.push(format!("{path}: {v} < {min}"));
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            violations(root_schema, items, v, &format!("{path}[{i}]"), out);
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                out.push(format!("{path}: missing {required}"));
            }
        }
        for (k, v) in object {
            let child = format!("{path}.{k}");
            match (properties.and_then(|p| p.get(k)), schema.get("additionalProperties")) {
                (Some(s), _) => violations(root_schema, s, v, &child, out),
                (None, Some(Value::Bool(false))) => out.push(format!("{child}: not allowed")),
                (None, Some(s)) if s.is_object() => violations(root_schema, s, v, &child, out),
                _ => {}
            }
        }
    }
}

fn schema_of(kind: &str) -> Value {
    experiments::kinds::find(kind).unwrap_or_else(|| panic!("kind {kind}")).schema()
}

fn check(config: &Value) -> Vec<String> {
    let schema = schema_of(config["kind"].as_str().unwrap());
    let mut out = vec![];
    violations(&schema, &schema, config, "", &mut out);
    out
}

fn configs() -> Vec<(PathBuf, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let table: toml::Table = toml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, serde_json::to_value(table).unwrap())
        })
        .collect()
}

#[test]
fn shipped_schemas_are_the_generated_ones() {
    let dir = root().join("schemas");
    let update = std::env::var_os("CG_UPDATE_SCHEMAS").is_some();
    for kind in experiments::kinds::KINDS {
        let path = dir.join(format!("{}.schema.json", kind.name()));
        let text = serde_json::to_string_pretty(&kind.schema()).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let shipped = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} missing: run with CG_UPDATE_SCHEMAS=1", path.display()));
        assert!(shipped == text, "{} is stale: run with CG_UPDATE_SCHEMAS=1", path.display());
    }
}

#[test]
fn every_shipped_config_passes_its_schema_and_points_to_it() {
    for (path, config) in configs() {
        assert_eq!(check(&config), Vec::<String>::new(), "{}", path.display());
        let kind = config["kind"].as_str().unwrap();
        let first = std::fs::read_to_string(&path).unwrap().lines().next().unwrap_or("").to_string();
        assert_eq!(first, format!("#:schema ../schemas/{kind}.schema.json"), "{}: first line", path.display());
    }
}

#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    let mut refused = 0;
    for (path, config) in configs() {
        // An unknown key at the top and in every table the config has.
        let mut mutants = vec![];
        let mut top = config.clone();
        top["learning_rat"] = Value::from(0.1);
        mutants.push(top);
        for (k, v) in config.as_object().unwrap() {
            if v.is_object() {
                let mut m = config.clone();
                m[k]["zzz_unknown"] = Value::from(1);
                mutants.push(m);
            }
            if v.is_number() && k != "seed" {
                let mut m = config.clone();
                m[k] = Value::from("text");
                mutants.push(m);
            }
        }
        for m in mutants {
            let text = toml::to_string(&m).unwrap();
            let loader = experiments::config::parse(&text, path.parent().unwrap()).err();
            let schema = check(&m);
            assert!(loader.is_some(), "{}: the loader took {text}", path.display());
            assert!(!schema.is_empty(), "{}: the schema took {text}", path.display());
            refused += 1;
        }
    }
    assert!(refused > 100, "{refused} mutants");
}

#[test]
fn explain_lists_every_key_of_the_shipped_configs() {
    fn keys(value: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Some(o) = value.as_object() {
            for (k, v) in o {
                let path = format!("{prefix}{k}");
                match v {
                    Value::Object(_) => keys(v, &format!("{path}."), out),
                    Value::Array(items) if items.first().is_some_and(Value::is_object) => {
                        items.iter().for_each(|i| keys(i, &format!("{path}[]."), out));
                    }
                    _ => out.push(path),
                }
            }
        }
    }
    for (path, config) in configs() {
        let kind = experiments::kinds::find(config["kind"].as_str().unwrap()).unwrap();
        let text = experiments::schema::explain(kind);
        let mut used = vec![];
        keys(&config, "", &mut used);
        for key in used {
            // Maps of names (graph nodes, evidence) list their table, not each name.
            let prefixes: Vec<&str> = key.match_indices('.').map(|(i, _)| &key[..i]).collect();
            let listed = text.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with(&format!("{key} "))
                    || prefixes.iter().any(|table| l.starts_with(&format!("{table} ")) && l.contains("table of"))
            });
            assert!(listed, "{}: `{key}` not in `experiments explain {}`", path.display(), kind.name());
        }
    }
}
