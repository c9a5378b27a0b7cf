//! The byte format of a saved model:
//!
//! ```text
//! "NIVESHML" | u32 LE envelope version (1) | u16 LE kind length | kind (UTF-8)
//! | u32 LE format version of the kind | u64 LE payload length | 32-byte SHA-256 of payload | payload
//! ```
//!
//! The payload is the model's serde form in postcard. Loading checks the magic, the kind, the
//! format version and the checksum, and names what did not match.

use crate::ModelError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"NIVESHML";
const ENVELOPE_VERSION: u32 = 1;

/// A model that can be saved and loaded.
pub trait Persist: Serialize + DeserializeOwned {
    /// Stable name of the model kind, e.g. `intent`.
    const KIND: &'static str;
    /// Bumped whenever the serialised form changes incompatibly.
    const FORMAT_VERSION: u32;

    fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        let payload =
            postcard::to_allocvec(self).map_err(|e| ModelError::Artifact(format!("cannot serialise: {e}")))?;
        Ok(wrap(Self::KIND, Self::FORMAT_VERSION, &payload))
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        decode(bytes, Self::KIND, Self::FORMAT_VERSION)
    }
}

/// Check the envelope (kind, format version, checksum) and decode its payload as `T`. Kinds
/// that still read an older format version call this with that version's layout.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], kind: &str, format_version: u32) -> Result<T, ModelError> {
    let payload = unwrap(bytes, kind, format_version)?;
    postcard::from_bytes(payload).map_err(|e| ModelError::Artifact(format!("{kind} payload does not decode: {e}")))
}

/// Wrap a payload in the envelope.
pub fn wrap(kind: &str, format_version: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 64 + kind.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&ENVELOPE_VERSION.to_le_bytes());
    out.extend_from_slice(&(kind.len() as u16).to_le_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(&format_version.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// What an envelope says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kind: String,
    pub format_version: u32,
    pub payload_len: u64,
}

fn take<'a>(bytes: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], ModelError> {
    if bytes.len() < n {
        return Err(ModelError::Artifact(format!("truncated: {what} is missing")));
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn read_u32(bytes: &mut &[u8], what: &str) -> Result<u32, ModelError> {
    let b = take(bytes, 4, what)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Parse the header, returning it and the remaining bytes (checksum + payload).
pub fn header(bytes: &[u8]) -> Result<(Header, &[u8]), ModelError> {
    let mut b = bytes;
    if take(&mut b, 8, "magic")? != MAGIC {
        return Err(ModelError::Artifact("not a nivesh-ml model file (bad magic)".into()));
    }
    let env = read_u32(&mut b, "envelope version")?;
    if env != ENVELOPE_VERSION {
        return Err(ModelError::Artifact(format!(
            "envelope version {env} is not supported (expected {ENVELOPE_VERSION})"
        )));
    }
    let kl = take(&mut b, 2, "kind length")?;
    let kind_len = u16::from_le_bytes([kl[0], kl[1]]) as usize;
    let kind = std::str::from_utf8(take(&mut b, kind_len, "kind")?)
        .map_err(|_| ModelError::Artifact("kind is not UTF-8".into()))?
        .to_string();
    let format_version = read_u32(&mut b, "format version")?;
    let pl = take(&mut b, 8, "payload length")?;
    let payload_len = u64::from_le_bytes([pl[0], pl[1], pl[2], pl[3], pl[4], pl[5], pl[6], pl[7]]);
    Ok((Header { kind, format_version, payload_len }, b))
}

/// Check the envelope and return the payload.
pub fn unwrap<'a>(bytes: &'a [u8], kind: &str, format_version: u32) -> Result<&'a [u8], ModelError> {
    let (h, mut rest) = header(bytes)?;
    if h.kind != kind {
        return Err(ModelError::Artifact(format!("this is a {} model, not {kind}", h.kind)));
    }
    if h.format_version != format_version {
        return Err(ModelError::Artifact(format!(
            "{kind} format version {} cannot be read by this build (it reads version {format_version}); retrain the model",
            h.format_version
        )));
    }
    let digest = take(&mut rest, 32, "checksum")?.to_vec();
    if rest.len() as u64 != h.payload_len {
        return Err(ModelError::Artifact(format!(
            "payload is {} bytes, the header says {} (truncated or padded file)",
            rest.len(),
            h.payload_len
        )));
    }
    if Sha256::digest(rest).as_slice() != digest.as_slice() {
        return Err(ModelError::Artifact("checksum mismatch: the file is corrupt".into()));
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Toy {
        w: Vec<f32>,
        name: String,
    }
    impl Persist for Toy {
        const KIND: &'static str = "toy";
        const FORMAT_VERSION: u32 = 3;
    }

    #[test]
    fn round_trip_and_every_corruption_is_named() {
        let t = Toy { w: vec![1.5, -2.0], name: "₹".into() };
        let bytes = t.to_bytes().unwrap();
        assert_eq!(Toy::from_bytes(&bytes).unwrap(), t);

        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(Toy::from_bytes(&flipped).unwrap_err().to_string().contains("checksum mismatch"));

        let truncated = &bytes[..bytes.len() - 1];
        assert!(Toy::from_bytes(truncated).unwrap_err().to_string().contains("truncated"));

        assert!(
            Toy::from_bytes(b"hello").unwrap_err().to_string().contains("truncated")
                || Toy::from_bytes(b"hello").is_err()
        );
        assert!(Toy::from_bytes(b"PK\x03\x04 not a model").unwrap_err().to_string().contains("bad magic"));

        let other = wrap("intent", 3, b"x");
        assert!(Toy::from_bytes(&other).unwrap_err().to_string().contains("this is a intent model, not toy"));
        let old = wrap("toy", 2, b"x");
        assert!(Toy::from_bytes(&old).unwrap_err().to_string().contains("format version 2 cannot be read"));
    }
}
