//! Every command that writes refuses, before any work, a target that is not nothing, an empty
//! folder or its own: a folder of a user's files, a file, a link, a device, a socket, `.`, `..`,
//! `/`, the working folder. Each case runs the real binary, expects exit 2 with one line naming
//! the path, and compares the whole temporary tree before and after, byte for byte. As root the
//! cases run twice: as root (a device node made with mknod) and as the user `nobody`.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::GOOD_GRAPH as GOOD;

/// Who runs the binary: this user, and `nobody` too when this is root (and nobody can run it).
fn users() -> Vec<Option<u32>> {
    let mut users = vec![None];
    let root = rustix_uid() == 0;
    if root {
        let exe = env!("CARGO_BIN_EXE_experiments");
        let ok = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", exe, "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            users.push(Some(65534));
        } else {
            eprintln!("skipped: the runs as `nobody` (setpriv missing, or the binary is not readable by nobody)");
        }
    }
    users
}

fn rustix_uid() -> u32 {
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1)
}

/// Runs the binary in `cwd`, as `user` (a uid) or as this user.
fn run(user: Option<u32>, cwd: &Path, args: &[&str]) -> Output {
    let exe = env!("CARGO_BIN_EXE_experiments");
    let mut c = match user {
        None => Command::new(exe),
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into(), exe.into()]);
            c
        }
    };
    c.current_dir(cwd).args(args).output().unwrap()
}

/// A temporary folder that `user` owns, holding a config `c.toml`.
fn sandbox(user: Option<u32>) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.toml"), GOOD).unwrap();
    if let Some(uid) = user {
        std::os::unix::fs::chown(tmp.path(), Some(uid), Some(uid)).unwrap();
        std::os::unix::fs::chown(tmp.path().join("c.toml"), Some(uid), Some(uid)).unwrap();
    }
    tmp
}

/// Gives `user` everything under `dir` (what they made as root in the test's set-up).
fn give(dir: &Path, user: Option<u32>) {
    let Some(uid) = user else { return };
    for entry in walk(dir) {
        std::os::unix::fs::lchown(&entry, Some(uid), Some(uid)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// Every entry under `dir`: its kind and content (bytes, link target, device number).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let t = m.file_type();
            let what = if t.is_symlink() {
                format!("link -> {}", std::fs::read_link(&p).unwrap().display())
            } else if t.is_file() {
                format!("file {:?}", std::fs::read(&p).unwrap())
            } else if t.is_dir() {
                "folder".into()
            } else if t.is_char_device() || t.is_block_device() {
                format!("device {}", m.rdev())
            } else {
                format!("other {:?}", t)
            };
            (p.strip_prefix(dir).unwrap().to_path_buf(), what)
        })
        .collect()
}

