//! The dashboard (`/ui`) against a real `nivesh-ml serve` with API and admin keys: the sign-in
//! wall, the signed session cookie (tampered, expired-looking or cross-site use refused), admin-only
//! actions, the alias moving and the history naming who moved it, markup in stored values and in
//! queries escaped, the security headers, and every page answering. The real browser's test is
//! `tests/ui/browser.py` (in `.ci/run`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{private_copy, spawn_serve_with};
use std::time::Duration;

const KEY: &str = "ui-api-key-1";
const ADMIN: &str = "ui-admin-key-1";

fn agent() -> ureq::Agent {
    common::agent_config(Duration::from_secs(30)).max_redirects(0).build().into()
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn call(method: &str, url: &str, form: Option<&str>, headers: &[(&str, &str)]) -> Resp {
    let mut resp = if method == "POST" {
        let mut r = agent().post(url).header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.send(form.unwrap_or("")).unwrap()
    } else {
        let mut r = agent().get(url);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.call().unwrap()
    };
    Resp {
        status: resp.status().as_u16(),
        headers: resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect(),
        body: resp.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// Sign in with `key`: the cookie to send back.
fn sign_in(url: &str, key: &str) -> String {
    let r = call("POST", &format!("{url}/ui/login"), Some(&format!("key={key}&next=%2Fui%2Fruns")), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/ui/runs"));
    let set = r.header("set-cookie").unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=28800"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains(key), "the cookie must not carry the key: {set}");
    set.split(';').next().unwrap().to_string()
}

#[test]
fn the_dashboard_signs_in_with_a_key_and_acts_only_as_admin() {
    let dir = private_copy();
    // a run whose tag holds markup, in the registry the server reads
    let tagged = {
        let r = nivesh_store::Registry::open(&dir.path().join("store/registry.db")).unwrap();
        let info = nivesh_store::registry::RunInfo {
            tags: serde_json::json!({"note": "<script>alert('tag')</script>"}),
            ..Default::default()
        };
        let id = r.start_run("credit", &info).unwrap();
        r.finish_run(&id, nivesh_store::registry::RunStatus::Finished).unwrap();
        // a second credit version (the champion's artifact, a worse metric) to promote
        let v1 = r.alias("credit", "champion").unwrap().unwrap();
        assert_eq!(r.register("credit", &id, &v1.digest, "auc_roc", v1.metric - 0.1, true).unwrap(), 2);
        id
    };
    let env = [("ML_API_KEYS", KEY), ("ML_ADMIN_KEYS", ADMIN)];
    let (mut child, url) = spawn_serve_with(dir.path(), 0, &env, &["--rate-limit", "0"]);

    // no session: pages send the browser to sign in (keeping where it was going), fragments
    // and posts are refused; assets and the sign-in page are open
    let r = call("GET", &format!("{url}/ui/models?x=1"), None, &[]);
    assert_eq!((r.status, r.header("location")), (303, Some("/ui/login?next=%2Fui%2Fmodels%3Fx%3D1")));
    assert_eq!(call("GET", &format!("{url}/ui/live"), None, &[("x-fragment", "1")]).status, 401);
    assert_eq!(call("POST", &format!("{url}/ui/models/credit/rollback"), Some("alias=champion"), &[]).status, 401);
    assert_eq!(call("GET", &format!("{url}/ui/assets/ui.js"), None, &[]).status, 200);
    let login = call("GET", &format!("{url}/ui/login?next=https://evil.example"), None, &[]);
    assert_eq!(login.status, 200);
    assert!(login.body.contains(r#"name="next" value="/ui""#), "an outside next is dropped");

    // a wrong key: 403, no cookie
    let r = call("POST", &format!("{url}/ui/login"), Some("key=nope-nope-nope"), &[]);
    assert_eq!(r.status, 403);
    assert!(r.header("set-cookie").is_none() && r.body.contains("not accepted"));

    // an API key's session views every page but cannot act
    let user = sign_in(&url, KEY);
    let cookie = [("cookie", user.as_str())];
    for page in [
        "/ui",
        "/ui/live",
        "/ui/models",
        "/ui/models/credit",
        "/ui/runs",
        "/ui/drift",
        "/ui/drift/credit",
        "/ui/features",
        "/ui/try",
    ] {
        let r = call("GET", &format!("{url}{page}"), None, &cookie);
        assert_eq!(r.status, 200, "{page}: {}", r.body);
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    let page = call("GET", &format!("{url}/ui/models/credit"), None, &cookie);
    assert!(!page.body.contains("Make champion"), "no promote buttons without an admin key");
    let r = call("POST", &format!("{url}/ui/models/credit/promote"), Some("version=1&alias=champion"), &cookie);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("admin key"));
    // the weights are an admin's download only
    let runs = call("GET", &format!("{url}/ui/runs?model=credit"), None, &cookie);
    // the oldest credit run: the fixture's training (the newest is the tagged one, without artifacts)
    let run_id = runs.body.split("href=\"/ui/runs/").last().unwrap().split('"').next().unwrap().to_string();
    assert_eq!(call("GET", &format!("{url}/ui/runs/{run_id}/artifact?name=model"), None, &cookie).status, 403);

    // a tampered cookie (the role flipped to admin) is no session
    let forged = user.replacen(".u.", ".a.", 1);
    assert_ne!(forged, user);
    let r = call("GET", &format!("{url}/ui/models"), None, &[("cookie", forged.as_str())]);
    assert_eq!(r.status, 303, "a forged cookie must not pass");

    // the admin's session promotes; the alias moves and the history names the key
    let admin = sign_in(&url, ADMIN);
    let cookie = [("cookie", admin.as_str())];
    assert_eq!(call("GET", &format!("{url}/ui/runs/{run_id}/artifact?name=model"), None, &cookie).status, 200);
    let origin = [("cookie", admin.as_str()), ("origin", "https://evil.example")];
    let r = call("POST", &format!("{url}/ui/models/credit/rollback"), Some("alias=champion"), &origin);
    assert_eq!(r.status, 403, "a post from another site is refused: {}", r.body);
    // the gate keeps the worse version out unless forced
    let r = call("POST", &format!("{url}/ui/models/credit/promote"), Some("version=2&alias=champion"), &cookie);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Not promoted") && r.body.contains("worse than champion v1"), "{}", r.body);
    let r = call("POST", &format!("{url}/ui/models/credit/promote"), Some("version=2&alias=champion&force=1"), &cookie);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("champion → v2"), "{}", r.body);
    let history = r.body.split("id=\"history\"").nth(1).unwrap();
    let first_row = history.split("<tr>").nth(2).unwrap();
    assert!(first_row.contains("forced") && first_row.contains("ui:admin-key-1"), "{first_row}");
    // the server serves the new champion at once
    let models: serde_json::Value =
        serde_json::from_str(&call("GET", &format!("{url}/models"), None, &[("x-api-key", KEY)]).body).unwrap();
    let credit = models["models"].as_array().unwrap().iter().find(|m| m["name"] == "credit").unwrap();
    assert_eq!(credit["version"], 2);
    // a gated promotion says why
    let r = call("POST", &format!("{url}/ui/models/credit/promote"), Some("version=2&alias=bad%20alias"), &cookie);
    assert_eq!(r.status, 422);

    // stored markup and query markup are text
    let run = call("GET", &format!("{url}/ui/runs/{tagged}"), None, &cookie);
    assert_eq!(run.status, 200);
    assert!(run.body.contains("&lt;script&gt;alert('tag')&lt;/script&gt;"), "{}", run.body);
    assert!(!run.body.contains("<script>alert"));
    let r = call(
        "POST",
        &format!("{url}/ui/try/intent"),
        Some("query=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        &[("cookie", admin.as_str()), ("x-fragment", "1")],
    );
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>alert") && r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let r = call("GET", &format!("{url}/ui/features?user=%3Cimg%20src%3Dx%3E"), None, &cookie);
    assert!(!r.body.contains("<img src=x>"), "{}", r.body);

    // bad input is a page naming the field, never a 500
    for (path, want) in [
        ("/ui/runs?since=yesterday", 422),
        ("/ui/runs?status=lost", 422),
        ("/ui/runs?model=nope", 404),
        ("/ui/runs/no-such-run", 404),
        ("/ui/compare?run=a", 422),
        ("/ui/drift/nope", 404),
        (&format!("/ui/runs/{tagged}/artifact?name=plots%2Fnope.png"), 404),
        ("/ui/train/nope", 404),
    ] {
        assert_eq!(call("GET", &format!("{url}{path}"), None, &cookie).status, want, "{path}");
    }
    // a form missing a field answers with the field named
    let r = call(
        "POST",
        &format!("{url}/ui/try/credit"),
        Some("applicant_data.age=40"),
        &[("cookie", admin.as_str()), ("x-fragment", "1")],
    );
    assert!(r.body.contains("<code>applicant_data.monthly_income</code>"), "{}", r.body);
    // a key in a header works for scripts; signing out clears the cookie
    assert_eq!(call("GET", &format!("{url}/ui/runs"), None, &[("x-api-key", KEY)]).status, 200);
    let out = call("POST", &format!("{url}/ui/logout"), None, &cookie);
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn the_plots_of_a_run_are_served_checked_and_reports_only_as_downloads() {
    let dir = private_copy();
    let (mut child, url) = spawn_serve_with(dir.path(), 0, &[], &["--rate-limit", "0"]);
    // no keys: loopback only, every page open — but only under an allowed host name, so a
    // site whose name rebinds to 127.0.0.1 cannot drive it
    let rebound = call("GET", &format!("{url}/ui/models"), None, &[("host", "evil.example:8000")]);
    assert_eq!(rebound.status, 403, "{}", rebound.body);
    let runs = call("GET", &format!("{url}/ui/runs?model=credit"), None, &[]);
    assert_eq!(runs.status, 200);
    let id = runs.body.split("href=\"/ui/runs/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let run = call("GET", &format!("{url}/ui/runs/{id}"), None, &[]);
    assert!(run.body.contains("plots%2Froc_curve.png"), "{}", run.body);
    let png = agent().get(&format!("{url}/ui/runs/{id}/artifact?name=plots%2Froc_curve.png")).call().unwrap();
    assert_eq!(png.headers().get("content-type").unwrap(), "image/png");
    let html = call("GET", &format!("{url}/ui/runs/{id}/artifact?name=validation.html"), None, &[]);
    assert_eq!(html.header("cache-control"), Some("no-store"));
    assert_eq!(html.header("content-type"), Some("application/octet-stream"));
    assert!(html.header("content-disposition").unwrap().starts_with("attachment"));
    child.kill().unwrap();
    let _ = child.wait();
}
