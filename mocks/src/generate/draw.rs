//! The generator's deterministic draws and ids: a splitmix64 stream with the few draws it
//! needs, and valid 18-character ids handed out per key prefix.
//!
//! Must not: read the clock or the environment (the same seed gives the same stream).

use super::*;

/// splitmix64 with the few draws the generator needs.
pub(super) struct Rng {
    /// The stream.
    pub(super) inner: SplitMix64,
}

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng {
            inner: SplitMix64::new(seed),
        }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in 0..n (0 when n is 0); the modulo bias is irrelevant at these sizes.
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in lo..=hi.
    pub(super) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi.saturating_sub(lo) + 1)
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.inner.next_f64() < p
    }

    /// An index drawn with the given weights (the last one when they are all zero).
    pub(super) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return weights.len().saturating_sub(1);
        }
        let mut roll = self.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if roll < w {
                return i;
            }
            roll -= w;
        }
        weights.len() - 1
    }

    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Hands out valid 18-character ids: key prefix, a fixed pod-like "Hu0", then a 9-digit base-62
/// sequence per prefix that starts at a seed-dependent offset (so orgs of different seeds do not
/// share ids), then the checksum suffix. The sim's own new ids (`…5Sim…`) cannot collide.
pub(super) struct IdFactory {
    /// Next sequence number per key prefix.
    pub(super) next: BTreeMap<&'static str, u64>,
    /// Where every sequence starts.
    pub(super) base: u64,
}

pub(super) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl IdFactory {
    pub(super) fn new(seed: u64) -> IdFactory {
        let mut mix = SplitMix64::new(seed);
        // Leaves room for 62^8 ids per prefix before the 9 digits run out.
        let base = 62u64.pow(8) + mix.next_u64() % (40 * 62u64.pow(8));
        IdFactory {
            next: BTreeMap::new(),
            base,
        }
    }

    pub(super) fn next(&mut self, prefix: &'static str) -> String {
        let n = self.next.entry(prefix).or_insert(0);
        let mut id = String::with_capacity(18);
        id.push_str(prefix);
        id.push_str("Hu0");
        push_base62_9(&mut id, self.base + *n);
        *n += 1;
        let suffix = ids::checksum_suffix(&id);
        id.push_str(&suffix);
        id
    }
}

/// Appends nine base-62 digits of `n` (mod 62^9).
pub(super) fn push_base62_9(out: &mut String, mut n: u64) {
    let mut digits = [b'0'; 9];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.extend(digits.iter().map(|d| char::from(*d)));
}
