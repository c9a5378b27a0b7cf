//! The backend's user tokens (JWT) beside the API keys: HS256 signed with `JWT_SECRET`, or
//! RS256/ES256 with public keys from a local JWKS file (nothing is fetched). A token needs
//! `exp` and `sub`; `iss` and `aud` are checked when configured. A valid token scopes the
//! request to its subject: the prediction routes and `/features/online` only, and only for the
//! user it names (`http/middleware.rs` admits it, the handlers compare the users a request
//! names with [`UserScope`]). Service API keys keep full access.

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// Where the keys come from and what the claims must say.
#[derive(Debug, Clone, Default)]
pub struct TokenConfig {
    pub hs256_secret: Option<String>,
    /// A JWKS document's text (the file `JWT_JWKS_FILE` names).
    pub jwks: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

/// The user a request was made for, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserScope(pub String);

/// Verifies user tokens.
pub struct UserTokens {
    secret: Option<DecodingKey>,
    /// (key id, algorithm, key) from the JWKS.
    public: Vec<(Option<String>, Algorithm, DecodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for UserTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTokens")
            .field("hs256", &self.secret.is_some())
            .field("public_keys", &self.public.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
}

impl UserTokens {
    /// `None` when no secret and no JWKS are configured; an error names what is wrong.
    pub fn new(c: &TokenConfig) -> Result<Option<Self>, String> {
        if c.hs256_secret.is_none() && c.jwks.is_none() {
            return Ok(None);
        }
        if let Some(s) = &c.hs256_secret
            && s.len() < 32
        {
            return Err("JWT_SECRET: at least 32 characters (an HS256 key shorter than its hash is weak)".into());
        }
        let mut public = Vec::new();
        if let Some(text) = &c.jwks {
            let set: JwkSet =
                serde_json::from_str(text).map_err(|e| format!("JWT_JWKS_FILE: not a JWKS document: {e}"))?;
            for (i, jwk) in set.keys.iter().enumerate() {
                let alg = match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => {
                        return Err(format!(
                            "JWT_JWKS_FILE: keys[{i}]: only RSA (RS256) and EC P-256 (ES256) keys are read"
                        ));
                    }
                };
                let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWT_JWKS_FILE: keys[{i}]: {e}"))?;
                public.push((jwk.common.key_id.clone(), alg, key));
            }
            if public.is_empty() {
                return Err("JWT_JWKS_FILE: the document has no keys".into());
            }
        }
        Ok(Some(UserTokens {
            secret: c.hs256_secret.as_deref().map(|s| DecodingKey::from_secret(s.as_bytes())),
            public,
            issuer: c.issuer.clone(),
            audience: c.audience.clone(),
        }))
    }

    /// The token's subject when it is valid: signed by a configured key with the algorithm that
    /// key is for, not expired, `iss`/`aud` as configured; else why not.
    pub fn verify(&self, token: &str) -> Result<UserScope, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        let candidates: Vec<&DecodingKey> = match header.alg {
            Algorithm::HS256 => self.secret.iter().collect(),
            Algorithm::RS256 | Algorithm::ES256 => self
                .public
                .iter()
                .filter(|(kid, alg, _)| *alg == header.alg && (header.kid.is_none() || *kid == header.kid))
                .map(|(_, _, k)| k)
                .collect(),
            other => return Err(format!("algorithm {other:?} is not accepted (HS256, RS256, ES256)")),
        };
        if candidates.is_empty() {
            return Err(format!(
                "no configured key for a {:?} token{}",
                header.alg,
                header.kid.map(|k| format!(" with kid {k:?}")).unwrap_or_default()
            ));
        }
        let mut v = Validation::new(header.alg);
        v.leeway = 30;
        v.required_spec_claims = ["exp", "sub"].iter().map(|s| s.to_string()).collect();
        match &self.issuer {
            Some(i) => {
                v.set_issuer(&[i]);
                v.required_spec_claims.insert("iss".into());
            }
            None => v.iss = None,
        }
        match &self.audience {
            Some(a) => {
                v.set_audience(&[a]);
                v.required_spec_claims.insert("aud".into());
            }
            None => v.validate_aud = false,
        }
        let mut last = String::new();
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, key, &v) {
                Ok(data) if !data.claims.sub.trim().is_empty() => return Ok(UserScope(data.claims.sub)),
                Ok(_) => return Err("the token's sub is empty".into()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!("invalid token: {last}"))
    }
}

/// Whether `token` has a JWT's shape (three base64url parts), so it is read as a user token and
/// not compared with the API keys.
pub fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The routes a user token may call.
pub fn user_route(path: &str) -> bool {
    path.starts_with("/predict/") || path == "/features/online"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jwt_shaped_strings_are_read_as_tokens_and_only_user_routes_take_them() {
        assert!(looks_like_jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJVMSJ9.c2ln"));
        assert!(looks_like_jwt("a.b."));
        for s in ["service-key-1", "a.b", "a.b.c.d", ".b.c", "a b.c.d", "a.b.c=="] {
            assert!(!looks_like_jwt(s), "{s}");
        }
        assert!(user_route("/predict/spending") && user_route("/predict/ner/batch") && user_route("/features/online"));
        for p in [
            "/models",
            "/admin/train",
            "/monitoring/drift/intent",
            "/mcp",
            "/v2/models/credit/infer",
            "/features/onlinex",
        ] {
            assert!(!user_route(p), "{p}");
        }
    }

    #[test]
    fn configuration_errors_name_the_setting() {
        let short = TokenConfig { hs256_secret: Some("short".into()), ..Default::default() };
        assert!(UserTokens::new(&short).unwrap_err().starts_with("JWT_SECRET"));
        let bad = TokenConfig { jwks: Some("{".into()), ..Default::default() };
        assert!(UserTokens::new(&bad).unwrap_err().starts_with("JWT_JWKS_FILE"));
        let empty = TokenConfig { jwks: Some(r#"{"keys": []}"#.into()), ..Default::default() };
        assert_eq!(UserTokens::new(&empty).unwrap_err(), "JWT_JWKS_FILE: the document has no keys");
        assert!(UserTokens::new(&TokenConfig::default()).unwrap().is_none());
        let t = UserTokens::new(&TokenConfig { hs256_secret: Some("x".repeat(32)), ..Default::default() })
            .unwrap()
            .unwrap();
        assert!(t.verify("not-a-token").unwrap_err().starts_with("malformed token"));
    }
}
