//! A sorted list of words held in one string, found by a hash of the word.
//!
//! The NER model's word clusters and near-word lists hold ~20,000 words each. As `Vec<String>`
//! searched by `binary_search` they cost a heap allocation and a 24-byte header per word and,
//! per token served, ~15 string comparisons each behind a pointer (13 % of the NER route's
//! server CPU in a profile; docs/BENCHMARKS.md). Here the words sit end to end in one `String`
//! with a `u32` end offset each, and a hash table of positions (4 bytes a slot: the word's
//! 64-bit hash is recomputed from its text when the table grows, never stored) finds it with a
//! probe and, nearly always, one comparison; the caller hashes a token once ([`WordHash::of`])
//! for every list it looks it up in. Two words sharing a hash are told apart by their text, so
//! a list need not be sorted to be searched.
//!
//! It (de)serialises as the sequence of its words, the bytes a `Vec<String>` gives, so that
//! models written before it load unchanged.

use super::tfidf::{FNV_OFFSET, FNV_PRIME, mix};
use hashbrown::HashTable;
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A word's hash for [`WordList::find`]: FNV-1a over its bytes, then the finaliser the TF-IDF
/// and CRF keys use ([`super::tfidf::mix`]), so that the low bits the map's buckets use depend
/// on every byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordHash(u64);

impl WordHash {
    pub fn of(word: &str) -> WordHash {
        let h = word.bytes().fold(FNV_OFFSET, |h, b| (h ^ b as u64).wrapping_mul(FNV_PRIME));
        WordHash(mix(h))
    }
}

/// Words end to end, in the order given (sorted, where the owner requires it: see
/// [`WordList::is_sorted`]). A word given twice is found at its first position.
#[derive(Debug, Clone, Default)]
pub struct WordList {
    text: String,
    /// `ends[i]`: the byte offset in `text` where word `i` ends (word `i` starts where `i - 1`
    /// ends).
    ends: Vec<u32>,
    /// The words' positions, placed by the words' [`WordHash`]es.
    index: HashTable<u32>,
}

impl PartialEq for WordList {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.ends == other.ends
    }
}

impl WordList {
    /// The list of `words`, in their order. `None` if the words together pass 4 GiB.
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Option<WordList> {
        let mut list = WordList::default();
        for w in words {
            list.text.push_str(w.as_ref());
            list.ends.push(u32::try_from(list.text.len()).ok()?);
        }
        list.text.shrink_to_fit();
        list.ends.shrink_to_fit();
        let WordList { text, ends, index } = &mut list;
        let word = |i: u32| word_at(text, ends, i as usize);
        let rehash = |&i: &u32| WordHash::of(word(i)).0;
        index.reserve(ends.len(), rehash);
        for i in 0..ends.len() as u32 {
            let w = word(i);
            let h = WordHash::of(w).0;
            if index.find(h, |&j| word(j) == w).is_none() {
                index.insert_unique(h, i, rehash);
            }
        }
        Some(list)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Word `i` (empty past the end).
    pub fn get(&self, i: usize) -> &str {
        word_at(&self.text, &self.ends, i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Strictly increasing: what the owners check of the lists they build sorted.
    pub fn is_sorted(&self) -> bool {
        (1..self.len()).all(|i| self.get(i - 1) < self.get(i))
    }

    /// The position of `word`, whose hash is `hash`.
    pub fn find(&self, word: &str, hash: WordHash) -> Option<usize> {
        self.index.find(hash.0, |&i| self.get(i as usize) == word).map(|&i| i as usize)
    }
}

/// Word `i` of the words ending at `ends` in `text` (empty past the end).
fn word_at<'a>(text: &'a str, ends: &[u32], i: usize) -> &'a str {
    let Some(&end) = ends.get(i) else { return "" };
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    text.get(start..end as usize).unwrap_or("")
}

impl Serialize for WordList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for w in self.iter() {
            seq.serialize_element(w)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for WordList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WordList, D::Error> {
        struct Words;
        impl<'de> Visitor<'de> for Words {
            type Value = WordList;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of words")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WordList, A::Error> {
                let mut words: Vec<String> = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(w) = seq.next_element::<String>()? {
                    words.push(w);
                }
                WordList::new(words).ok_or_else(|| serde::de::Error::custom("the words pass 4 GiB"))
            }
        }
        d.deserialize_seq(Words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(words: &[&str]) -> WordList {
        WordList::new(words).unwrap()
    }

    #[test]
    fn every_word_is_found_where_it_is_and_others_are_not() {
        let l = list(&["", "a", "bank", "banker", "dentist", "pharmacy"]);
        for (i, w) in l.iter().enumerate() {
            assert_eq!(l.find(w, WordHash::of(w)), Some(i), "{w}");
        }
        for w in ["ban", "bankers", "z", "Bank"] {
            assert_eq!(l.find(w, WordHash::of(w)), None, "{w}");
        }
        assert_eq!((l.len(), l.get(3), l.get(99)), (6, "banker", ""));
        assert!(l.is_sorted());
        assert!(!list(&["b", "a"]).is_sorted());
        assert!(!list(&["a", "a"]).is_sorted());
    }

    #[test]
    fn words_sharing_a_hash_are_told_apart_by_their_text_sorted_or_not() {
        let mut l = list(&["gamma", "alpha", "beta"]);
        // every word placed as if all three shared one hash
        l.index = HashTable::new();
        for i in 0..3 {
            l.index.insert_unique(7, i, |_| 7);
        }
        for (i, w) in ["gamma", "alpha", "beta"].into_iter().enumerate() {
            assert_eq!(l.find(w, WordHash(7)), Some(i), "{w}");
        }
        assert_eq!(l.find("delta", WordHash(7)), None);
        // unsorted, with a repeat: found where it first is
        let l = list(&["b", "a", "b", "c"]);
        assert_eq!(["b", "a", "c"].map(|w| l.find(w, WordHash::of(w))), [Some(0), Some(1), Some(3)]);
    }

    #[test]
    fn it_serialises_as_a_vec_of_strings_does() {
        let words = vec!["food".to_string(), "fuel".to_string(), "₹".to_string()];
        let l = WordList::new(&words).unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), serde_json::to_string(&words).unwrap());
        // the model artifacts' own encoding
        assert_eq!(postcard::to_allocvec(&l).unwrap(), postcard::to_allocvec(&words).unwrap());
        let back: WordList = postcard::from_bytes(&postcard::to_allocvec(&words).unwrap()).unwrap();
        assert_eq!(back, l);
        let back: WordList = serde_json::from_str(&serde_json::to_string(&words).unwrap()).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.find("₹", WordHash::of("₹")), Some(2));
    }
}
