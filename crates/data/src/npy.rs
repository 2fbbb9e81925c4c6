//! NumPy's `.npy` files (what `np.save` writes) as features and targets: floats, integers and
//! booleans of either byte order, C or Fortran order, read as f64 in C (row-major) order.

use std::path::Path;

use npyz::{NpyFile, Order, TypeChar};

/// An array read from a `.npy` file: its numbers in C order and its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The numbers, the last index fastest.
    pub values: Vec<f64>,
    /// The shape (empty for a 0-d array).
    pub shape: Vec<usize>,
}

/// Reads `path`. Errors are one line naming the file: not an `.npy` file, a truncated one, an
/// element type that is not a number (strings, dates, complex, records).
///
/// # Errors
/// As above; the message does not repeat the path (callers name it).
pub fn read_npy(path: &Path) -> Result<NpyArray, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let file = NpyFile::new(&bytes[..]).map_err(|e| format!("not a NumPy .npy file ({e})"))?;
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
