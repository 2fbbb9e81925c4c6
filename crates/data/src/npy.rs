//! NumPy's `.npy` files (what `np.save` writes) and `.npz` archives (`np.savez`,
//! `np.savez_compressed`) as features and targets: floats, integers and booleans of either byte
//! order, C or Fortran order, read as f64 in C (row-major) order. One array of an archive is
//! named after a colon, `data.npz:X`, as `np.load("data.npz")["X"]` names it.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use npyz::{NpyFile, Order, TypeChar};

/// An array read from a `.npy` file: its numbers in C order and its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The numbers, the last index fastest.
    pub values: Vec<f64>,
    /// The shape (empty for a 0-d array).
    pub shape: Vec<usize>,
}

/// Reads the `.npy` file `path`. Errors are one line: not an `.npy` file, a truncated one, an
/// element type that is not a number (strings, dates, complex, records).
///
/// # Errors
/// As above; the message does not repeat the path (callers name it).
pub fn read_npy(path: &Path) -> Result<NpyArray, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    parse_npy(&bytes)
}

/// Reads an array named as a config or `predict --data` names one: a `.npy` file, or one array
/// of a `.npz` archive as `FILE.npz:NAME` (the name may be left out when the archive holds one
/// array).
///
/// # Errors
/// As [`read_npy`], and for an archive: not a zip archive, no array of that name (the message
/// lists the names there are), several arrays and none named.
pub fn read_array(spec: &Path) -> Result<NpyArray, String> {
    match split_member(spec) {
        Some((archive, member)) => read_npz(&archive, member.as_deref()),
        None => read_npy(spec),
    }
}

/// Whether `spec` names a NumPy file (`.npy`, `.npz` or `.npz:NAME`).
pub fn is_numpy(spec: &Path) -> bool {
    spec.extension().is_some_and(|e| e == "npy") || split_member(spec).is_some()
}

/// `data.npz:X` as (`data.npz`, `Some("X")`), `data.npz` as (`data.npz`, `None`); `None` for
/// anything else.
fn split_member(spec: &Path) -> Option<(PathBuf, Option<String>)> {
    let text = spec.to_string_lossy();
    if text.ends_with(".npz") {
        return Some((spec.to_path_buf(), None));
    }
    let at = text.rfind(".npz:")?;
    Some((PathBuf::from(&text[..at + 4]), Some(text[at + 5..].to_string())))
}

/// One array of the `.npz` archive `path`.
fn read_npz(path: &Path, member: Option<&str>) -> Result<NpyArray, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| format!("not a NumPy .npz archive ({e})"))?;
    let mut names: Vec<String> =
        archive.file_names().filter_map(|n| n.ok()?.strip_suffix(".npy").map(str::to_string)).collect();
    names.sort();
    let name = match member {
        Some(m) => m.to_string(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(format!(
                "an .npz archive of {} arrays: name one as {}:NAME ({})",
                names.len(),
                path.display(),
                names.join(", ")
            ))
        }
    };
    let mut entry = archive
        .by_name(&format!("{name}.npy"))
        .map_err(|_| format!("no array `{name}` in the archive (it holds {})", names.join(", ")))?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 30));
    entry.read_to_end(&mut bytes).map_err(|e| format!("array `{name}`: truncated or damaged ({e})"))?;
    parse_npy(&bytes).map_err(|e| format!("array `{name}`: {e}"))
}

/// An `.npy` file's bytes as an array.
fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    let file = NpyFile::new(bytes).map_err(|e| format!("not a NumPy .npy file ({e})"))?;
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let order = file.order();
    let npyz::DType::Plain(ty) = file.dtype() else {
        return Err("a record or array element type: the features must be plain numbers".into());
    };
    let truncated = |e: std::io::Error| format!("truncated or malformed data ({e})");
    let values: Vec<f64> = match (ty.type_char(), ty.size_field()) {
        (TypeChar::Float, 8) => file.into_vec::<f64>().map_err(truncated)?,
        (TypeChar::Float, 4) => file.into_vec::<f32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 8) => file.into_vec::<i64>().map_err(truncated)?.into_iter().map(|v| v as f64).collect(),
        (TypeChar::Int, 4) => file.into_vec::<i32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 2) => file.into_vec::<i16>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 1) => file.into_vec::<i8>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 8) => file.into_vec::<u64>().map_err(truncated)?.into_iter().map(|v| v as f64).collect(),
        (TypeChar::Uint, 4) => file.into_vec::<u32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 2) => file.into_vec::<u16>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 1) => file.into_vec::<u8>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Bool, 1) => file.into_vec::<bool>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        _ => return Err(format!("element type `{ty}`: the features must be floats, integers or booleans")),
    };
    let count: usize = shape.iter().product();
    if values.len() != count {
        return Err(format!("{} numbers for the shape {shape:?}", values.len()));
    }
    let values = if order == Order::Fortran && shape.len() > 1 { to_c_order(&values, &shape) } else { values };
    Ok(NpyArray { values, shape })
}

/// Fortran-order numbers (the first index fastest) in C order.
fn to_c_order(values: &[f64], shape: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    let mut index = vec![0usize; shape.len()];
    for &v in values {
        // `index` walks the array in Fortran order; its C-order offset is computed here.
        let offset = index.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i);
        out[offset] = v;
        for (i, &d) in index.iter_mut().zip(shape) {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    out
}