/// Runs `args` in `tmp` and expects a refusal: exit 2, one line naming `names`, the tree unchanged.
fn refused(user: Option<u32>, tmp: &Path, args: &[&str], names: &str) {
    give(tmp, user);
    let before = snapshot(tmp);
    let o = run(user, tmp, args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?} as {user:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line expected: {stderr}");
    assert!(stderr.contains(names), "{args:?}: the message names {names}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(snapshot(tmp), before, "{args:?} as {user:?} changed the folder");
}

#[test]
fn a_folder_of_a_users_files_is_never_emptied() {
    for user in users() {
        let tmp = sandbox(user);
        let ud = tmp.path().join("ud");
        std::fs::create_dir_all(ud.join("sub")).unwrap();
        std::fs::write(ud.join("thesis.tex"), "\\documentclass{article}").unwrap();
        std::fs::write(ud.join("sub/data.csv"), "a,b\n1,2\n").unwrap();
        std::fs::copy(tmp.path().join("c.toml"), ud.join("c.toml")).unwrap();
        refused(user, tmp.path(), &["c.toml", "--out", "ud"], "ud holds files that no run wrote");
        // The config inside the very folder it would write.
        refused(user, tmp.path(), &["ud/c.toml", "--out", "ud"], "ud holds files");
        // The working folder, by its full name, and the folders with special names.
        let cwd = tmp.path().to_str().unwrap();
        refused(user, tmp.path(), &["c.toml", "--out", cwd], "the working folder");
        for special in [".", "..", "/", "ud/.."] {
            refused(user, tmp.path(), &["c.toml", "--out", special], special);
        }
    }
}

#[test]
fn files_links_devices_and_sockets_are_never_replaced() {
    for user in users() {
        let tmp = sandbox(user);
        let p = tmp.path();
        std::fs::write(p.join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(p.join("target")).unwrap();
        std::os::unix::fs::symlink("target", p.join("link")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(p.join("sock")).unwrap();
        refused(user, p, &["c.toml", "--out", "notes.txt"], "notes.txt is a file");
        refused(user, p, &["c.toml", "--out", "link"], "link is a symbolic link");
        refused(user, p, &["c.toml", "--out", "sock"], "sock is a socket");
        if rustix_uid() == 0 {
            let dev = p.join("null");
            let made = Command::new("mknod").arg(&dev).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
            if made {
                refused(user, p, &["c.toml", "--out", "null"], "null is a character device");
                std::fs::remove_file(&dev).unwrap();
            } else {
                eprintln!("skipped: mknod failed, no device node to test");
            }
        }
        // The machine's own /dev/null is refused (and never touched).
        let o = run(user, p, &["c.toml", "--out", "/dev/null"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
    }
}

#[test]
fn empty_folders_and_earlier_runs_are_replaced_but_not_what_users_added() {
    for user in users() {
        let tmp = sandbox(user);
        let p = tmp.path();
        std::fs::create_dir(p.join("empty")).unwrap();
        give(p, user);
        for out in ["empty", "new", "new"] {
            let o = run(user, p, &["c.toml", "--out", out, "-q"]);
            assert!(o.status.success(), "{out}: {}", String::from_utf8_lossy(&o.stderr));
            assert!(p.join(out).join(".cg-results.json").is_file());
        }
        std::fs::write(p.join("new/notes.txt"), "mine").unwrap();
        refused(user, p, &["c.toml", "--out", "new"], "notes.txt is a file no run wrote");
        // Only the run's own folders: nothing hidden left beside them.
        let mut names: Vec<String> =
            std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["c.toml", "empty", "new"]);
    }
}

#[test]
fn sweep_report_summarize_and_predict_follow_the_same_rule() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let xor = root.join("configs/xor.toml");
    let xor = xor.to_str().unwrap();
    for user in users() {
        let tmp = sandbox(user);
        let p = tmp.path();
        // A sweep into a folder of a user's files, and onto a file.
        std::fs::create_dir_all(p.join("sw/xor/multirun")).unwrap();
        std::fs::write(p.join("sw/xor/multirun/mine.txt"), "mine").unwrap();
        refused(user, p, &["sweep", xor, "seed=0,1", "--out", "sw"], "holds files but no sweep's multirun.json");
        std::fs::write(p.join("file"), "mine").unwrap();
        refused(user, p, &["sweep", xor, "seed=0,1", "--out", "file"], "file");
        // A report over a folder with an index.html of a user's.
        std::fs::create_dir(p.join("site")).unwrap();
        std::fs::write(p.join("site/index.html"), "<p>mine</p>").unwrap();
        refused(user, p, &["report", "site"], "index.html exists and was not written by this command");
        // summarize of a folder that is not a sweep's.
        refused(user, p, &["summarize", "site"], "not a sweep folder");
        // predict: never a folder, a device or a file it did not write; its own file again.
        let o = run(user, p, &[xor, "--out", "model", "-q", "train.epochs=5"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::write(p.join("rows.csv"), "x0,x1\n0,1\n1,1\n").unwrap();
        for (out, says) in [("site", "site is a folder"), ("file", "file exists and was not written")] {
            refused(user, p, &["predict", "model", "--data", "rows.csv", "--out", out], says);
        }
        let first = run(user, p, &["predict", "model", "--data", "rows.csv", "--out", "pred.csv"]);
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let again = run(user, p, &["predict", "model", "--data", "rows.csv", "--out", "pred.csv"]);
        assert!(
            again.status.success(),
            "its own predictions file is replaced: {}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
}

#[test]
fn a_damaged_job_is_failed_in_the_summary_not_ok() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let xor = root.join("configs/xor.toml");
    let args = ["sweep", xor.to_str().unwrap(), "seed=0,1", "train.epochs=5", "--out", "sw", "-q"];
    assert!(run(None, tmp.path(), &args).status.success());
    let multirun = tmp.path().join("sw/xor/multirun");
    std::fs::write(multirun.join("1/metrics.json"), "{ cut short").unwrap();
    let o = run(None, tmp.path(), &["summarize", multirun.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a damaged job fails the summary");
    let summary = std::fs::read_to_string(multirun.join("summary.csv")).unwrap();
    let row = summary.lines().nth(2).unwrap();
    assert!(row.contains("failed") && row.contains("metrics file is missing or damaged"), "{row}");
}
