//! `--shard i/N` (the Kubernetes Indexed Job's split): N shards of `features materialize`, run
//! as concurrent processes, write exactly the online store one run writes; the outputs of N
//! shards of `predict`, concatenated in shard order, are the one-shot output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use nivesh_features::FeatureStore;
use nivesh_features::definitions::Definitions;
use nivesh_features::offline::OfflineStore;
use nivesh_features::online::embedded::EmbeddedOnlineStore;
use nivesh_store::db::Db;
use std::path::Path;
use std::process::Output;

fn run(dir: &Path, args: &[&str]) -> Output {
    let out = bin().current_dir(dir).env("NIVESH_DATA_DIR", "store").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn store(dir: &Path) -> FeatureStore {
    let store = dir.join("store");
    FeatureStore::new(
        Definitions::builtin().unwrap(),
        OfflineStore::new(Db::sqlite(&store.join("offline.db")).unwrap()).unwrap(),
        Box::new(EmbeddedOnlineStore::open(&store.join("online.db")).unwrap()),
    )
    .unwrap()
}

/// A data directory with the fixture's generated transactions ingested (nothing materialized).
fn ingested() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture().join("gen/transactions.csv");
    run(dir.path(), &["features", "ingest", "--source", source.to_str().unwrap()]);
    dir
}

#[test]
fn four_concurrent_materialize_shards_write_what_one_run_writes() {
    let as_of = "2030-01-01T00:00:00Z";
    let one = ingested();
    run(one.path(), &["features", "materialize", "--as-of", as_of]);
    let sharded = ingested();
    // the four shards at once, as an Indexed Job's pods would run them
    let children: Vec<_> = (0..4)
        .map(|i| {
            bin()
                .current_dir(sharded.path())
                .env("NIVESH_DATA_DIR", "store")
                .args(["features", "materialize", "--as-of", as_of, "--shard", &format!("{i}/4")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "shard {i}: {text}");
    }
    let (a, b) = (store(one.path()), store(sharded.path()));
    let (users, _) = a.offline().entities_since(0).unwrap();
    assert!(users.len() >= 20, "{}", users.len());
    // each shard did only its part, and together every user: their records say how many
    let view = Definitions::builtin().unwrap();
    let view = view.view("user_spending_profile").unwrap();
    let per_shard: Vec<u64> = (0..4)
        .map(|i| {
            let shard = nivesh_core::shard::Shard::new(i, 4).unwrap();
            b.offline().last_materialization_of(view, shard).unwrap().unwrap().entities
        })
        .collect();
    assert_eq!(per_shard.iter().sum::<u64>(), users.len() as u64, "{per_shard:?}");
    assert!(per_shard.iter().all(|&n| n > 0 && n < users.len() as u64), "{per_shard:?}");
    let ids: Vec<&str> = users.iter().map(String::as_str).collect();
    let now = chrono::Utc::now().timestamp();
    let (fa, fb) =
        (a.get_online_features(&ids, &[], now, true).unwrap(), b.get_online_features(&ids, &[], now, true).unwrap());
    assert_eq!(fa, fb, "the sharded online store differs from the one-shot one");
    assert!(fa.iter().all(|e| e.views.values().any(|v| v.status != "missing")), "every user materialized");
    // a shard's next incremental run has nothing new to do
    let out = run(sharded.path(), &["features", "materialize", "--as-of", as_of, "--shard", "2/4"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("incremental"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn predict_shards_concatenate_to_the_one_shot_output() {
    let dir = private_copy();
    let generated = fixture().join("gen");
    // intent takes the route's bodies: the generated utterances as `{"query": …}`
    let queries: String = std::fs::read_to_string(generated.join("intents.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::json!({"query": serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]}).to_string()
                + "\n"
        })
        .collect();
    std::fs::write(dir.path().join("queries.jsonl"), queries).unwrap();
    for (model, input) in
        [("credit", generated.join("credit_applications.csv")), ("intent", dir.path().join("queries.jsonl"))]
    {
        let input = input.to_str().unwrap();
        run(dir.path(), &["predict", model, "--input", input, "--output", "one.jsonl"]);
        let one = std::fs::read_to_string(dir.path().join("one.jsonl")).unwrap();
        let mut joined = String::new();
        for i in 0..3 {
            let out = format!("shard{i}.jsonl");
            run(dir.path(), &["predict", model, "--input", input, "--output", &out, "--shard", &format!("{i}/3")]);
            let part = std::fs::read_to_string(dir.path().join(&out)).unwrap();
            assert!(!part.is_empty(), "{model} shard {i} scored nothing");
            joined.push_str(&part);
        }
        assert!(one.lines().count() > 30, "{model}: {}", one.lines().count());
        assert_eq!(joined, one, "{model}: the shards' outputs differ from the one-shot output");
    }
    // a shard past the count is refused, naming the flag's value
    let out = bin()
        .current_dir(dir.path())
        .env("NIVESH_DATA_DIR", "store")
        .args(["predict", "credit", "--input", "x.csv", "--shard", "3/3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the index must be 0 to 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
