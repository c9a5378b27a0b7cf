//! `kill -9` during `train` must never leave the registry pointing at a missing or partial
//! artifact, and the next run must work.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_core::rng::Rng;
use nivesh_store::{ArtifactStore, Registry};
use std::process::{Command, Stdio};
use std::time::Duration;

fn nivesh(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nivesh-ml"));
    c.current_dir(dir)
        .env_clear()
        .env("NIVESH_DATA_DIR", "store")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn check_registry(dir: &std::path::Path) {
    let db = dir.join("store/registry.db");
    if !db.exists() {
        return;
    }
    let registry = Registry::open(&db).unwrap();
    let store = ArtifactStore::new(dir.join("store/models/artifacts"));
    for model in registry.models().unwrap() {
        for v in registry.versions(&model).unwrap() {
            let bytes = store.get(&v.digest).unwrap_or_else(|e| panic!("{model} v{}: {e}", v.version));
            assert!(!bytes.is_empty());
        }
        if let Some(c) = registry.alias(&model, "champion").unwrap() {
            store.get(&c.digest).unwrap();
        }
    }
}

#[test]
fn kill_9_at_random_points_never_corrupts_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let status = nivesh(dir.path(), &["data", "generate", "--out", "gen", "--scale", "small"]).status().unwrap();
    assert!(status.success());
    let mut rng = Rng::new(20261126);
    for _ in 0..20 {
        let mut child =
            nivesh(dir.path(), &["train", "--data", "gen", "--models", "credit,intent,spending"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.range(0, 1500) as u64));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        check_registry(dir.path());
    }
    // the kills did interrupt runs: fewer than 20 × 3 versions were registered
    if let Ok(registry) = Registry::open(&dir.path().join("store/registry.db")) {
        let versions: usize = registry.models().unwrap().iter().map(|m| registry.versions(m).unwrap().len()).sum();
        assert!(versions < 60, "{versions} versions: the kills came after every run finished");
    }
    // and the next run completes
    let status =
        nivesh(dir.path(), &["train", "--data", "gen", "--models", "credit,intent,spending"]).status().unwrap();
    assert!(status.success());
    check_registry(dir.path());
    let registry = Registry::open(&dir.path().join("store/registry.db")).unwrap();
    for m in ["credit", "intent", "spending"] {
        assert!(registry.alias(m, "champion").unwrap().is_some(), "{m} has no champion");
    }
}
