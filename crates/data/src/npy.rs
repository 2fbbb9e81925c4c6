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

/// The header of a C-order `.npy` file (NumPy's format 1.0: magic, version, a little-endian
/// header length, the dictionary padded with spaces to a multiple of 64 bytes and a newline), for
/// `descr` (`<f4`, `<f8`, ...) and `shape`: write it, then the elements, to stream a file of any
/// size row by row.
pub fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(u16::try_from(text.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend(text.as_bytes());
    out
}

/// A 2-D `.npy` file (samples x features, C order) read chunk by chunk, for data larger than
/// memory: opening reads the header and checks the file's length; each pass reads
/// `chunk_rows` rows at a time as f64, and [`cg_core::RowChunks::row`] reads one row by seeking.
/// Memory stays at one chunk whatever the file's size. The numbers are those [`read_npy`] gives.
#[derive(Debug)]
pub struct NpyRows {
    path: PathBuf,
    offset: u64,
    rows: usize,
    dim: usize,
    element: Element,
    chunk_rows: usize,
    /// The handle single rows are read through (online training reads one sample at a time).
    single: std::sync::Mutex<Option<std::sync::Arc<std::fs::File>>>,
}

/// How one stored number is decoded.
#[derive(Clone, Copy, Debug)]
struct Element {
    kind: TypeChar,
    size: usize,
    big_endian: bool,
}

impl Element {
    fn decode(self, b: &[u8]) -> f64 {
        macro_rules! num {
            ($t:ty) => {{
                let bytes = b.try_into().expect("internal: element width checked");
                if self.big_endian {
                    <$t>::from_be_bytes(bytes)
                } else {
                    <$t>::from_le_bytes(bytes)
                }
            }};
        }
        match (self.kind, self.size) {
            (TypeChar::Float, 8) => num!(f64),
            (TypeChar::Float, 4) => f64::from(num!(f32)),
            (TypeChar::Int, 8) => num!(i64) as f64,
            (TypeChar::Int, 4) => f64::from(num!(i32)),
            (TypeChar::Int, 2) => f64::from(num!(i16)),
            (TypeChar::Int, 1) => f64::from(b[0] as i8),
            (TypeChar::Uint, 8) => num!(u64) as f64,
            (TypeChar::Uint, 4) => f64::from(num!(u32)),
            (TypeChar::Uint, 2) => f64::from(num!(u16)),
            _ => f64::from(b[0]),
        }
    }
}

impl NpyRows {
    /// Fills `bytes` from byte `at` of the file, through the handle kept for single rows: one
    /// positioned read (pread) on Unix, so threads need not take turns; a seek and a read under
    /// the lock elsewhere.
    fn read_at(&self, at: u64, bytes: &mut [u8]) -> std::io::Result<()> {
        let mut single = self.single.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if single.is_none() {
            *single = Some(std::sync::Arc::new(std::fs::File::open(&self.path)?));
        }
        let file = std::sync::Arc::clone(single.as_ref().expect("internal: opened above"));
        #[cfg(unix)]
        {
            drop(single);
            std::os::unix::fs::FileExt::read_exact_at(&*file, bytes, at)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek};
            let mut handle = &*file;
            handle.seek(std::io::SeekFrom::Start(at))?;
            handle.read_exact(bytes)
        }
    }

    /// Opens `path` for reading in chunks of `chunk_rows` rows (at least 1).
    ///
    /// # Errors
    /// Not an `.npy` file, not 2-D, Fortran order (rows are not contiguous: save with
    /// `np.ascontiguousarray`), an element type that is not a number, a length that does not
    /// match the header (cut short).
    pub fn open(path: &Path, chunk_rows: usize) -> Result<NpyRows, String> {
        use std::io::{Read, Seek};
        let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
        let header =
            NpyFile::new(std::io::BufReader::new(&mut file)).map_err(|e| format!("not a NumPy .npy file ({e})"))?;
        let shape: Vec<usize> = header.shape().iter().map(|&d| d as usize).collect();
        let [rows, dim] = shape[..] else {
            return Err(format!("shape {shape:?}: expected samples x features (2 dimensions)"));
        };
        if header.order() == Order::Fortran && rows > 1 && dim > 1 {
            return Err(
                "Fortran order: rows are not contiguous on disk; save it with np.ascontiguousarray to stream it".into(),
            );
        }
        let npyz::DType::Plain(ty) = header.dtype() else {
            return Err("a record or array element type: the features must be plain numbers".into());
        };
        let size = usize::try_from(ty.size_field()).unwrap_or(0);
        let numeric = matches!(
            (ty.type_char(), size),
            (TypeChar::Float, 4 | 8) | (TypeChar::Int | TypeChar::Uint, 1 | 2 | 4 | 8) | (TypeChar::Bool, 1)
        );
        if !numeric {
            return Err(format!("element type `{ty}`: the features must be floats, integers or booleans"));
        }
        let element = Element { kind: ty.type_char(), size, big_endian: ty.endianness() == npyz::Endianness::Big };
        drop(header);
        // The data start after the header: 10 bytes then a u16 length (version 1), else 12 and a u32.
        let mut start = [0u8; 12];
        file.seek(std::io::SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut start))
            .map_err(|e| format!("cannot read: {e}"))?;
        let offset = if start[6] == 1 {
            10 + u64::from(u16::from_le_bytes([start[8], start[9]]))
        } else {
            12 + u64::from(u32::from_le_bytes([start[8], start[9], start[10], start[11]]))
        };
        let expected =
            (rows as u64).checked_mul(dim as u64).and_then(|n| n.checked_mul(size as u64)).map(|n| n + offset);
        let length = file.metadata().map_err(|e| format!("cannot read: {e}"))?.len();
        if expected != Some(length) {
            return Err(format!(
                "truncated or malformed data ({length} bytes; the header's shape {shape:?} needs {})",
                expected.map_or_else(|| "more than can be addressed".into(), |e| e.to_string())
            ));
        }
        Ok(NpyRows {
            path: path.to_path_buf(),
            offset,
            rows,
            dim,
            element,
            chunk_rows: chunk_rows.max(1),
            single: std::sync::Mutex::new(None),
        })
    }

    /// Bytes of one chunk as read, and as f64 values: what a pass holds in memory.
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_rows.min(self.rows) * self.dim * (self.element.size + 8)
    }

    fn read_rows(
        &self,
        file: &mut std::fs::File,
        bytes: &mut Vec<u8>,
        out: &mut Vec<f64>,
        count: usize,
    ) -> Result<(), String> {
        use std::io::Read;
        bytes.resize(count * self.dim * self.element.size, 0);
        file.read_exact(bytes).map_err(|e| format!("{}: cut short while reading ({e})", self.path.display()))?;
        out.clear();
        out.extend(bytes.chunks_exact(self.element.size).map(|b| self.element.decode(b)));
        Ok(())
    }
}

impl cg_core::RowChunks for NpyRows {
    fn dim(&self) -> usize {
        self.dim
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn for_each_chunk(&self, visit: &mut cg_core::rows::ChunkVisitor) -> Result<(), String> {
        use std::io::Seek;
        let mut file = std::fs::File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        file.seek(std::io::SeekFrom::Start(self.offset)).map_err(|e| format!("{}: {e}", self.path.display()))?;
        let (mut bytes, mut values) = (vec![], vec![]);
        let mut first = 0;
        while first < self.rows {
            let count = self.chunk_rows.min(self.rows - first);
            self.read_rows(&mut file, &mut bytes, &mut values, count)?;
            visit(first, &values)?;
            first += count;
        }
        Ok(())
    }

    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String> {
        if j >= self.rows {
            return Err(format!("{}: no row {j} of {}", self.path.display(), self.rows));
        }
        let at = self.offset + (j * self.dim * self.element.size) as u64;
        let mut bytes = vec![0u8; self.dim * self.element.size];
        self.read_at(at, &mut bytes).map_err(|e| format!("{}: cut short while reading ({e})", self.path.display()))?;
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(self.element.size)) {
            *o = self.element.decode(b);
        }
        Ok(())
    }
}
