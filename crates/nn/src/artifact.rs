//! Trained parameters as a safetensors file: one tensor per parameter, named as in the config,
//! shaped as declared and stored row-major (so numpy reads `W1` as out x in), F32 or F64 by the
//! network's precision, with string metadata for a reader.

use std::borrow::Cow;
use std::collections::HashMap;

use cg_autodiff::vector::{Mat, VectorTape};
use safetensors::tensor::{Dtype, SafeTensors, View};

use crate::{Error, Float, Network, Result};

/// One tensor to write: its shape and little-endian bytes.
struct Tensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The rows × cols matrix of a declared shape (`[r, c]`, `[r]` a column, `[]` a scalar).
pub fn matrix_shape(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [r] => (*r, 1),
        [r, c, ..] => (*r, *c),
    }
}

/// A named tensor to save: its shape and its values in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// The parameter's name.
    pub name: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f64>,
}

/// A safetensors file of `tensors`, stored as F64 (`f64s`) or F32, with `metadata`; its keys
/// are written in sorted order, so the same tensors always give the same bytes.
///
/// # Errors
/// A tensor whose values do not fill its shape.
pub fn save_tensors(tensors: &[NamedTensor], f64s: bool, metadata: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut encoded = vec![];
    for t in tensors {
        if t.shape.iter().product::<usize>() != t.values.len() {
            return Err(Error::Artifact(format!(
                "tensor {} has {} values for shape {:?}",
                t.name,
                t.values.len(),
                t.shape
            )));
        }
        let bytes: Vec<u8> = if f64s {
            t.values.iter().flat_map(|v| v.to_le_bytes()).collect()
        } else {
            t.values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect()
        };
        encoded.push((
            t.name.clone(),
            Tensor { dtype: if f64s { Dtype::F64 } else { Dtype::F32 }, shape: t.shape.clone(), bytes },
        ));
    }
    let info: HashMap<String, String> = metadata.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let bytes = safetensors::serialize(encoded.iter().map(|(n, t)| (n.as_str(), t)), Some(info))
        .map_err(|e| Error::Artifact(format!("safetensors: {e}")))?;
    Ok(sorted_metadata(bytes))
}

/// A matrix as a row-major tensor of the given shape.
pub fn row_major(name: &str, shape: Vec<usize>, m: &nalgebra::DMatrix<f64>) -> NamedTensor {
    let values = (0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)])).collect();
    NamedTensor { name: name.to_string(), shape, values }
}

/// The file's bytes: `shapes[k]` is the declared shape of `net.params[k]`.
///
/// # Errors
/// A parameter without a value.
pub fn save<T: Float>(
    net: &Network<T>,
    tape: &VectorTape<T>,
    shapes: &[Vec<usize>],
    metadata: &[(&str, String)],
) -> Result<Vec<u8>> {
    let mut tensors = vec![];
    for ((name, &id), shape) in net.param_names.iter().zip(&net.params).zip(shapes) {
        let m = tape.get(id).ok_or_else(|| Error::Artifact(format!("parameter {name} has no value")))?;
        tensors.push(row_major(name, shape.clone(), &m.map(|v| v.as_f64())));
    }
    save_tensors(&tensors, std::mem::size_of::<T>() == 8, metadata)
}

/// The header with `__metadata__`'s keys sorted (the crate writes them in hash order); the
/// header keeps its length, so the data offsets stay valid.
fn sorted_metadata(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("internal: 8 bytes")) as usize;
    let header = &bytes[8..8 + n];
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(header) else { return bytes };
    if let Some(serde_json::Value::Object(meta)) = json.get_mut("__metadata__") {
        meta.sort_keys();
    }
    let Ok(text) = serde_json::to_string(&json) else { return bytes };
    if text.trim_end().len() <= n {
        let mut padded = text.into_bytes();
        padded.resize(n, b' ');
        bytes[8..8 + n].copy_from_slice(&padded);
    }
    bytes
}

