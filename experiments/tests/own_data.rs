//! A user's own CSV (wine, as people have it: a text ID, renamed columns, a categorical column,
//! text labels, empty cells) trains and predicts without preprocessing, and gives the numbers of
//! the same run on a table preprocessed by hand here (one-hot columns, the training means filled
//! in, labels coded): the library's encoding against an independent one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use experiments::{run_with, RunOptions};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const WINES: [&str; 3] = ["barolo", "grignolino", "barbera"];
const REGIONS: [&str; 3] = ["piedmont", "langhe", "asti"];

/// Wine's rows as a user's file: `id`, the 13 measurements (two cells left empty), `region`,
/// `cultivar` (text); every third row's region is by its place.
fn users_csv(rows: &[Vec<f64>], names: &[String]) -> String {
    let mut out = format!("id,{},region,cultivar\n", names[..13].join(","));
    for (k, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row[..13]
            .iter()
            .enumerate()
            .map(|(f, v)| if (k == 4 && f == 1) || (k == 100 && f == 12) { String::new() } else { v.to_string() })
            .collect();
        let _ = writeln!(out, "w{k:03},{},{},{}", cells.join(","), REGIONS[k % 3], WINES[row[13] as usize]);
    }
    out
}

/// The user's wine columns as features, the region one-hot, empty cells filled with the means.
const WINE_SETTINGS: &str = "class_names = [\"barolo\", \"grignolino\", \"barbera\"]\n\
                 features = [\"alcohol\", \"malic_acid\", \"ash\", \"alcalinity_of_ash\", \"magnesium\", \
                 \"total_phenols\", \"flavanoids\", \"nonflavanoid_phenols\", \"proanthocyanins\", \
                 \"color_intensity\", \"hue\", \"od280_od315_of_diluted_wines\", \"proline\", \"region\"]\n\
                 categorical = [\"region\"]\nmissing = \"mean\"";

fn config(csv: &str, extra: &str) -> String {
    format!(
        "kind = \"mlp\"\nseed = 0\n[data]\ncsv = \"{csv}\"\ntest_fraction = 0.2\nstandardize = true\n{extra}\n\
         [model]\nlayers = [16, 3]\noutput = \"identity\"\nloss = \"softmax_cross_entropy\"\ninit = \"xavier\"\n\
         [optimizer]\nmethod = \"sgd\"\nlearning_rate = 0.5\n[train]\nepochs = 200\nbatch_size = 100000\n"
    )
}

fn run(dir: &Path, name: &str, text: &str) -> (Value, PathBuf) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let outcome = run_with(&path, &[], &RunOptions::default()).unwrap();
    let out = dir.join(format!("{name}.out"));
    experiments::write(&outcome, &out).unwrap();
    (serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap(), out)
}

