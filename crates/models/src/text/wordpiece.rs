//! BERT's WordPiece tokenizer, read from a Hugging Face `tokenizer.json` (model type
//! `WordPiece`, normalizer `BertNormalizer`, pre-tokenizer `BertPreTokenizer`).
//!
//! Written here rather than taken from the `tokenizers` crate, which builds two C/C++ libraries
//! (onig, esaxx) for the many tokenizer families we do not use. Only what BERT-style sentence
//! encoders need: text cleaning, CJK splitting, lower-casing with accent stripping, splitting on
//! whitespace and punctuation, greedy longest-match-first word pieces.

use super::{WordHash, WordList};
use crate::ModelError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A WordPiece vocabulary and the normalisation rules that go with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordPiece {
    vocab: Vocab,
    unk_id: u32,
    cls_id: u32,
    sep_id: u32,
    prefix: String,
    lowercase: bool,
    strip_accents: bool,
    max_chars_per_word: usize,
}

/// The pieces and their ids: the pieces sorted, end to end in one string ([`WordList`]), each
/// with its id. A `HashMap<String, u32>` of BERT's 30,522 pieces held 2.4 MB (a heap string and
/// a 32-byte slot each); this holds ~0.7 MB. It (de)serialises as that map did, a map from piece
/// to id written in id order, so that a table or model holding it serialises to the same bytes
/// every time and files written before it load unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
struct Vocab {
    pieces: WordList,
    /// `ids[i]`: the id of piece `i`.
    ids: Vec<u32>,
}

impl Vocab {
    /// From the map's pairs: a piece given twice keeps its last id (as a map read it).
    fn new(pairs: impl IntoIterator<Item = (String, u32)>) -> Result<Vocab, ModelError> {
        let sorted: BTreeMap<String, u32> = pairs.into_iter().collect();
        let pieces = WordList::new(sorted.keys())
            .ok_or_else(|| ModelError::Artifact("the word-piece vocabulary passes 4 GiB".into()))?;
        Ok(Vocab { pieces, ids: sorted.into_values().collect() })
    }

    fn get(&self, piece: &str) -> Option<u32> {
        self.pieces.find(piece, WordHash::of(piece)).and_then(|i| self.ids.get(i).copied())
    }

    /// Every piece with its id, in the pieces' order.
    fn iter(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.pieces.iter().zip(self.ids.iter().copied())
    }
}

impl Serialize for Vocab {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut pairs: Vec<(&str, u32)> = self.iter().collect();
        pairs.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        s.collect_map(pairs)
    }
}

impl<'de> Deserialize<'de> for Vocab {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Vocab, D::Error> {
        let map = BTreeMap::<String, u32>::deserialize(d)?;
        Vocab::new(map).map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
struct TokenizerJson {
    model: ModelJson,
    normalizer: Option<NormalizerJson>,
}

#[derive(Deserialize)]
struct ModelJson {
    #[serde(rename = "type")]
    kind: String,
    vocab: HashMap<String, u32>,
    unk_token: String,
    #[serde(default = "default_prefix")]
    continuing_subword_prefix: String,
    #[serde(default = "default_max_chars")]
    max_input_chars_per_word: usize,
}

#[derive(Deserialize)]
struct NormalizerJson {
    #[serde(default)]
    lowercase: bool,
    strip_accents: Option<bool>,
}

fn default_prefix() -> String {
    "##".into()
}

fn default_max_chars() -> usize {
    100
}

impl WordPiece {
    /// Read a Hugging Face `tokenizer.json` of a BERT-style model.
    pub fn from_tokenizer_json(json: &str) -> Result<WordPiece, ModelError> {
        let t: TokenizerJson =
            serde_json::from_str(json).map_err(|e| ModelError::Artifact(format!("tokenizer.json: {e}")))?;
        if t.model.kind != "WordPiece" {
            return Err(ModelError::Artifact(format!(
                "tokenizer.json: model.type is {:?}; only WordPiece (BERT-style) tokenizers are supported",
                t.model.kind
            )));
        }
        let lowercase = t.normalizer.as_ref().is_some_and(|n| n.lowercase);
        // BertNormalizer: strip_accents null means "as lowercase"
        let strip_accents = t.normalizer.as_ref().and_then(|n| n.strip_accents).unwrap_or(lowercase);
        let vocab = Vocab::new(t.model.vocab)?;
        let id = |token: &str| {
            vocab
                .get(token)
                .ok_or_else(|| ModelError::Artifact(format!("tokenizer.json: the vocabulary has no {token} token")))
        };
        Ok(WordPiece {
            unk_id: id(&t.model.unk_token)?,
            cls_id: id("[CLS]")?,
            sep_id: id("[SEP]")?,
            prefix: t.model.continuing_subword_prefix.clone(),
            lowercase,
            strip_accents,
            max_chars_per_word: t.model.max_input_chars_per_word,
            vocab,
        })
    }

    /// Size of the id space (largest id + 1).
    pub fn vocab_size(&self) -> usize {
        self.vocab.ids.iter().map(|&v| v as usize + 1).max().unwrap_or(0)
    }

