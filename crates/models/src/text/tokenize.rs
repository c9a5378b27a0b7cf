//! Normalisation and tokenisation.

use unicode_normalization::UnicodeNormalization;

/// A token with its character offsets `[start, end)` in the normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// NFKC-normalise, drop control characters (keeping ordinary whitespace as spaces).
/// Case is kept; callers lower-case where they want to.
///
/// NFKC can change the number of characters (e.g. "ﬁ" → "fi"); NER therefore tokenises the
/// original text and normalises each token on its own.
pub fn normalize(text: &str) -> String {
    let keep = |c: char| match c {
        '\t' | '\n' | '\r' => Some(' '),
        c if c.is_control() => None,
        c => Some(c),
    };
    // ASCII is its own NFKC form: skip the normaliser's buffers (most queries)
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        out.extend(text.chars().filter_map(keep));
    } else {
        out.extend(text.nfkc().filter_map(keep));
    }
    out
}

/// [`normalize`], then lower-cased: ASCII in place (most text), Unicode's rules otherwise.
pub fn normalize_lowercase(text: &str) -> String {
    let mut norm = normalize(text);
    if norm.is_ascii() {
        norm.make_ascii_lowercase();
        norm
    } else {
        norm.to_lowercase()
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Class {
    Letter,
    Digit,
    Space,
    Other,
}

fn class(c: char) -> Class {
    if c.is_alphabetic() || is_mark(c) {
        Class::Letter
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_whitespace() {
        Class::Space
    } else {
        Class::Other
    }
}

fn is_mark(c: char) -> bool {
    // Combining marks of Indic scripts (Devanagari vowel signs etc.) belong to the word.
    matches!(c as u32, 0x0300..=0x036F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963)
}

/// Split `text` into tokens with character offsets:
/// - words: letters (any script), with inner apostrophes or hyphens ("don't", "e-mail");
/// - numbers: digits with inner `,` `.` grouping ("1,50,000", "2,500.50", "15/03/2026" is
///   three numbers and two slashes);
/// - every other non-space character on its own ("₹", "$", "?").
pub fn tokenize(text: &str) -> Vec<Token> {
    // a character is at least a byte: sized once
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    chars.extend(text.chars());
    // about one token per five characters in ordinary text
    let mut out = Vec::with_capacity(chars.len() / 5 + 1);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let k = class(c);
        match k {
            Class::Space => {
                i += 1;
                continue;
            }
            Class::Other => {
                out.push(Token { text: c.to_string(), start: i, end: i + 1 });
                i += 1;
                continue;
            }
            _ => {}
        }
        let start = i;
        i += 1;
        while i < chars.len() {
            let ci = class(chars[i]);
            if ci == k {
                i += 1;
                continue;
            }
            // joiners inside a word or a number
            let next_same = i + 1 < chars.len() && class(chars[i + 1]) == k;
            let joiner = match k {
                Class::Letter => matches!(chars[i], '\'' | '’' | '-'),
                Class::Digit => matches!(chars[i], ',' | '.'),
                _ => false,
            };
            if joiner && next_same {
                i += 2;
                continue;
            }
            break;
        }
        out.push(Token { text: chars[start..i].iter().collect(), start, end: i });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn keeps_rupee_numbers_and_hinglish() {
        assert_eq!(texts("Kitna paisa ₹1,50,000 mein?"), ["Kitna", "paisa", "₹", "1,50,000", "mein", "?"]);
        assert_eq!(texts("Rs.5k on 15/03/2026"), ["Rs", ".", "5", "k", "on", "15", "/", "03", "/", "2026"]);
        assert_eq!(texts("INR 2,500.50, don't"), ["INR", "2,500.50", ",", "don't"]);
        assert_eq!(texts("e-mail - ok"), ["e-mail", "-", "ok"]);
    }

    #[test]
    fn offsets_are_characters() {
        let toks = tokenize("₹500 को Swiggy");
        assert_eq!(toks[0], Token { text: "₹".into(), start: 0, end: 1 });
        assert_eq!(toks[1], Token { text: "500".into(), start: 1, end: 4 });
        assert_eq!(toks[2], Token { text: "को".into(), start: 5, end: 7 });
        assert_eq!(toks[3], Token { text: "Swiggy".into(), start: 8, end: 14 });
    }

    #[test]
    fn normalize_lowercase_is_the_normalised_text_in_unicode_lower_case() {
        let slow = |s: &str| normalize(s).to_lowercase();
        for b in 0u8..128 {
            let s = char::from(b).to_string();
            assert_eq!(normalize_lowercase(&s), slow(&s), "byte {b}");
        }
        for s in ["HDFC", "Swiggy's", "e-Mail", "ＲＳ５００", "İstanbul", "pay\u{7}", "Ünïcode", "₹500", ""] {
            assert_eq!(normalize_lowercase(s), slow(s), "{s:?}");
        }
    }

    #[test]
    fn normalize_strips_controls_and_folds_compatibility_forms() {
        assert_eq!(normalize("pay\u{0007} ＲＳ５００\tnow"), "pay RS500 now");
        // the ASCII path drops and maps the same characters
        assert_eq!(normalize("pay\u{0007} RS500\tnow\r\n"), "pay RS500 now  ");
        let ascii: String = (0u8..128).map(char::from).collect();
        let through_nfkc: String = normalize(&format!("{ascii}é")).trim_end_matches('é').to_string();
        assert_eq!(normalize(&ascii), through_nfkc);
    }
}