#[test]
fn a_users_csv_trains_and_predicts_as_the_same_table_preprocessed_by_hand() {
    let wine = cg_data::read_table(&root().join("data/wine.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wine_own.csv"), users_csv(&wine.rows, &wine.columns)).unwrap();
    let extra = format!("target = \"cultivar\"\n{WINE_SETTINGS}");
    let extra = extra.as_str();
    let (ours, out) = run(dir.path(), "own.toml", &config("wine_own.csv", extra));

    // By hand: the training split's means (the split is by seed and row count, reported), the
    // regions one-hot in sorted order (asti, langhe, piedmont), the classes coded by class_names.
    let test: Vec<usize> = ours["test_rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let missing = |k: usize, f: usize| (k == 4 && f == 1) || (k == 100 && f == 12);
    let mean = |f: usize| {
        let values: Vec<f64> =
            (0..wine.rows.len()).filter(|k| !test.contains(k) && !missing(*k, f)).map(|k| wine.rows[k][f]).collect();
        values.iter().sum::<f64>() / values.len() as f64
    };
    let (m1, m12) = (mean(1), mean(12));
    let mut plain = format!("{},region=asti,region=langhe,region=piedmont,target\n", wine.columns[..13].join(","));
    for (k, row) in wine.rows.iter().enumerate() {
        let cells: Vec<String> = (0..13)
            .map(|f| match (k, f) {
                (4, 1) => format!("{m1:?}"),
                (100, 12) => format!("{m12:?}"),
                _ => format!("{:?}", row[f]),
            })
            .collect();
        let region = ["asti", "langhe", "piedmont"].map(|r| u8::from(r == REGIONS[k % 3]).to_string());
        let _ = writeln!(plain, "{},{},{}", cells.join(","), region.join(","), row[13]);
    }
    std::fs::write(dir.path().join("wine_plain.csv"), plain).unwrap();
    let (by_hand, _) = run(
        dir.path(),
        "plain.toml",
        &config("wine_plain.csv", "class_names = [\"barolo\", \"grignolino\", \"barbera\"]"),
    );
    for key in ["train_accuracy", "test_accuracy", "test_rows"] {
        assert_eq!(ours[key], by_hand[key], "{key}");
    }
    // The training means are summed in the split's order here and in the file's order by hand,
    // so the filled cells may differ in their last bit.
    let curve = |v: &Value| v["loss_curve"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>();
    for (a, b) in curve(&ours)
        .iter()
        .zip(curve(&by_hand))
        .chain([(&ours["final_loss"].as_f64().unwrap(), by_hand["final_loss"].as_f64().unwrap())])
    {
        assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
    }

    // predict reads the same file (ID and label columns ignored, cells filled as in training)
    // and names the classes; its accuracy on the training rows is the run's.
    let p = experiments::predict::predict(&out, &dir.path().join("wine_own.csv")).unwrap();
    let csv = p.csv();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("class,class_name,p_0"), "{header}");
    let names: Vec<String> = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect();
    let train: Vec<usize> = (0..wine.rows.len()).filter(|k| !test.contains(k)).collect();
    let right = train.iter().filter(|&&k| names[k] == WINES[wine.rows[k][13] as usize]).count();
    assert_eq!(right as f64 / train.len() as f64, ours["train_accuracy"].as_f64().unwrap());

    // A region never seen in training is refused with its line, through the binary (exit 2).
    let new = dir.path().join("new.csv");
    std::fs::write(&new, "alcohol,malic_acid,ash,alcalinity_of_ash,magnesium,total_phenols,flavanoids,nonflavanoid_phenols,proanthocyanins,color_intensity,hue,od280_od315_of_diluted_wines,proline,region\n13,2,2.4,19,100,2.3,2,0.36,1.6,5,0.96,2.6,750,tuscany\n").unwrap();
    let exe = env!("CARGO_BIN_EXE_experiments");
    let output = std::process::Command::new(exe).args(["predict"]).arg(&out).arg("--data").arg(&new).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("line 2: column `region`: the category `tuscany` was not seen in training (categories: asti, langhe, piedmont)"), "{stderr}");
}

/// A ratings file of 100,000 users trains a factorisation with embeddings: two code columns in,
/// no one-hot columns (the model's parameters are its tables), and a held-out error below what
/// the global mean gives, after one epoch.
#[test]
fn a_hundred_thousand_users_factorise_with_embeddings() {
    let tmp = tempfile::tempdir().unwrap();
    let spec =
        cg_data::ratings::RatingsSpec { users: 100_000, items: 500, rank: 4, ratings: 400_000, noise: 0.1, seed: 1 };
    std::fs::write(tmp.path().join("ratings.csv"), cg_data::ratings::low_rank_ratings(&spec)).unwrap();
    let text = "kind = \"model\"\nseed = 0\n[data]\ncsv = \"ratings.csv\"\ntarget = \"rating\"\ntest_fraction = 0.1\n\
        ids = [\"user\", \"item\"]\n[model]\ninputs = { user = 1, item = 1 }\ntargets = { r = 1 }\npredict = \"o\"\n\
        loss = \"squared_error(o, r)\"\n[model.params]\nU = { shape = [4, 100000], normal = 0.1 }\n\
        V = { shape = [4, 500], normal = 0.1 }\nbi = { shape = [1, 500], init = \"zeros\" }\nmu = { shape = [1], value = 3.0 }\n\
        [model.nodes]\no = \"sum(embed(U, user) * embed(V, item), 0) + embed(bi, item) + mu\"\n\
        [optimizer]\nmethod = \"adam\"\nlearning_rate = 0.01\n[train]\nepochs = 1\nbatch_size = 1024\n";
    let (m, _) = run(tmp.path(), "ratings", text);
    assert_eq!(m["parameters"], 4 * 100_000 + 4 * 500 + 500 + 1);
    assert_eq!(m["samples"]["train"], 360_000);
    // The ratings' own spread around 3 is about 0.58 (variance 1/3 from the factors, 0.01 noise).
    let test = m["test_loss"].as_f64().unwrap();
    assert!(test < 0.3, "held-out mean squared error {test}");
}

