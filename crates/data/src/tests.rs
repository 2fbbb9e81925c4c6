//! Unit tests of reading, splitting and loading data.

use std::path::PathBuf;

use nalgebra::DMatrix;

use super::*;

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn loads_features_as_columns_and_the_named_target() {
    let (_d, p) = write("a,target,b\n1,0,2\n3,1,4\n");
    let d = load_csv(&p, "target").unwrap();
    assert_eq!(d.features, DMatrix::from_row_slice(2, 2, &[1.0, 3.0, 2.0, 4.0]));
    assert_eq!(d.targets, vec![0.0, 1.0]);
    assert_eq!(d.feature_names, vec!["a", "b"]);
    assert_eq!(d.class_count().unwrap(), 2);
}

#[test]
fn bad_files_say_where() {
    let (_d, p) = write("a,target\n1,0\nx,1\n");
    assert!(load_csv(&p, "target").unwrap_err().to_string().ends_with("line 3, column 1 (`a`): `x` is not a number"));
    let (_d, p) = write("a,target\n1,0,5\n");
    assert!(load_csv(&p, "target").unwrap_err().to_string().ends_with("line 2 has 3 cells, the header has 2"));
    let (_d, p) = write("a,b\n1,0\n");
    assert!(load_csv(&p, "target").unwrap_err().to_string().ends_with("no column named `target` (columns: a, b)"));
}

#[test]
fn crlf_files_count_lines_as_lf_files_and_missing_cells_name_their_column() {
    for end in ["\n", "\r\n"] {
        let text = ["a,target", "1,0", "", "2,1", "x,1"].join(end) + end;
        let (_d, p) = write(&text);
        let err = read_table(&p).unwrap_err().to_string();
        assert!(err.ends_with("line 5, column 1 (`a`): `x` is not a number"), "{end:?}: {err}");
        let (_d, p) = write(&(["a,target", "1,0", "2"].join(end) + end));
        let err = read_table(&p).unwrap_err().to_string();
        assert!(err.ends_with("line 3 has 1 cells, the header has 2"), "{end:?}: {err}");
        let (_d, p) = write(&(["a,target", "1,0", "2,"].join(end) + end));
        let err = read_table(&p).unwrap_err().to_string();
        assert!(err.ends_with("line 3, column 2 (`target`): the cell is empty (a missing value)"), "{end:?}: {err}");
    }
    // A quoted cell that swallowed the rest of the file is shown cut, on one line.
    let (_d, p) = write(&format!("a,target\n\"{}\n", "1,2\n".repeat(100)));
    let err = read_table(&p).unwrap_err().to_string();
    assert!(!err.contains('\n') && err.len() < 300, "{err}");
}

#[test]
fn quoted_fields_crlf_and_bad_headers() {
    let (_d, p) = write("\"a, first\",\"target\"\r\n\"1.5\",0\r\n\r\n2,1\r\n");
    let t = read_table(&p).unwrap();
    assert_eq!(t.columns, vec!["a, first", "target"]);
    assert_eq!(t.rows, vec![vec![1.5, 0.0], vec![2.0, 1.0]]);
    let (_d, p) = write("a,b,a\n1,2,3\n");
    assert!(read_table(&p).unwrap_err().to_string().ends_with("line 1: columns 1 and 3 are both named `a`"));
    let (_d, p) = write(",a\n0,1\n");
    assert!(read_table(&p).unwrap_err().to_string().ends_with("line 1: column 1 has no name"));
    let (_d, p) = write("a,b\n1,2\n\"3,4\n");
    assert!(read_table(&p).is_err());
    let (_d, p) = write("");
    assert!(read_table(&p).unwrap_err().to_string().ends_with("no data rows"));
}

