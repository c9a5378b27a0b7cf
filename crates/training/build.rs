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
    // rerun when HEAD or the branch it points to moves: `logs/HEAD` changes with every commit,
    // checkout and reset; branch refs live in the common directory (worktrees share it), loose
    // or packed. Only existing paths are watched (a missing one reruns the script every build).
    let dir = |args: &[&str]| git(args).map(|d| std::fs::canonicalize(&d).unwrap_or_else(|_| PathBuf::from(d)));
    if let (Some(git_dir), Some(common)) =
        (dir(&["rev-parse", "--absolute-git-dir"]), dir(&["rev-parse", "--git-common-dir"]))
    {
        let branch = git(&["symbolic-ref", "-q", "HEAD"]);
        let watched = [
            Some(git_dir.join("HEAD")),
            Some(git_dir.join("logs").join("HEAD")),
            branch.map(|b| common.join(b)),
            Some(common.join("packed-refs")),
        ];
        for path in watched.into_iter().flatten().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
