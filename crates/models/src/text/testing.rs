//! Small fixtures shared by the tests of this crate and of the crates above it: a tiny BERT
//! encoder and a tiny WordPiece tokenizer. Not for production use.

#![allow(clippy::expect_used)]

use safetensors::Dtype;

/// A tiny BERT (vocab 30, hidden 8, 2 heads, 2 layers, ffn 16) with weights
/// `w[i] = 0.1·sin(0.37·i + seed)` per tensor, as (config.json, model.safetensors).
pub fn tiny_bert() -> (String, Vec<u8>) {
    let (v, h, f, l, p) = (30usize, 8usize, 16usize, 2usize, 16usize);
    let config = serde_json::json!({"vocab_size": v, "hidden_size": h, "num_hidden_layers": l,
        "num_attention_heads": 2, "intermediate_size": f, "max_position_embeddings": p,
        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"});
    let mut tensors: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![v, h]),
        ("embeddings.position_embeddings.weight".into(), vec![p, h]),
        ("embeddings.token_type_embeddings.weight".into(), vec![2, h]),
        ("embeddings.LayerNorm.weight".into(), vec![h]),
        ("embeddings.LayerNorm.bias".into(), vec![h]),
    ];
    for i in 0..l {
        let pre = format!("encoder.layer.{i}.");
        for (n, s) in [
            ("attention.self.query", vec![h, h]),
            ("attention.self.key", vec![h, h]),
            ("attention.self.value", vec![h, h]),
            ("attention.output.dense", vec![h, h]),
            ("intermediate.dense", vec![f, h]),
            ("output.dense", vec![h, f]),
        ] {
            tensors.push((format!("{pre}{n}.weight"), s.clone()));
            tensors.push((format!("{pre}{n}.bias"), vec![s[0]]));
        }
        for n in ["attention.output.LayerNorm", "output.LayerNorm"] {
            tensors.push((format!("{pre}{n}.weight"), vec![h]));
            tensors.push((format!("{pre}{n}.bias"), vec![h]));
        }
    }
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .enumerate()
        .map(|(t, (name, shape))| {
            let n: usize = shape.iter().product();
            let ln_weight = name.ends_with("LayerNorm.weight");
            let bytes = (0..n)
                .flat_map(|i| {
                    let w = 0.1 * (0.37 * i as f32 + t as f32).sin();
                    (if ln_weight { 1.0 + w } else { w }).to_le_bytes()
                })
                .collect();
            (name, shape, bytes)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, s, b)| (n.clone(), safetensors::tensor::TensorView::new(Dtype::F32, s.clone(), b).expect("fixture")))
        .collect();
    (config.to_string(), safetensors::serialize(views, None).expect("fixture"))
}

/// A tiny BERT-style tokenizer.json for tests.
pub fn fixture_json() -> String {
    let vocab = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "how", "do", "i", "pay", "my", "bill", "rent", "?", ",", "transfer", "##s",
        "##ing", "money", "cafe", "un", "##know", "##n", "₹", "5", "##00", "salary", "credit", "card", "shopping",
        "buy", "purchase",
    ];
    let map: serde_json::Map<String, serde_json::Value> =
        vocab.iter().enumerate().map(|(i, t)| (t.to_string(), serde_json::json!(i))).collect();
    serde_json::json!({
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": map}
    })
    .to_string()
}
