//! The backend's user tokens (JWT) beside API keys, against a real `nivesh-ml serve`: tokens
//! minted here with the `jsonwebtoken` library (HS256 with `JWT_SECRET`; RS256 with a key whose
//! public half is in a local JWKS file). A token for U gets U's forecast, anomaly score and
//! online features and 403 for V; expired, wrongly issued or signed tokens get 401; a service
//! key keeps full access.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{private_copy, spawn_serve_with};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "a-test-secret-of-at-least-32-characters!";
const KEY: &str = "service-key-1";
const ISS: &str = "https://api.nivesh.test";
const AUD: &str = "nivesh-ml";

fn agent() -> ureq::Agent {
    common::agent(Duration::from_secs(30))
}

fn post(url: &str, auth: &str, body: &Value) -> (u16, Value) {
    let mut r = agent()
        .post(url)
        .header("content-type", "application/json")
        .header("authorization", &format!("Bearer {auth}"))
        .send(body.to_string())
        .unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null))
}

fn get(url: &str, auth: &str) -> u16 {
    agent().get(url).header("authorization", &format!("Bearer {auth}")).call().unwrap().status().as_u16()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn hs256(claims: Value) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

fn rs256(kid: &str, claims: Value) -> String {
    let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/rs256-test-private.pem")).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iss": ISS, "aud": AUD, "exp": now() + 600})
}

#[test]
fn a_user_token_reads_only_its_own_user() {
    let dir = private_copy();
    let jwks = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/jwks.json");
    let env = [
        ("ML_API_KEYS", KEY),
        ("JWT_SECRET", SECRET),
        ("JWT_JWKS_FILE", jwks),
        ("JWT_ISSUER", ISS),
        ("JWT_AUDIENCE", AUD),
    ];
    let (mut child, url) = spawn_serve_with(dir.path(), 0, &env, &["--rate-limit", "0"]);
    let me = hs256(claims("U0001"));
    let spend = |user: &str| json!({"user_id": user, "months": 2});
    let txn =
        |user: &str| json!({"user_id": user, "transaction": {"timestamp": "2026-01-05T10:00:00+05:30", "amount": 900}});

    // U0001's own data
    let (st, v) = post(&format!("{url}/predict/spending"), &me, &spend("U0001"));
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&format!("{url}/predict/anomaly"), &me, &txn("U0001"));
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&format!("{url}/features/online"), &me, &json!({"entity_ids": ["U0001"]}));
    assert_eq!(st, 200, "{v}");
    // routes that name no user
    let (st, v) = post(&format!("{url}/predict/intent"), &me, &json!({"query": "my balance"}));
    assert_eq!(st, 200, "{v}");
    // another user's: 403, naming who the token is for
    for (route, body) in [
        ("predict/spending", spend("U0002")),
        ("predict/anomaly", txn("U0002")),
        ("features/online", json!({"entity_ids": ["U0001", "U0002"]})),
        ("predict/intent", json!({"query": "my balance", "user_id": "U0002"})),
        ("predict/spending/batch", json!({"inputs": [spend("U0001"), spend("U0002")]})),
    ] {
        let (st, v) = post(&format!("{url}/{route}"), &me, &body);
        assert_eq!((st, v["error_type"].as_str()), (403, Some("forbidden")), "{route}: {v}");
        assert!(v["error"].as_str().unwrap().contains("\"U0001\", not \"U0002\""), "{route}: {v}");
    }
    let (_, v) =
        post(&format!("{url}/predict/spending/batch"), &me, &json!({"inputs": [spend("U0001"), spend("U0002")]}));
    assert!(v["error"].as_str().unwrap().starts_with("inputs[1]"), "{v}");
    // routes beyond the user's own predictions: 403; admin routes never
    assert_eq!(get(&format!("{url}/models"), &me), 403);
    assert_eq!(get(&format!("{url}/monitoring/statistics"), &me), 403);
    let (st, _) = post(&format!("{url}/admin/train"), &me, &json!({}));
    assert_eq!(st, 403);

    // RS256 with the JWKS key; an unknown key id is refused
    let rs = rs256("nivesh-test-1", claims("U0002"));
    let (st, v) = post(&format!("{url}/predict/spending"), &rs, &spend("U0002"));
    assert_eq!(st, 200, "{v}");
    let (st, _) = post(&format!("{url}/predict/spending"), &rs, &spend("U0001"));
    assert_eq!(st, 403);
    let (st, v) = post(&format!("{url}/predict/spending"), &rs256("other-kid", claims("U0002")), &spend("U0002"));
    assert_eq!((st, v["error_type"].as_str()), (401, Some("unauthorized")), "{v}");

    // tokens that do not verify: 401 invalid_token, saying why
    let bad = [
        ("expired", hs256(json!({"sub": "U0001", "iss": ISS, "aud": AUD, "exp": now() - 3600}))),
        (
            "another issuer",
            hs256(json!({"sub": "U0001", "iss": "https://evil.example", "aud": AUD, "exp": now() + 600})),
        ),
        ("another audience", hs256(json!({"sub": "U0001", "iss": ISS, "aud": "someone-else", "exp": now() + 600}))),
        ("no expiry", hs256(json!({"sub": "U0001", "iss": ISS, "aud": AUD}))),
        ("no subject", hs256(json!({"iss": ISS, "aud": AUD, "exp": now() + 600}))),
        (
            "another secret",
            encode(
                &Header::new(Algorithm::HS256),
                &claims("U0001"),
                &EncodingKey::from_secret(b"not-the-secret-not-the-secret-xx"),
            )
            .unwrap(),
        ),
        (
            "HS384",
            encode(&Header::new(Algorithm::HS384), &claims("U0001"), &EncodingKey::from_secret(SECRET.as_bytes()))
                .unwrap(),
        ),
        ("alg none", {
            let b64 = |v: &Value| {
                use std::fmt::Write;
                let s = v.to_string();
                // base64url without padding, by hand (no extra crate for one test)
                const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let bytes = s.as_bytes();
                let mut out = String::new();
                for chunk in bytes.chunks(3) {
                    let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
                    for i in 0..=chunk.len() {
                        let _ = write!(out, "{}", T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                    }
                }
                out
            };
            format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims("U0001")))
        }),
    ];
    for (what, token) in bad {
        let r = agent()
            .post(&format!("{url}/predict/spending"))
            .header("content-type", "application/json")
            .header("authorization", &format!("Bearer {token}"))
            .send(spend("U0001").to_string())
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{what}");
        let www = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(www.contains("invalid_token") || what == "alg none", "{what}: {www}");
    }

    // the service key keeps full access
    let (st, v) = post(&format!("{url}/predict/spending"), KEY, &spend("U0002"));
    assert_eq!(st, 200, "{v}");
    assert_eq!(get(&format!("{url}/models"), KEY), 200);
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn a_short_secret_or_a_broken_jwks_file_stops_the_start_with_the_reason() {
    let dir = private_copy();
    let out = common::bin()
        .current_dir(dir.path())
        .env("NIVESH_DATA_DIR", "store")
        .env("JWT_SECRET", "too-short")
        .args(["serve", "--no-bootstrap", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JWT_SECRET") && err.contains("32 characters") && !err.contains("too-short"), "{err}");
    std::fs::write(dir.path().join("jwks.json"), "{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\"}]}").unwrap();
    let out = common::bin()
        .current_dir(dir.path())
        .env("NIVESH_DATA_DIR", "store")
        .env("JWT_JWKS_FILE", "jwks.json")
        .args(["serve", "--no-bootstrap", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JWT_JWKS_FILE") && err.contains("keys[0]"), "{err}");
}
