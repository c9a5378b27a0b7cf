//! Content-addressed artifact files: `<root>/sha256/<first two hex>/<digest>`.

use crate::error::StoreError;
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};

/// A SHA-256 digest in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Digest(pub String);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(nivesh_core::hex::lower(&Sha256::digest(bytes)))
    }

    fn valid(&self) -> bool {
        self.0.len() == 64 && self.0.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Files addressed by their content.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

impl ArtifactStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ArtifactStore { root: root.into() }
    }

    /// Where the artifact with `digest` lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        let prefix = digest.0.get(..2).unwrap_or("xx");
        self.root.join("sha256").join(prefix).join(&digest.0)
    }

    /// Store `bytes` (temp file + fsync + rename); storing the same content twice is free.
    pub fn put(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::of(bytes);
        let path = self.path(&digest);
        if path.exists() && self.get(&digest).is_ok() {
            return Ok(digest);
        }
        nivesh_core::fsutil::atomic_write(&path, bytes).map_err(|e| StoreError::io(&path, e))?;
        Ok(digest)
    }

    /// Read an artifact, refusing a missing or corrupt file with its path.
    pub fn get(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        if !digest.valid() {
            return Err(StoreError::Corrupt { path: digest.0.clone(), reason: "not a SHA-256 digest".into() });
        }
        let path = self.path(digest);
        let bytes = std::fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(StoreError::Corrupt {
                path: path.display().to_string(),
                reason: format!("content hashes to {actual}, not {digest}"),
            });
        }
        Ok(bytes)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_corruption_is_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::new(dir.path());
        let d = store.put(b"model bytes").unwrap();
        assert_eq!(d, Digest::of(b"model bytes"));
        assert_eq!(store.put(b"model bytes").unwrap(), d);
        assert_eq!(store.get(&d).unwrap(), b"model bytes");
        std::fs::write(store.path(&d), b"model bytez").unwrap();
        let e = store.get(&d).unwrap_err().to_string();
        assert!(e.contains(&store.path(&d).display().to_string()) && e.contains("content hashes to"), "{e}");
        // putting the content again repairs the file
        store.put(b"model bytes").unwrap();
        assert_eq!(store.get(&d).unwrap(), b"model bytes");
        let missing = Digest::of(b"never stored");
        assert!(store.get(&missing).unwrap_err().to_string().contains("sha256"));
        assert!(store.get(&Digest("../../etc/passwd".into())).is_err());
    }
}