#[test]
fn split_is_seeded_and_disjoint() {
    let d = linear_teacher(100, 3, 2, 1);
    let (tr, te) = d.split(0.2, 7).unwrap();
    assert_eq!((tr.n_samples(), te.n_samples()), (80, 20));
    assert_eq!(d.split(0.2, 7).unwrap().1, te, "same seed, same split");
    assert_ne!(d.split(0.2, 8).unwrap().1, te, "another seed, another split");
    // Every sample lands in exactly one part: compare column sums of features.
    let total: f64 = d.features.sum();
    assert!((tr.features.sum() + te.features.sum() - total).abs() < 1e-9);
}

#[test]
fn standardized_training_features_have_zero_mean_unit_variance() {
    let mut d = linear_teacher(500, 4, 3, 2);
    d.features.row_mut(1).apply(|v| *v = 3.0 * *v + 10.0);
    d.features.row_mut(2).fill(5.0); // constant: maps to 0
    let s = Standardizer::fit(&d);
    s.apply(&mut d);
    for (f, row) in d.features.row_iter().enumerate() {
        let m = row.sum() / 500.0;
        let v = row.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 500.0;
        assert!(m.abs() < 1e-12, "feature {f} mean {m}");
        assert!(if f == 2 { v == 0.0 } else { (v - 1.0).abs() < 1e-12 }, "feature {f} variance {v}");
    }
}

#[test]
fn teacher_labels_are_the_argmax_class() {
    let d = linear_teacher(50, 5, 4, 3);
    assert!(d.class_count().unwrap() <= 4);
    assert!(d.targets.iter().all(|&t| (0.0..4.0).contains(&t)));
}

/// An `.npy` file as NumPy's format description lays it out (version 1.0: magic, version, a
/// little-endian header length, a Python-literal header padded with spaces to a multiple of 64
/// bytes and ending in a newline, then the raw elements): written here, independently of the
/// reader.
fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let order = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn le<T: Copy, const N: usize>(values: &[T], bytes: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| bytes(v)).collect()
}

fn npy_config(dir: &std::path::Path, files: &[(&str, Vec<u8>)], extra: &str) -> DataConfig {
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    toml::from_str(&format!("npy = \"x.npy\"\nlabels = \"y.npy\"\n{extra}")).unwrap()
}

