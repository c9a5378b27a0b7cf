//! Records the git commit the crate is built from as `NIVESH_GIT_COMMIT` (read with
//! `option_env!`), so a training run names the code that trained it whatever the working
//! directory it runs in. Rebuilt when HEAD moves. Without git (a source tarball) it is unset.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=NIVESH_GIT_COMMIT={commit}");
    }
    // rerun when HEAD or the branch it points to moves
    // (a path that does not exist would rerun the script on every build, so only existing ones)
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) {
        let branch = git(&["symbolic-ref", "-q", "HEAD"]);
        let watched = [Some("HEAD".to_string()), branch, Some("packed-refs".to_string())];
        for path in watched.into_iter().flatten().map(|p| dir.join(p)).filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
