//! Out-of-scope scores compared on CLINC150 (a development tool, not shipped): trains the intent
//! classifier with a static embeddings table, then prints, for several scores, the out-of-scope
//! recall at the threshold that keeps in-scope accuracy (rejections counted wrong) at each level.
//!
//! `cargo run --release -p nivesh-models --example oos_scores -- data_full.json table.emb [oos]`
//! (`oos`: train CLINC150's `oos_train` as a class; `SPLIT=test` scores the test split).
use nivesh_models::Persist;
use nivesh_models::intent::{IntentParams, clean_query};
use nivesh_models::text::StaticEmbeddings;
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(data), Some(table)) = (args.get(1), args.get(2)) else {
        return Err("usage: oos_scores data_full.json table.emb [oos]".into());
    };
    let path = std::path::Path::new(data);
    let table = StaticEmbeddings::from_bytes(&std::fs::read(table)?)?;
    let mut train = nivesh_core::public::read_clinc150(path, "train")?;
    if args.get(3).is_some() {
        train.extend(nivesh_core::public::read_clinc150(path, "oos_train")?);
    }
    let split = std::env::var("SPLIT").unwrap_or_else(|_| "val".into());
    let in_scope = nivesh_core::public::read_clinc150(path, &split)?;
    let out_of_scope = nivesh_core::public::read_clinc150(path, &format!("oos_{split}"))?;
    let params = IntentParams { fallback_label: "oos".into(), ..IntentParams::default() };
    let model = params.fit_with_embeddings(&train, Some(&table))?;
    let labels = model.labels().to_vec();
    let mut train_emb = Vec::new();
    for u in train.iter().filter(|u| u.intent != "oos") {
        if let Some(e) = model.sentence_embedding(&clean_query(&u.text)?.0)? {
            train_emb.push(e);
        }
    }
    let names = ["top probability", "top raw score", "top-two margin", "1-NN cosine", "5-NN cosine", "top prob × 1-NN"];
    // per query: out of scope?, right intent on top?, the scores (higher = more in scope)
    let mut rows: Vec<(bool, bool, Vec<f64>)> = Vec::new();
    for (u, is_oos) in in_scope.iter().map(|u| (u, false)).chain(out_of_scope.iter().map(|u| (u, true))) {
        let q = clean_query(&u.text)?.0;
        let p = model.probabilities(&q)?;
        let top = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
        let mut raw = model.decision_scores(&q)?;
        raw.sort_by(|a, b| b.total_cmp(a));
        let e = model.sentence_embedding(&q)?.unwrap_or_default();
        let mut sims: Vec<f32> = train_emb.iter().map(|t| t.iter().zip(&e).map(|(a, b)| a * b).sum()).collect();
        sims.sort_by(|a, b| b.total_cmp(a));
        let knn = |k: usize| f64::from(sims.iter().take(k).sum::<f32>()) / k as f64;
        // the oos class on top counts as rejected at any threshold
        let prob = if labels[top] == "oos" { -1.0 } else { f64::from(p[top]) };
        let margin = f64::from(raw.first().copied().unwrap_or(0.0) - raw.get(1).copied().unwrap_or(0.0));
        rows.push((
            is_oos,
            !is_oos && labels[top] == u.intent,
            vec![prob, f64::from(raw.first().copied().unwrap_or(0.0)), margin, knn(1), knn(5), prob * knn(1)],
        ));
    }
    let n_in = rows.iter().filter(|r| !r.0).count().max(1) as f64;
    let n_oos = rows.iter().filter(|r| r.0).count().max(1) as f64;
    for (k, name) in names.iter().enumerate() {
        let mut thresholds: Vec<f64> = rows.iter().map(|r| r.2[k]).collect();
        thresholds.sort_by(|a, b| a.total_cmp(b));
        thresholds.dedup();
        let mut line = String::new();
        for target in [0.95, 0.945, 0.94, 0.93] {
            // the highest threshold whose in-scope accuracy stays at or above the target
            let best = thresholds
                .iter()
                .step_by((thresholds.len() / 4000).max(1))
                .map(|&t| {
                    let acc = rows.iter().filter(|r| r.1 && r.2[k] >= t).count() as f64 / n_in;
                    let recall = rows.iter().filter(|r| r.0 && r.2[k] < t).count() as f64 / n_oos;
                    (t, acc, recall)
                })
                .rfind(|&(_, acc, _)| acc >= target);
            if let Some((t, acc, recall)) = best {
                line += &format!("  in-scope ≥ {target}: t = {t:.3}, {acc:.4}, OOS recall {recall:.3}");
            }
        }
        println!("{name:16}{line}");
    }
    Ok(())
}
