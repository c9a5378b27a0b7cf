//! One of N parts of a batch job (`--shard i/N`), so that N processes — a Kubernetes Indexed
//! Job's pods — split the work with no coordinator: by a stable hash of a key (entities: every
//! run gives a key to the same shard, whatever order they come in), or by contiguous ranges of
//! positions (records of a file: the shards' outputs, concatenated in shard order, are the
//! one-shot output).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// The most shards a job may be split into.
pub const MAX_SHARDS: u32 = 65_536;

impl Shard {
    /// The whole job: one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{index}/{count}: the count must be 1 to {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!("{index}/{count}: the index must be 0 to {} (shards count from 0)", count - 1));
        }
        Ok(Shard { index, count })
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    pub fn is_all(self) -> bool {
        self.count == 1
    }

    /// Whether `key` belongs to this shard: 64-bit FNV-1a of its bytes, modulo the count (stable
    /// across builds and platforms, unlike `std`'s hasher).
    pub fn owns(self, key: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index)
    }

    /// This shard's part of positions `0..n`: a contiguous range, the shards' ranges in order
    /// tiling `0..n` (sizes differ by at most one).
    pub fn range(self, n: u64) -> Range<u64> {
        let at = |i: u32| (u128::from(n) * u128::from(i) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s.trim().split_once('/').ok_or_else(|| format!("{s:?}: expected INDEX/COUNT, such as 0/4"))?;
        let parse = |x: &str, what: &str| {
            x.trim().parse::<u32>().map_err(|_| format!("{s:?}: the {what} {x:?} is not a whole number"))
        };
        Shard::new(parse(i, "index")?, parse(n, "count")?).map_err(|e| format!("{s:?}: {e}"))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_with_the_reason() {
        assert_eq!("2/4".parse::<Shard>(), Shard::new(2, 4));
        assert_eq!(" 0/1 ".parse::<Shard>().unwrap(), Shard::ALL);
        assert_eq!("3/4".parse::<Shard>().unwrap().to_string(), "3/4");
        for (bad, says) in [
            ("4/4", "the index must be 0 to 3"),
            ("0/0", "the count must be"),
            ("1", "expected INDEX/COUNT"),
            ("a/2", "the index \"a\""),
            ("-1/2", "the index \"-1\""),
        ] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn every_key_has_exactly_one_shard_and_the_split_is_even() {
        let shards: Vec<Shard> = (0..4).map(|i| Shard::new(i, 4).unwrap()).collect();
        let mut sizes = [0usize; 4];
        for u in 0..20_000 {
            let key = format!("U{u:05}");
            let owners: Vec<usize> = (0..4).filter(|&i| shards[i].owns(&key)).collect();
            assert_eq!(owners.len(), 1, "{key}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&s| (4_500..5_500).contains(&s)), "{sizes:?}");
        assert!(Shard::ALL.owns("anything"));
    }

    #[test]
    fn ranges_tile_the_positions_in_order() {
        for n in [0u64, 1, 3, 10, 1_001] {
            for count in [1u32, 2, 3, 4, 7] {
                let ranges: Vec<Range<u64>> = (0..count).map(|i| Shard::new(i, count).unwrap().range(n)).collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[ranges.len() - 1].end, n);
                assert!(ranges.windows(2).all(|w| w[0].end == w[1].start), "{n} {count}: {ranges:?}");
                assert!(ranges.iter().all(|r| r.end - r.start <= n / u64::from(count) + 1));
            }
        }
    }
}