    /// The vocabulary's whole words: pieces that do not continue a word (no `##` prefix) and
    /// are not markers such as `[CLS]`, with their ids, in id order.
    pub fn whole_words(&self) -> Vec<(&str, u32)> {
        let mut out: Vec<(&str, u32)> = self
            .vocab
            .iter()
            .filter(|(p, _)| !(p.starts_with(&self.prefix) || p.starts_with('[') && p.ends_with(']')))
            .collect();
        out.sort_unstable_by_key(|&(_, id)| id);
        out
    }

    pub fn cls_id(&self) -> u32 {
        self.cls_id
    }

    pub fn sep_id(&self) -> u32 {
        self.sep_id
    }

    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    /// Word-piece ids of `text`, without the `[CLS]`/`[SEP]` markers.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        self.pre_tokenize(text, |word| self.word_pieces(word, &mut ids));
        ids
    }

    /// `[CLS] pieces [SEP]`, cut to `max_len` ids in all.
    pub fn encode_with_markers(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids = vec![self.cls_id];
        let body = self.encode(text);
        ids.extend(body.into_iter().take(max_len.saturating_sub(2)));
        ids.push(self.sep_id);
        ids
    }

    /// BERT's basic tokenisation: hands `word` each whitespace-separated run, with punctuation
    /// and CJK characters as words of their own, in order (one buffer reused for every word).
    fn pre_tokenize(&self, text: &str, mut word: impl FnMut(&str)) {
        let mut cur = String::with_capacity(32);
        let flush = |cur: &mut String, word: &mut dyn FnMut(&str)| {
            if !cur.is_empty() {
                word(cur);
                cur.clear();
            }
        };
        let normalized: String = if self.lowercase { text.to_lowercase() } else { text.to_string() };
        let normalized: String =
            // ASCII is its own NFD form and has no combining marks
            if self.strip_accents && !normalized.is_ascii() {
                normalized.nfd().filter(|c| !is_combining_mark(*c)).collect()
            } else {
                normalized
            };
        let mut one = [0u8; 4];
        for c in normalized.chars() {
            if c == '\0' || c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()) {
                continue;
            }
            if c.is_whitespace() {
                flush(&mut cur, &mut word);
            } else if is_punctuation(c) || is_cjk(c) {
                flush(&mut cur, &mut word);
                word(c.encode_utf8(&mut one));
            } else {
                cur.push(c);
            }
        }
        flush(&mut cur, &mut word);
    }

    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        // the greedy match tries the whole word first: most words are one piece, found here
        // without copying (a byte length within the limit bounds the character count too)
        if word.len() <= self.max_chars_per_word
            && let Some(id) = self.vocab.get(word)
        {
            out.push(id);
            return;
        }
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > self.max_chars_per_word {
            out.push(self.unk_id);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut piece = String::new();
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                piece.clear();
                if start > 0 {
                    piece.push_str(&self.prefix);
                }
                piece.extend(&chars[start..end]);
                if let Some(id) = self.vocab.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    pieces.push(id);
                    start = end;
                }
                None => {
                    // a word with any piece missing becomes one [UNK]
                    out.push(self.unk_id);
                    return;
                }
            }
        }
        out.extend(pieces);
    }
}

/// BERT's punctuation: every non-alphanumeric printable ASCII character, and Unicode punctuation.
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(c,
        '\u{00a1}' | '\u{00a7}' | '\u{00ab}' | '\u{00b6}' | '\u{00b7}' | '\u{00bb}' | '\u{00bf}'
        | '\u{037e}' | '\u{0387}' | '\u{055a}'..='\u{055f}' | '\u{0589}' | '\u{05be}' | '\u{05c0}'
        | '\u{05c3}' | '\u{05c6}' | '\u{05f3}' | '\u{05f4}' | '\u{0609}' | '\u{060a}' | '\u{060c}'
        | '\u{060d}' | '\u{061b}' | '\u{061e}' | '\u{061f}' | '\u{066a}'..='\u{066d}' | '\u{06d4}'
        | '\u{0964}' | '\u{0965}' | '\u{0970}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{2043}'
        | '\u{2045}'..='\u{2051}' | '\u{2053}'..='\u{205e}' | '\u{207d}' | '\u{207e}' | '\u{208d}'
        | '\u{208e}' | '\u{2308}'..='\u{230b}' | '\u{2329}' | '\u{232a}' | '\u{2768}'..='\u{2775}'
        | '\u{27c5}' | '\u{27c6}' | '\u{27e6}'..='\u{27ef}' | '\u{2983}'..='\u{2998}'
        | '\u{29d8}'..='\u{29db}' | '\u{29fc}' | '\u{29fd}' | '\u{2cf9}'..='\u{2cfc}' | '\u{2cfe}'
        | '\u{2cff}' | '\u{2e00}'..='\u{2e4f}' | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}'
        | '\u{3014}'..='\u{301f}' | '\u{3030}' | '\u{303d}' | '\u{30a0}' | '\u{30fb}'
        | '\u{fe10}'..='\u{fe19}' | '\u{fe30}'..='\u{fe52}' | '\u{fe54}'..='\u{fe61}' | '\u{fe63}'
        | '\u{fe68}' | '\u{fe6a}' | '\u{fe6b}' | '\u{ff01}'..='\u{ff03}' | '\u{ff05}'..='\u{ff0a}'
        | '\u{ff0c}'..='\u{ff0f}' | '\u{ff1a}' | '\u{ff1b}' | '\u{ff1f}' | '\u{ff20}'
        | '\u{ff3b}'..='\u{ff3d}' | '\u{ff3f}' | '\u{ff5b}' | '\u{ff5d}' | '\u{ff5f}'..='\u{ff65}')
}