/// Text ids (`u007`, `i042`) are coded in sorted order, which here is the numbers' order: the run
/// equals the one on the numeric file; the codes are saved, so `predict` reads text ids and
/// names one it never saw.
#[test]
fn text_ids_are_coded_like_numbers_and_saved_for_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = cg_data::ratings::RatingsSpec { users: 60, items: 30, rank: 2, ratings: 900, noise: 0.1, seed: 2 };
    let numeric = cg_data::ratings::low_rank_ratings(&spec);
    let text: String = numeric
        .lines()
        .enumerate()
        .map(|(k, line)| {
            if k == 0 {
                return format!("{line}\n");
            }
            let f: Vec<&str> = line.split(',').collect();
            format!("u{:03},i{:03},{}\n", f[0].parse::<usize>().unwrap(), f[1].parse::<usize>().unwrap(), f[2])
        })
        .collect();
    std::fs::write(tmp.path().join("numeric.csv"), &numeric).unwrap();
    std::fs::write(tmp.path().join("text.csv"), &text).unwrap();
    let config = |csv: &str| {
        format!(
            "kind = \"model\"\nseed = 0\n[data]\ncsv = \"{csv}\"\ntarget = \"rating\"\ntest_fraction = 0.2\n\
             ids = [\"user\", \"item\"]\n[model]\ninputs = {{ user = 1, item = 1 }}\ntargets = {{ r = 1 }}\npredict = \"o\"\n\
             loss = \"squared_error(o, r)\"\n[model.params]\nU = {{ shape = [2, 60], normal = 0.1 }}\n\
             V = {{ shape = [2, 30], normal = 0.1 }}\nmu = {{ shape = [1], value = 3.0 }}\n\
             [model.nodes]\no = \"sum(U[:, user] * V[:, item], 0) + mu\"\n\
             [optimizer]\nmethod = \"adam\"\nlearning_rate = 0.02\n[train]\nepochs = 5\nbatch_size = 64\n"
        )
    };
    let (a, _) = run(tmp.path(), "numeric.toml", &config("numeric.csv"));
    let (b, out) = run(tmp.path(), "text.toml", &config("text.csv"));
    for key in ["final_loss", "test_loss", "loss_curve", "test_rows"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    let predict = |csv: &str| {
        std::fs::write(tmp.path().join("new.csv"), csv).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_experiments"))
            .args(["predict", out.to_str().unwrap(), "--data", tmp.path().join("new.csv").to_str().unwrap()])
            .output()
            .unwrap()
    };
    let ok = predict("user,item\nu003,i007\n");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let unseen = predict("user,item\nu003,i007\nu999,i001\n");
    assert!(!unseen.status.success());
    let message = String::from_utf8_lossy(&unseen.stderr);
    assert!(message.contains("line 3: column `user`: the category `u999` was not seen in training"), "{message}");
}

/// The Parquet config of [`config`]: the `csv` key swapped for `parquet`.
fn parquet_config(file: &str, extra: &str) -> String {
    config("unused.csv", extra).replace("csv = \"unused.csv\"", &format!("parquet = \"{file}\""))
}

#[test]
fn parquet_files_train_and_predict_as_the_same_table_in_csv() {
    // data/fixtures: the same wine table (text id, categorical region, text labels, one null
    // magnesium) written by pyarrow as Parquet (snappy, zstd) and as CSV.
    let fixtures = root().join("data/fixtures");
    let dir = tempfile::tempdir().unwrap();
    for f in ["wine_own.csv", "wine_own.parquet", "wine_own_zstd.parquet"] {
        std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
    }
    let extra = format!("target = \"wine\"\n{WINE_SETTINGS}");
    let extra = extra.as_str();
    let (csv, csv_out) = run(dir.path(), "csv.toml", &config("wine_own.csv", extra));
    assert!(csv["test_accuracy"].as_f64().unwrap() > 0.8, "{}", csv["test_accuracy"]);
    for file in ["wine_own.parquet", "wine_own_zstd.parquet"] {
        let (parquet, out) = run(dir.path(), &format!("{file}.toml"), &parquet_config(file, extra));
        assert_eq!(parquet, csv, "{file}: the same run, number for number");
        let by_parquet = experiments::predict::predict(&out, &dir.path().join(file)).unwrap();
        let by_csv = experiments::predict::predict(&csv_out, &dir.path().join("wine_own.csv")).unwrap();
        assert_eq!(by_parquet.csv(), by_csv.csv(), "{file}");
    }
    // A file that is not Parquet, or one cut short, is one line naming it; exit 2 from the binary.
    std::fs::copy(fixtures.join("wine_own.csv"), dir.path().join("text.parquet")).unwrap();
    let bytes = std::fs::read(fixtures.join("wine_own.parquet")).unwrap();
    std::fs::write(dir.path().join("cut.parquet"), &bytes[..bytes.len() - 100]).unwrap();
    for bad in ["text.parquet", "cut.parquet"] {
        let path = dir.path().join(format!("{bad}.toml"));
        std::fs::write(&path, parquet_config(bad, extra)).unwrap();
        let o =
            std::process::Command::new(env!("CARGO_BIN_EXE_experiments")).arg(&path).arg("--check").output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.lines().count() == 1 && err.contains(&format!("{bad}: not a readable Parquet table")), "{err}");
    }
}
