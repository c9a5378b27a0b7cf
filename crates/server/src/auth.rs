//! API keys: when `ML_API_KEYS` is set, protected routes need one of them as `X-API-Key` or
//! `Authorization: Bearer …` (compared in constant time). Missing → 401, wrong → 403. The
//! admin routes take `ML_ADMIN_KEYS` when it is set.

use axum::http::HeaderMap;

pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim());
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// Equal in time independent of where the bytes differ (length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `presented` is one of `keys` (every key compared, in constant time).
pub fn accepted(keys: &[String], presented: &str) -> bool {
    keys.iter().fold(false, |ok, key| ok | constant_time_eq(presented.as_bytes(), key.as_bytes()))
}

/// Whether a browser sent this from another site's page — the one rule for the dashboard's
/// posts and the API's non-JSON bodies. `Sec-Fetch-Site` decides when present (browsers set
/// it; a page cannot): `cross-site` and `same-site` are another site. Else an `Origin` (even
/// `null`) must name the host the request was sent to: `Host`, or the `X-Forwarded-Host` a
/// reverse proxy sets (a page cannot set it without a CORS preflight). Neither header: not a
/// browser (curl, a backend), so no page to fear.
pub fn from_another_site(h: &HeaderMap) -> bool {
    use axum::http::header;
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "cross-site" | "same-site");
    }
    let Some(origin) = h.get(header::ORIGIN) else { return false };
    let origin = origin.to_str().unwrap_or("");
    let Some(bare) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else {
        return true; // `null` or garbage: an opaque origin is not this server
    };
    let host = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    host("host") != Some(bare) && host("x-forwarded-host") != Some(bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_either_header_and_compared_exactly() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h), None);
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(presented_key(&h), Some("abc"));
        h.insert("x-api-key", "xyz".parse().unwrap());
        assert_eq!(presented_key(&h), Some("xyz"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