/// The file `bytes` with `extra` added to its metadata (replacing keys it had), keys sorted; the
/// tensors' bytes are untouched (their offsets count from the end of the header).
///
/// # Errors
/// Not a safetensors file.
pub fn with_metadata(bytes: &[u8], extra: &[(&str, String)]) -> Result<Vec<u8>> {
    let (mut header, data) = header(bytes)?;
    let meta = header
        .as_object_mut()
        .ok_or_else(|| Error::Artifact("not a safetensors file: the header is not an object".into()))?
        .entry("__metadata__")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(meta) = meta {
        for (k, v) in extra {
            meta.insert((*k).to_string(), serde_json::Value::String(v.clone()));
        }
        meta.sort_keys();
    }
    let mut text = serde_json::to_string(&header).map_err(|e| Error::Artifact(e.to_string()))?.into_bytes();
    // Data starts 8-aligned, as the crate writes it.
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    Ok(out)
}

/// A file's metadata (string keys and values).
///
/// # Errors
/// Not a safetensors file.
pub fn metadata(bytes: &[u8]) -> Result<std::collections::BTreeMap<String, String>> {
    let (header, _) = header(bytes)?;
    Ok(header
        .get("__metadata__")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default())
}

/// The parsed header and the data after it.
fn header(bytes: &[u8]) -> Result<(serde_json::Value, &[u8])> {
    let bad = |why: &str| Error::Artifact(format!("not a safetensors file: {why}"));
    let n = bytes.get(..8).ok_or_else(|| bad("shorter than 8 bytes"))?;
    let n = usize::try_from(u64::from_le_bytes(n.try_into().expect("8 bytes"))).map_err(|_| bad("header too long"))?;
    let text = bytes.get(8..8usize.saturating_add(n)).ok_or_else(|| bad("the header runs past the end"))?;
    let header = serde_json::from_slice(text).map_err(|e| bad(&e.to_string()))?;
    Ok((header, &bytes[8 + n..]))
}

/// A tensor read from a file: name, shape, values (row-major) as f64.
pub type LoadedTensor = (String, Vec<usize>, Vec<f64>);

/// Reads a safetensors file's F32 and F64 tensors.
///
/// # Errors
/// Not a safetensors file, or a tensor of another type.
pub fn load(bytes: &[u8]) -> Result<Vec<LoadedTensor>> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::Artifact(format!("not a safetensors file: {e}")))?;
    let mut out = vec![];
    for (name, view) in st.tensors() {
        let values: Vec<f64> = match view.dtype() {
            Dtype::F64 => {
                view.data().chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
            }
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
            other => return Err(Error::Artifact(format!("tensor {name} is {other:?}; only F32 and F64 are read"))),
        };
        out.push((name, view.shape().to_vec(), values));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Sets the parameters named in `tensors` (names and declared shapes checked); the others keep
/// their values in `tape`.
///
/// # Errors
/// A tensor whose name is no parameter, or whose shape differs from the declared one.
pub fn apply<T: Float>(
    net: &Network<T>,
    tape: &mut VectorTape<T>,
    shapes: &[Vec<usize>],
    tensors: &[LoadedTensor],
) -> Result<()> {
    for (name, shape, values) in tensors {
        let Some(k) = net.param_names.iter().position(|n| n == name) else {
            let known = net.param_names.join(", ");
            return Err(Error::Artifact(format!("init_from: `{name}` is not a parameter (parameters: {known})")));
        };
        if *shape != shapes[k] {
            return Err(Error::Artifact(format!(
                "init_from: `{name}` has shape {shape:?} but the model declares {:?}",
                shapes[k]
            )));
        }
        let (rows, cols) = matrix_shape(shape);
        tape.set(net.params[k], Mat::from_fn(rows, cols, |i, j| T::cast(values[i * cols + j])));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_metadata_keeps_the_tensors_and_the_other_keys() {
        let t = NamedTensor { name: "w".into(), shape: vec![2, 3], values: vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5] };
        for f64s in [true, false] {
            let bytes = save_tensors(std::slice::from_ref(&t), f64s, &[("kind", "mlp".into())]).unwrap();
            let more = with_metadata(&bytes, &[("config", "a = \"x\"\n".into()), ("kind", "model".into())]).unwrap();
            // The crate itself reads the result.
            SafeTensors::deserialize(&more).unwrap();
            assert_eq!(load(&more).unwrap(), load(&bytes).unwrap());
            let meta = metadata(&more).unwrap();
            assert_eq!(meta.get("config").map(String::as_str), Some("a = \"x\"\n"));
            assert_eq!(meta.get("kind").map(String::as_str), Some("model"));
        }
        assert!(metadata(b"short").unwrap_err().to_string().contains("shorter than 8 bytes"));
        assert!(with_metadata(&[255; 16], &[]).is_err());
    }
}
