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