#[test]
fn npy_features_and_labels_load_in_any_order_and_type() {
    let dir = tempfile::tempdir().unwrap();
    // Three samples of two features: [[1, 2], [3, 4], [5, 6]].
    let c = npy_bytes("<f8", false, &[3, 2], &le(&[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], f64::to_le_bytes));
    let f = npy_bytes("<f4", true, &[3, 2], &le(&[1.0f32, 3.0, 5.0, 2.0, 4.0, 6.0], f32::to_le_bytes));
    let big = npy_bytes(">i4", false, &[3, 2], &le(&[1i32, 2, 3, 4, 5, 6], i32::to_be_bytes));
    let y = npy_bytes("<i8", false, &[3], &le(&[0i64, 1, 1], i64::to_le_bytes));
    let expected = DMatrix::from_row_slice(2, 3, &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    for x in [c, f, big] {
        let splits = npy_config(dir.path(), &[("x.npy", x), ("y.npy", y.clone())], "").load(dir.path(), 0).unwrap();
        assert_eq!(splits.train.features, expected);
        assert_eq!(splits.train.targets, vec![0.0, 1.0, 1.0]);
        assert_eq!(splits.train.feature_names, ["x0", "x1"]);
    }
    // Booleans and a column of labels (n x 1) work too.
    let x = npy_bytes("|b1", false, &[3, 1], &[1, 0, 1]);
    let y = npy_bytes("|u1", false, &[3, 1], &[2, 0, 1]);
    let splits = npy_config(dir.path(), &[("x.npy", x), ("y.npy", y)], "").load(dir.path(), 0).unwrap();
    assert_eq!(splits.train.features, DMatrix::from_row_slice(1, 3, &[1.0, 0.0, 1.0]));
    assert_eq!(splits.train.targets, vec![2.0, 0.0, 1.0]);
}

#[test]
fn bad_npy_files_are_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let x = npy_bytes("<f8", false, &[2, 2], &le(&[1.0f64, 2.0, 3.0, 4.0], f64::to_le_bytes));
    let y = npy_bytes("<f8", false, &[2], &le(&[0.0f64, 1.0], f64::to_le_bytes));
    let error = |files: &[(&str, Vec<u8>)], extra: &str| {
        let e = npy_config(dir.path(), files, extra).load(dir.path(), 0).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        e
    };
    let ok = error(&[("x.npy", x.clone()), ("y.npy", y.clone())], "test_fraction = 2.0");
    assert!(ok.contains("test_fraction"), "{ok}");
    let short = x[..x.len() - 3].to_vec();
    assert!(error(&[("x.npy", short), ("y.npy", y.clone())], "").starts_with("[data] npy x.npy: truncated"));
    let text = npy_bytes("<U3", false, &[2, 2], &[0; 48]);
    let e = error(&[("x.npy", text), ("y.npy", y.clone())], "");
    assert!(e.contains("element type") && e.contains("floats, integers or booleans"), "{e}");
    assert!(error(&[("x.npy", b"a,b\n1,2\n".to_vec()), ("y.npy", y.clone())], "").contains("not a NumPy .npy file"));
    let three = npy_bytes("<f8", false, &[1, 2, 2], &le(&[1.0f64, 2.0, 3.0, 4.0], f64::to_le_bytes));
    assert!(error(&[("x.npy", three), ("y.npy", y.clone())], "").contains("expected samples x features"));
    let y3 = npy_bytes("<f8", false, &[3], &le(&[0.0f64, 1.0, 0.0], f64::to_le_bytes));
    let e = error(&[("x.npy", x.clone()), ("y.npy", y3)], "");
    assert_eq!(e, "[data] labels y.npy: shape [3]: expected 2 targets, one per sample of npy");
    let nan = npy_bytes("<f8", false, &[2, 2], &le(&[1.0f64, 2.0, f64::NAN, 4.0], f64::to_le_bytes));
    let e = error(&[("x.npy", nan), ("y.npy", y.clone())], "");
    assert_eq!(e, "[data] npy x.npy: sample 2, feature 1 is NaN: every value must be finite");
    std::fs::remove_file(dir.path().join("y.npy")).unwrap();
    assert!(error(&[("x.npy", x.clone())], "").starts_with("[data] labels y.npy: cannot read"));
    let no_labels: DataConfig = toml::from_str("npy = \"x.npy\"").unwrap();
    assert!(no_labels.load(dir.path(), 0).unwrap_err().to_string().contains("labels"));
    let no_npy: DataConfig = toml::from_str("csv = \"a.csv\"\nlabels = \"y.npy\"").unwrap();
    assert!(matches!(no_npy.load(dir.path(), 0), Err(ConfigError::Sources)));
}

fn table_config(text: &str, extra: &str) -> (tempfile::TempDir, Result<Splits, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.csv"), text).unwrap();
    let config: DataConfig = toml::from_str(&format!("csv = \"d.csv\"\n{extra}")).unwrap();
    let splits = config.load(dir.path(), 0);
    (dir, splits)
}

const PETS: &str = "id,name,colour,size,label\n\
    a1,Rex the dog,red,3.5,dog\n\
    a2,\"Tom, a cat\",blue,1.0,cat\n\
    a3,2021-05-01,red,4.0,dog\n\
    a4,Polly,green,0.5,bird\n";

