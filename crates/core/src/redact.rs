//! Redaction of secrets and Indian personal identifiers in text bound for logs.
//!
//! Applied to every formatted log line (text or JSON) by the binary's logging setup, so a field
//! or message that carries a key, a password, a token, a PAN, an Aadhaar number or a card number
//! never reaches the log sink.

use regex::{Captures, Regex};
use std::sync::LazyLock;

/// Replacement for a redacted value.
pub const REDACTED: &str = "[REDACTED]";

// Optional ANSI styling that a terminal formatter puts around field names and `=`.
const ANSI: &str = r"(?:\x1b\[[0-9;]*m)*";

static SECRET_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r#"(?i)((?:api[_-]?keys?|x[_-]api[_-]key|password|passwd|pwd|secret|client[_-]secret|(?:access|refresh|auth|bearer)?[_-]?token|authorization){ANSI}"?{ANSI}\s*[=:]\s*{ANSI}"?)((?:Bearer|Basic)\s+)?([^\s",}}\x1b]+)"#
    );
    Regex::new(&pattern).unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}").unwrap_or_else(|e| unreachable!("{e}"))
});

/// A URL with credentials (`scheme://…@`), as it may appear in a log line.
static URL_WITH_USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[a-z][a-z0-9+.-]*://[^\s/@]+@").unwrap_or_else(|e| unreachable!("{e}")));

/// Where the secret of a URL's user info is, as a byte range of `url`: the password of
/// `scheme://user:password@host`, or the whole user info of `redis://password@host` (Redis
/// reads a lone user info as the password). `None` when the URL carries no secret.
///
/// The user info ends at the string's last `@`, so a password holding `/`, `?` or `#` (which a
/// URL parser would refuse) is still found, and a malformed scheme (`redis:/…`) still counts:
/// a message echoing a bad URL must not echo its password.
fn url_secret(url: &str) -> Option<std::ops::Range<usize>> {
    let start = match url.find("://") {
        Some(i) => i + 3,
        None => {
            let colon = url.find(':')?;
            colon + 1 + url[colon + 1..].chars().take_while(|c| *c == '/').count()
        }
    };
    let rest = &url[start..];
    let at = rest.rfind('@')?;
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => Some(start + colon + 1..start + at),
        None if !userinfo.is_empty() && url.starts_with("redis") => Some(start..start + at),
        None => None,
    }
}

fn replace_url_secret(url: &str, marker: &str) -> String {
    match url_secret(url) {
        Some(r) => format!("{}{marker}{}", &url[..r.start], &url[r.end..]),
        None => url.to_string(),
    }
}

/// A URL fit for messages and `config show`: its password replaced by `<redacted>`
/// (`postgres://user:pw@host/db` → `postgres://user:<redacted>@host/db`). The one URL redactor
/// of nivesh-ml; log lines use the same parse.
pub fn redact_url(url: &str) -> String {
    replace_url_secret(url, "<redacted>")
}

/// PAN: five letters, four digits, one letter (`ABCDE1234F`).
static PAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Za-z]{5}[0-9]{4}[A-Za-z]\b").unwrap_or_else(|e| unreachable!("{e}")));

/// Aadhaar: 12 digits, first digit 2-9, optionally grouped 4-4-4 by spaces or hyphens.
static AADHAAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}\b").unwrap_or_else(|e| unreachable!("{e}"))
});

/// Card-like: 13-19 digits, optionally grouped by spaces or hyphens; redacted when Luhn-valid.
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9](?:[ -]?[0-9]){12,18}\b").unwrap_or_else(|e| unreachable!("{e}")));

/// Redact secrets and identifiers in `text`.
pub fn redact(text: &str) -> String {
    let s = SECRET_FIELD
        .replace_all(text, |c: &Captures| format!("{}{}{REDACTED}", &c[1], c.get(2).map_or("", |m| m.as_str())));
    let s = BEARER.replace_all(&s, |c: &Captures| format!("{} {REDACTED}", &c[1]));
    let s = URL_WITH_USERINFO.replace_all(&s, |c: &Captures| replace_url_secret(&c[0], REDACTED));
    let s = CARD.replace_all(&s, |c: &Captures| {
        let digits: Vec<u32> = c[0].chars().filter_map(|ch| ch.to_digit(10)).collect();
        if luhn_valid(&digits) { "[CARD]".to_string() } else { c[0].to_string() }
    });
    let s = AADHAAR.replace_all(&s, "[AADHAAR]");
    let s = PAN.replace_all(&s, "[PAN]");
    s.into_owned()
}

