//! Text processing shared by the text models: Unicode normalisation, tokenisation that keeps
//! "₹", numbers and Hinglish words, TF-IDF features over word and character n-grams, and
//! sentence embeddings from static vectors distilled out of a BERT sentence encoder.

pub mod bert;
pub mod clusters;
pub mod static_embed;
#[doc(hidden)]
pub mod testing;
pub mod tfidf;
pub mod tokenize;
pub mod word_list;
pub mod wordpiece;

pub use bert::{BertEncoder, EncoderFiles, SentenceEncoder};
pub use clusters::WordClusters;
pub use static_embed::{SHIPPED as SHIPPED_EMBEDDINGS, StaticEmbeddings};
pub use tfidf::{SparseVec, TfidfParams, TfidfVectorizer};
pub use tokenize::{Token, normalize, normalize_lowercase, tokenize};
pub use word_list::{WordHash, WordList};
pub use wordpiece::WordPiece;