#[test]
fn text_columns_not_selected_are_never_parsed_and_categories_become_one_hot_features() {
    let extra = "target = \"label\"\nfeatures = [\"colour\", \"size\"]\ncategorical = [\"colour\"]";
    let (_d, splits) = table_config(PETS, extra);
    let s = splits.unwrap();
    assert_eq!(s.train.feature_names, ["colour=blue", "colour=green", "colour=red", "size"]);
    // Samples as columns: red 3.5, blue 1.0, red 4.0, green 0.5.
    let expected = DMatrix::from_row_slice(
        4,
        4,
        &[
            0.0, 1.0, 0.0, 0.0, //
            0.0, 0.0, 0.0, 1.0, //
            1.0, 0.0, 1.0, 0.0, //
            3.5, 1.0, 4.0, 0.5,
        ],
    );
    assert_eq!(s.train.features, expected);
    // Text labels: classes sorted, coded by their place.
    assert_eq!(s.class_names, ["bird", "cat", "dog"]);
    assert_eq!(s.train.targets, [2.0, 1.0, 2.0, 0.0]);
    assert_eq!(s.transform.classes, ["bird", "cat", "dog"]);
    assert_eq!(s.transform.sources.len(), 2);
    // class_names orders the classes instead; a label not among them is named with its line.
    let (_d, s) = table_config(PETS, &format!("{extra}\nclass_names = [\"dog\", \"cat\", \"bird\"]"));
    assert_eq!(s.unwrap().train.targets, [0.0, 1.0, 0.0, 2.0]);
    let (_d, s) = table_config(PETS, &format!("{extra}\nclass_names = [\"dog\", \"cat\"]"));
    let e = s.err().unwrap().to_string();
    assert!(e.ends_with("d.csv: line 5: the label `bird` is not among class_names (dog, cat)"), "{e}");
    // Without `features`, the text columns are features and the first text cell is named.
    let (_d, s) = table_config(PETS, "target = \"label\"");
    let e = s.err().unwrap().to_string();
    assert!(e.ends_with("line 2, column 1 (`id`): `a1` is not a number"), "{e}");
    let (_d, s) = table_config(PETS, "target = \"label\"\nfeatures = [\"size\"]\ncategorical = [\"colour\"]");
    assert_eq!(s.err().unwrap().to_string(), "[data] categorical: `colour` is not one of the features");
}

#[test]
fn missing_cells_are_refused_dropped_or_filled_with_the_training_mean() {
    let text = "x,c,y\n1.0,a,0\n,b,1\n3.0,,0\n5.0,a,\n";
    let (_d, s) = table_config(text, "target = \"y\"\ncategorical = [\"c\"]");
    let e = s.err().unwrap().to_string();
    assert!(e.ends_with("d.csv: line 3, column 1 (`x`): the cell is empty (a missing value)"), "{e}");
    let (_d, s) = table_config(text, "target = \"y\"\ncategorical = [\"c\"]\nmissing = \"drop_rows\"");
    let s = s.unwrap();
    assert_eq!(s.train.n_samples(), 1);
    assert_eq!(s.train.features.as_slice(), [1.0, 1.0]); // x = 1, c=a (the only category left)
                                                         // mean: a missing target cannot be filled.
    let (_d, s) = table_config(text, "target = \"y\"\ncategorical = [\"c\"]\nmissing = \"mean\"");
    assert!(s.err().unwrap().to_string().ends_with("line 5, column 3 (`y`): the cell is empty (a missing value)"));
    let text = "x,c,y\n1.0,a,0\n,b,1\n3.0,,0\n5.0,a,1\n";
    let (_d, s) = table_config(text, "target = \"y\"\ncategorical = [\"c\"]\nmissing = \"mean\"");
    let s = s.unwrap();
    // x's mean over its three values, (1 + 3 + 5) / 3 = 3; c's one-hot means are the categories'
    // frequencies among the three rows that have one: a 2/3, b 1/3.
    let means = [3.0, 2.0 / 3.0, 1.0 / 3.0];
    assert_eq!(s.transform.impute.as_deref(), Some(&means[..]));
    assert_eq!(s.train.features.column(1).as_slice(), [3.0, 0.0, 1.0]);
    assert_eq!(s.train.features.column(2).as_slice(), [3.0, means[1], means[2]]);
    // New rows go through the same steps: an empty cell is filled, an unseen category refused.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.csv");
    std::fs::write(&path, "y,c,x,note\n0,b,,free text\n1,a,7,\n").unwrap();
    let new = read_text_table(&path, &CsvOptions::default()).unwrap();
    let encoded = s.transform.encode(&new).unwrap();
    let x = s.transform.features_of(&encoded).unwrap();
    assert_eq!(x, DMatrix::from_row_slice(3, 2, &[3.0, 7.0, 0.0, 1.0, 1.0, 0.0]));
    std::fs::write(&path, "x,c\n1,a\n2,z\n").unwrap();
    let new = read_text_table(&path, &CsvOptions::default()).unwrap();
    let e = s.transform.encode(&new).unwrap_err().to_string();
    assert!(
        e.ends_with("new.csv: line 3: column `c`: the category `z` was not seen in training (categories: a, b)"),
        "{e}"
    );
}

