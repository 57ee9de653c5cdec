//! Deterministic shuffling for approver suggestions.
//!
//! Prow shuffles the candidate approvers with Go's `math/rand` seeded by the
//! PR number so suggestions differ between PRs but stay stable across bot
//! runs on one PR. We keep that property, not Go's exact sequence: the
//! generator is SplitMix64 seeded with the PR number, driving a Fisher–Yates
//! shuffle from the last index down. Same input and seed ⇒ same order, on
//! every platform and release of this crate.

/// SplitMix64: tiny, well-mixed, and fully specified, so the order is stable.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform value in `0..=bound` (rejection sampling avoids modulo bias).
    fn below_or_eq(&mut self, bound: u64) -> u64 {
        if bound == u64::MAX {
            return self.next();
        }
        let n = bound + 1;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next();
            if v < zone {
                return v % n;
            }
        }
    }
}

/// Returns `items` in a pseudo-random order determined only by `seed`.
pub fn deterministic_shuffle<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    let mut rng = SplitMix64(seed);
    for i in (1..out.len()).rev() {
        // `i` fits in u64 and the result is <= i, so both casts are lossless.
        let j = rng.below_or_eq(i as u64) as usize;
        out.swap(i, j);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_permutation() {
        let items: Vec<u32> = (0..20).collect();
        let a = deterministic_shuffle(&items, 7);
        let b = deterministic_shuffle(&items, 7);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, items);
        assert_ne!(deterministic_shuffle(&items, 8), a);
        assert!(deterministic_shuffle::<u32>(&[], 1).is_empty());
    }
}
