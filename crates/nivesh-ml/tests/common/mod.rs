//! What the tests of the binary share: the binary, a data directory with five champions made
//! once per test process, private copies of it, and `nivesh-ml serve` started on a port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nivesh-ml"));
    c.env_clear();
    c
}

/// A data directory with five champions and materialized features, made once.
pub fn fixture() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let start = (chrono::Utc::now().date_naive() - chrono::Duration::days(90)).to_string();
        let run = |args: &[&str]| {
            let out = bin().current_dir(dir.path()).env("NIVESH_DATA_DIR", "store").args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&["data", "generate", "--out", "gen", "--scale", "small", "--start", &start]);
        run(&["train", "--data", "gen"]);
        run(&["features", "ingest", "--source", "gen/transactions.csv"]);
        run(&["features", "materialize"]);
        dir
    })
    .path()
}

/// Copy a directory tree. Other tests' servers open the fixture's SQLite files meanwhile, so a
/// file that vanishes while copying (a WAL or shared-memory file at close) is skipped: SQLite
/// rebuilds it from the database.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        match entry.file_type() {
            Ok(t) if t.is_dir() => copy_tree(&entry.path(), &target),
            Ok(_) => match std::fs::copy(entry.path(), &target) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => {
                    other.unwrap();
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", entry.path().display()),
        }
    }
}

/// The fixture's store copied, so a test can change its registry without disturbing others.
pub fn private_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture().join("store"), &dir.path().join("store"));
    dir
}

/// `nivesh-ml serve` on a free port in `root` (data in `root/store`), and the URL it prints.
pub fn spawn_serve(root: &Path, extra: &[&str]) -> (std::process::Child, String) {
    spawn_serve_with(root, 0, &[], extra)
}

/// [`spawn_serve`] on `port` (0: a free one), with more environment variables.
pub fn spawn_serve_with(root: &Path, port: u16, env: &[(&str, &str)], extra: &[&str]) -> (std::process::Child, String) {
    spawn_serve_logging(root, port, env, extra, std::process::Stdio::null())
}

/// [`spawn_serve_with`], its logs (stderr) going to `stderr` (a file the test reads).
pub fn spawn_serve_logging(
    root: &Path,
    port: u16,
    env: &[(&str, &str)],
    extra: &[&str],
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    let mut child = bin()
        .current_dir(root)
        .env("NIVESH_DATA_DIR", "store")
        .env("GRPC_PORT", "0")
        .envs(env.iter().copied())
        .args(["serve", "--no-bootstrap", "--port", &port.to_string()])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split_once(" at http://") {
                let url = format!("http://{}", rest.1.split_whitespace().next().unwrap_or(""));
                let _ = tx.send(url);
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).expect("the server never said where it listens");
    (child, url)
}

/// An HTTP client for the tests: statuses are answers, not errors; every call within `timeout`.
pub fn agent_config(timeout: Duration) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(timeout))
}

/// [`agent_config`] built.
pub fn agent(timeout: Duration) -> ureq::Agent {
    agent_config(timeout).build().into()
}
