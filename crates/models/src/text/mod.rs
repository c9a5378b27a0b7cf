//! Text processing shared by the text models: Unicode normalisation, tokenisation that keeps
//! "₹", numbers and Hinglish words, and TF-IDF features over word and character n-grams.

pub mod tfidf;
pub mod tokenize;

pub use tfidf::{SparseVec, TfidfParams, TfidfVectorizer};
pub use tokenize::{Token, normalize, tokenize};