#[test]
fn delimiters_and_gzip_files_read_like_plain_csv() {
    let plain = "a;b;target\n1;2;0\n3;4;1\n";
    let (_d, s) = table_config(plain, "delimiter = \";\"");
    assert_eq!(s.unwrap().train.features, DMatrix::from_row_slice(2, 2, &[1.0, 3.0, 2.0, 4.0]));
    let (_d, s) = table_config(plain, "delimiter = \";;\"");
    assert!(s.err().unwrap().to_string().starts_with("[data] delimiter = \";;\": one ASCII character"));
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"a,target\r\n1,0\r\n\r\n2,x\r\n").unwrap();
    let path = dir.path().join("d.csv.gz");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    // CRLF with a blank line: the bad cell is on line 4 of the decompressed text.
    let e = read_table(&path).unwrap_err().to_string();
    assert!(e.ends_with("d.csv.gz: line 4, column 2 (`target`): `x` is not a number"), "{e}");
    std::fs::write(&path, b"not gzip").unwrap();
    assert!(read_table(&path).unwrap_err().to_string().starts_with("cannot read"));
}

/// The repository's `data/` folder (fixtures written by real NumPy and pyarrow).
fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

#[test]
fn npz_archives_written_by_numpy_read_as_the_csv_they_came_from() {
    let iris = crate::read_table(&data_dir().join("iris.csv")).unwrap();
    let csv_x: Vec<f64> = iris.rows.iter().flat_map(|r| r[..4].to_vec()).collect();
    let csv_y: Vec<f64> = iris.rows.iter().map(|r| r[4]).collect();
    // savez_compressed (deflate), float64 C order; savez (stored), float32 Fortran order.
    let x = crate::npy::read_array(&data_dir().join("fixtures/iris.npz:X")).unwrap();
    assert_eq!((x.shape.clone(), &x.values), (vec![150, 4], &csv_x));
    let f32x = crate::npy::read_array(&data_dir().join("fixtures/iris_f32_fortran.npz:X")).unwrap();
    let rounded: Vec<f64> = csv_x.iter().map(|&v| f64::from(v as f32)).collect();
    assert_eq!((f32x.shape, f32x.values), (vec![150, 4], rounded));
    for file in ["iris.npz", "iris_f32_fortran.npz"] {
        let y = crate::npy::read_array(&data_dir().join(format!("fixtures/{file}:y"))).unwrap();
        assert_eq!(y.values, csv_y, "{file}");
    }
    // As a [data] source: the same split as the CSV's numbers give.
    let config: DataConfig =
        toml::from_str("npy = \"fixtures/iris.npz:X\"\nlabels = \"fixtures/iris.npz:y\"\ntest_fraction = 0.2").unwrap();
    let splits = config.load(&data_dir(), 3).unwrap();
    let plain: DataConfig = toml::from_str("csv = \"iris.csv\"\ntest_fraction = 0.2").unwrap();
    let reference = plain.load(&data_dir(), 3).unwrap();
    assert_eq!(splits.train.features, reference.train.features);
    assert_eq!(splits.train.targets, reference.train.targets);
    assert_eq!(splits.test_rows, reference.test_rows);
}