/// CJK ideographs, which BERT splits into single characters.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{20000}'..='\u{2a6df}'
        | '\u{2a700}'..='\u{2b73f}' | '\u{2b740}'..='\u{2b81f}' | '\u{2b820}'..='\u{2ceaf}'
        | '\u{f900}'..='\u{faff}' | '\u{2f800}'..='\u{2fa1f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_the_same_bytes_whatever_the_map_order() {
        // each parse builds its own HashMap (its own random iteration order)
        let bytes: Vec<Vec<u8>> = (0..8)
            .map(|_| {
                postcard::to_allocvec(&WordPiece::from_tokenizer_json(&crate::text::testing::fixture_json()).unwrap())
                    .unwrap()
            })
            .collect();
        assert!(bytes.windows(2).all(|w| w[0] == w[1]));
        let back: WordPiece = postcard::from_bytes(&bytes[0]).unwrap();
        assert_eq!(back, WordPiece::from_tokenizer_json(&crate::text::testing::fixture_json()).unwrap());
    }
    use crate::text::testing::fixture_json;

    #[test]
    fn the_vocabulary_is_written_as_the_map_it_was_in_id_order() {
        let pairs = [("pay", 7u32), ("[UNK]", 1), ("##s", 14), ("bill", 9), ("pay", 3)];
        let vocab = Vocab::new(pairs.map(|(p, id)| (p.to_string(), id))).unwrap();
        // a piece given twice keeps its last id, as a map read it
        assert_eq!(
            ["pay", "[UNK]", "##s", "bill", "rent"].map(|p| vocab.get(p)),
            [Some(3), Some(1), Some(14), Some(9), None]
        );
        let in_id_order = r###"{"[UNK]":1,"pay":3,"bill":9,"##s":14}"###;
        assert_eq!(serde_json::to_string(&vocab).unwrap(), in_id_order);
        // files written when it was a map: its pairs in id order, as a map (what the old writer did)
        struct OldMap(Vec<(&'static str, u32)>);
        impl Serialize for OldMap {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().copied())
            }
        }
        let old = postcard::to_allocvec(&OldMap(vec![("[UNK]", 1), ("pay", 3), ("bill", 9), ("##s", 14)])).unwrap();
        assert_eq!(postcard::to_allocvec(&vocab).unwrap(), old);
        let back: Vocab = postcard::from_bytes(&old).unwrap();
        assert_eq!(back, vocab);
        assert_eq!(postcard::from_bytes::<Vocab>(&postcard::to_allocvec(&vocab).unwrap()).unwrap(), vocab);
    }

    #[test]
    fn pieces_match_bert_rules() {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        assert_eq!(wp.vocab_size(), 30);
        // lower-casing, punctuation split, ## continuation
        assert_eq!(wp.encode("How do I pay my Bills?"), vec![4, 5, 6, 7, 8, 9, 14, 11]);
        // accents stripped ("café" → "cafe"), longest match first ("unknown" → un ##know ##n)
        assert_eq!(wp.encode("Café unknown"), vec![17, 18, 19, 20]);
        // a word with an unknown piece is one [UNK]; control characters dropped
        assert_eq!(wp.encode("transfer\u{7}s  xyz transferring"), vec![13, 14, 1, 1]);
        // currency sign and digits: ₹ is not punctuation for BERT, so "₹500" is one word
        assert_eq!(wp.encode("₹500, rent"), vec![1, 12, 10]);
        assert_eq!(wp.encode("₹ 500"), vec![21, 22, 23]);
        assert_eq!(wp.encode_with_markers("pay rent", 512), vec![2, 7, 10, 3]);
        assert_eq!(wp.encode_with_markers("pay my rent bill", 4), vec![2, 7, 8, 3]);
        assert!(wp.encode("   ").is_empty());
    }

    #[test]
    fn unsupported_tokenizers_are_named() {
        let bad = r#"{"model": {"type": "BPE", "vocab": {}, "unk_token": "<unk>"}}"#;
        let err = WordPiece::from_tokenizer_json(bad).unwrap_err().to_string();
        assert!(err.contains("BPE"), "{err}");
        let no_cls = r#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"}}"#;
        assert!(WordPiece::from_tokenizer_json(no_cls).unwrap_err().to_string().contains("[CLS]"));
        assert!(WordPiece::from_tokenizer_json("{").unwrap_err().to_string().contains("tokenizer.json"));
    }
}