/// The Luhn checksum used by payment card numbers.
pub fn luhn_valid(digits: &[u32]) -> bool {
    if digits.len() < 13 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_fields_in_text_and_json() {
        let cases = [
            ("login password=hunter2 ok", "login password=[REDACTED] ok"),
            ("api_key=sk-live-123 user=u1", "api_key=[REDACTED] user=u1"),
            ("X-API-Key: abcdef123456", "X-API-Key: [REDACTED]"),
            (r#"{"token":"eyJhbGciOi.x.y","user":"u1"}"#, r#"{"token":"[REDACTED]","user":"u1"}"#),
            (r#"{"client_secret": "s3cr3t"}"#, r#"{"client_secret": "[REDACTED]"}"#),
            ("authorization=Bearer abc.def.ghi", "authorization=Bearer [REDACTED]"),
            ("header Authorization: Bearer abcdefghijk", "header Authorization: Bearer [REDACTED]"),
            ("sent Bearer abcdefghijklmnop to upstream", "sent Bearer [REDACTED] to upstream"),
            ("db postgres://nivesh:hunter2@db:5432/x", "db postgres://nivesh:[REDACTED]@db:5432/x"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input}");
        }
    }

    #[test]
    fn urls_lose_their_passwords_in_one_way() {
        assert_eq!(redact_url("postgres://me:secret@db:5432/x"), "postgres://me:<redacted>@db:5432/x");
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
        assert_eq!(redact_url("redis://:pw@h:6379/0"), "redis://:<redacted>@h:6379/0");
        assert_eq!(redact_url("redis://pw@h:6379/0"), "redis://<redacted>@h:6379/0");
        assert_eq!(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(redact_url("sqlite:./x.db"), "sqlite:./x.db");
        assert_eq!(redact_url("http://h/p?next=a@b"), "http://h/p?next=a@b");
        // malformed URLs echoed in errors keep no password either
        assert_eq!(redact_url("redis://:p/w?x@h:6379"), "redis://:<redacted>@h:6379");
        assert_eq!(redact_url("redis:/:pw@h"), "redis:/:<redacted>@h");
        assert_eq!(redact_url("https://u:p@ss@mlflow:5000"), "https://u:<redacted>@mlflow:5000");
        // in log lines, the same parse
        assert_eq!(
            redact("to redis://:pw@h:6379/0 and redis://pw@h"),
            "to redis://:[REDACTED]@h:6379/0 and redis://[REDACTED]@h"
        );
    }

    #[test]
    fn ansi_styled_field_names_are_still_matched() {
        let line = "\x1b[3mpassword\x1b[0m\x1b[2m=\x1b[0mhunter2 done";
        let out = redact(line);
        assert!(!out.contains("hunter2"), "{out:?}");
    }

    #[test]
    fn indian_identifiers() {
        assert_eq!(redact("PAN ABCDE1234F on file"), "PAN [PAN] on file");
        assert_eq!(redact("pan=abcde1234f"), "pan=[PAN]");
        assert_eq!(redact("aadhaar 2345 6789 0123 linked"), "aadhaar [AADHAAR] linked");
        assert_eq!(redact("aadhaar=234567890123"), "aadhaar=[AADHAAR]");
        assert_eq!(redact("id 2345-6789-0123"), "id [AADHAAR]");
        // Aadhaar numbers never start with 0 or 1; amounts and years are left alone.
        assert_eq!(redact("amount 150000 on 2026-03-15"), "amount 150000 on 2026-03-15");
    }

    #[test]
    fn card_numbers_need_a_valid_checksum() {
        assert_eq!(redact("card 4111 1111 1111 1111 used"), "card [CARD] used");
        assert_eq!(redact("card 4111-1111-1111-1111"), "card [CARD]");
        assert_eq!(redact("card 5500005555555559"), "card [CARD]");
        // 16 digits failing Luhn (e.g. an order id) are kept.
        assert_eq!(redact("order 4111111111111112"), "order 4111111111111112");
        assert!(luhn_valid(&[4, 0, 1, 2, 8, 8, 8, 8, 8, 8, 8, 8, 1, 8, 8, 1]));
    }
}