#[test]
fn bad_npz_archives_are_one_line_naming_the_array() {
    let read = |spec: &str| crate::npy::read_array(&data_dir().join(spec)).unwrap_err();
    let e = read("fixtures/iris_f32_fortran.npz");
    assert!(e.starts_with("an .npz archive of 3 arrays: name one as ") && e.ends_with(":NAME (X, names, y)"), "{e}");
    assert_eq!(read("fixtures/iris.npz:Y"), "no array `Y` in the archive (it holds X, y)");
    let e = read("fixtures/iris_f32_fortran.npz:names");
    assert!(e.starts_with("array `names`: element type") && e.contains("floats, integers or booleans"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.npz"), b"not a zip").unwrap();
    let e = crate::npy::read_array(&dir.path().join("bad.npz:X")).unwrap_err();
    assert!(e.starts_with("not a NumPy .npz archive"), "{e}");
    // Cut short: the archive's directory is gone.
    let bytes = std::fs::read(data_dir().join("fixtures/iris.npz")).unwrap();
    std::fs::write(dir.path().join("cut.npz"), &bytes[..bytes.len() / 2]).unwrap();
    let e = crate::npy::read_array(&dir.path().join("cut.npz:X")).unwrap_err();
    assert!(e.starts_with("not a NumPy .npz archive") && !e.contains('\n'), "{e}");
    // In a config: the key and the file named.
    let config: DataConfig = toml::from_str("npy = \"fixtures/iris.npz:x\"\nlabels = \"fixtures/iris.npz:y\"").unwrap();
    let e = config.load(&data_dir(), 0).unwrap_err().to_string();
    assert_eq!(e, "[data] npy fixtures/iris.npz:x: no array `x` in the archive (it holds X, y)");
}

#[test]
fn npy_rows_stream_the_numbers_read_npy_gives() {
    use cg_core::RowChunks as _;
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f64> = (0..23 * 3).map(|k| f64::from(k) * 0.37 - 5.0).collect();
    let files = [
        ("f8.npy", npy_bytes("<f8", false, &[23, 3], &le(&values, f64::to_le_bytes))),
        (
            "f4be.npy",
            npy_bytes(
                ">f4",
                false,
                &[23, 3],
                &le(&values.iter().map(|&v| v as f32).collect::<Vec<_>>(), f32::to_be_bytes),
            ),
        ),
        (
            "i2.npy",
            npy_bytes(
                "<i2",
                false,
                &[23, 3],
                &le(&(0..69).map(|k| k as i16 - 30).collect::<Vec<_>>(), i16::to_le_bytes),
            ),
        ),
        ("u1.npy", npy_bytes("|u1", false, &[23, 3], &(0..69).map(|k| k as u8).collect::<Vec<_>>())),
    ];
    for (name, bytes) in &files {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let whole = crate::npy::read_npy(&path).unwrap().values;
        for chunk_rows in [1, 5, 23, 100] {
            let rows = crate::npy::NpyRows::open(&path, chunk_rows).unwrap();
            assert_eq!((rows.rows(), rows.dim()), (23, 3));
            let mut seen = vec![];
            rows.for_each_chunk(&mut |first, chunk| {
                assert_eq!(first * 3, seen.len(), "chunks come in order");
                assert!(chunk.len() <= chunk_rows * 3);
                seen.extend_from_slice(chunk);
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, whole, "{name} in chunks of {chunk_rows}");
        }
        let rows = crate::npy::NpyRows::open(&path, 4).unwrap();
        let mut one = [0.0; 3];
        for j in [22, 0, 11] {
            rows.row(j, &mut one).unwrap();
            assert_eq!(one[..], whole[j * 3..j * 3 + 3], "{name} row {j}");
        }
        assert!(rows.row(23, &mut one).is_err());
    }
    // The library's header writer lays the header out as this test's own writer does.
    assert_eq!(crate::npy::header("<f4", &[23, 3]), npy_bytes("<f4", false, &[23, 3], &[]));
    assert_eq!(crate::npy::header("<i8", &[1001]), npy_bytes("<i8", false, &[1001], &[]));
    // Cut short, Fortran order, one dimension: refused on opening, one line each.
    let cut = &files[0].1[..files[0].1.len() - 8];
    std::fs::write(dir.path().join("cut.npy"), cut).unwrap();
    let e = crate::npy::NpyRows::open(&dir.path().join("cut.npy"), 4).unwrap_err();
    assert!(e.starts_with("truncated or malformed data") && e.contains("[23, 3]"), "{e}");
    std::fs::write(dir.path().join("f.npy"), npy_bytes("<f8", true, &[23, 3], &le(&values, f64::to_le_bytes))).unwrap();
    let e = crate::npy::NpyRows::open(&dir.path().join("f.npy"), 4).unwrap_err();
    assert!(e.contains("np.ascontiguousarray"), "{e}");
    std::fs::write(dir.path().join("v.npy"), npy_bytes("<f8", false, &[69], &le(&values, f64::to_le_bytes))).unwrap();
    assert!(crate::npy::NpyRows::open(&dir.path().join("v.npy"), 4)
        .unwrap_err()
        .contains("expected samples x features"));
}

#[test]
fn streamed_standardisation_is_the_bits_of_the_in_memory_one() {
    use cg_core::RowChunks as _;
    let dir = tempfile::tempdir().unwrap();
    use rand::{Rng as _, SeedableRng as _};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let values: Vec<f32> = (0..1001 * 5).map(|k| rng.random_range(-3.0f32..7.0) * (1 + k % 5) as f32).collect();
    std::fs::write(dir.path().join("x.npy"), npy_bytes("<f4", false, &[1001, 5], &le(&values, f32::to_le_bytes)))
        .unwrap();
    std::fs::write(
        dir.path().join("y.npy"),
        npy_bytes("<f8", false, &[1001], &le(&vec![0.0f64; 1001], f64::to_le_bytes)),
    )
    .unwrap();
    let whole: DataConfig = toml::from_str("npy = \"x.npy\"\nlabels = \"y.npy\"\nstandardize = true").unwrap();
    let splits = whole.load(dir.path(), 0).unwrap();
    for chunk_rows in [1, 100, 2000] {
        let streamed: DataConfig =
            toml::from_str(&format!("npy = \"x.npy\"\nstream = true\nchunk_rows = {chunk_rows}\nstandardize = true"))
                .unwrap();
        let (rows, transform) = streamed.open_stream(dir.path()).unwrap();
        assert_eq!(transform.standardize, splits.transform.standardize, "chunks of {chunk_rows}");
        let mut seen = vec![];
        rows.for_each_chunk(&mut |_, chunk| {
            seen.extend_from_slice(chunk);
            Ok(())
        })
        .unwrap();
        // Samples are columns in memory (column-major: sample by sample), rows on disk.
        let memory = splits.train.features.as_slice();
        let differ = seen.iter().zip(memory).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert!(seen.len() == memory.len() && differ == 0, "{differ} values differ, chunks of {chunk_rows}");
    }
    // What needs the rows in memory is refused, one line each; other kinds refuse streaming.
    for (extra, says) in [("test_fraction = 0.2", "test or validation split"), ("chunk_rows = 0", "at least 1")] {
        let c: DataConfig = toml::from_str(&format!("npy = \"x.npy\"\nstream = true\n{extra}")).unwrap();
        let e = c.open_stream(dir.path()).unwrap_err().to_string();
        assert!(e.contains(says) && !e.contains('\n'), "{e}");
    }
    let c: DataConfig = toml::from_str("npy = \"x.npy\"\nlabels = \"y.npy\"\nstream = true").unwrap();
    assert!(c.load(dir.path(), 0).unwrap_err().to_string().contains("this kind loads its data whole"));
    // The targets of a streamed source are the loaded ones; a count that differs is one line.
    assert_eq!(c.stream_targets(dir.path(), 1001).unwrap(), splits.train.targets);
    let e = c.stream_targets(dir.path(), 1000).unwrap_err().to_string();
    assert!(e.contains("expected 1000 targets") && !e.contains('\n'), "{e}");
}
