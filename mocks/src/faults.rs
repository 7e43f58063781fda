//! Injected faults: added latency, 503s, sessions that expire early, `UNABLE_TO_LOCK_ROW` on
//! writes and responses cut off mid-JSON, all drawn from a seeded splitmix64 generator so the
//! same seed and the same request sequence give the same faults; and one-shot faults
//! (`Faults::once`) that answer the next matching request with an error, once.
//!
//! Owns the settings (`Faults`), the generator and the injected-fault counters. It decides
//! whether a fault fires; the server and the write path decide what the fault looks like. It
//! never applies to the token endpoint or to `/__sim`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which faults to inject, and how often. All rates are probabilities in 0.0..=1.0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Seed of the fault generator; setting faults restarts the sequence from it.
    pub seed: u64,
    /// Added to every `/services/data` request before it is handled.
    pub latency_ms: u64,
    /// Share of `/services/data` requests answered 503 `SERVER_UNAVAILABLE`.
    pub http_503_rate: f64,
    /// Every Nth authorised request finds its token expired (401 `INVALID_SESSION_ID`).
    pub expire_session_every: Option<u64>,
    /// Share of record writes failing with `UNABLE_TO_LOCK_ROW`.
    pub lock_row_rate: f64,
    /// Share of 200 responses whose body is cut off mid-JSON.
    pub malformed_json_rate: f64,
    /// One-shot faults, used in order: each answers the next `/services/data` request it
    /// matches, then is gone. For tests that need "this one request fails, the next passes".
    pub once: Vec<OneShot>,
}

/// One request answered with an error, once (`Faults::once`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneShot {
    /// The HTTP method it waits for (`"GET"`, `"POST"`, ...); absent: the next request of any.
    #[serde(default)]
    pub method: Option<String>,
    /// A part of the request path it waits for (e.g. `"/limits"`); absent: any path.
    #[serde(default)]
    pub path: Option<String>,
    /// The status answered: 429 or 500..=599. 503 carries `SERVER_UNAVAILABLE`, any other
    /// status `UNKNOWN_EXCEPTION`.
    pub status: u16,
    /// Sent as the `Retry-After` header, as written (seconds or an HTTP-date); absent: none.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Carry the request out first (its changes are kept, it counts as an API call), then
    /// answer the error: a server that acted but whose answer says it failed. Otherwise the
    /// request is refused before it is read, like the rate-based 503.
    #[serde(default)]
    pub after_handling: bool,
}

/// Names under which `Stats::faults_injected` counts each fault.
pub(crate) mod kind {
    pub const LATENCY: &str = "latency";
    pub const HTTP_503: &str = "http_503";
    pub const SESSION_EXPIRED: &str = "session_expired";
    pub const LOCK_ROW: &str = "lock_row";
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const ONE_SHOT: &str = "once";
}

/// Why a `Faults` value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultsError {
    #[error("{name} must be between 0.0 and 1.0, got {value}")]
    Rate { name: &'static str, value: f64 },
    #[error("expire_session_every must be at least 1 (or absent to disable)")]
    ZeroEvery,
    #[error("once[{index}].status must be 429 or between 500 and 599, got {status}")]
    OneShotStatus { index: usize, status: u16 },
}

impl Faults {
    /// Checks rates are probabilities and the expiry period is positive.
    pub fn validate(&self) -> Result<(), FaultsError> {
        for (name, value) in [
            ("http_503_rate", self.http_503_rate),
            ("lock_row_rate", self.lock_row_rate),
            ("malformed_json_rate", self.malformed_json_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultsError::Rate { name, value });
            }
        }
        if self.expire_session_every == Some(0) {
            return Err(FaultsError::ZeroEvery);
        }
        for (index, shot) in self.once.iter().enumerate() {
            if shot.status != 429 && !(500..=599).contains(&shot.status) {
                return Err(FaultsError::OneShotStatus {
                    index,
                    status: shot.status,
                });
            }
        }
        Ok(())
    }
}

/// splitmix64: tiny, fast, and good enough to make fault sequences look random yet reproducible.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    /// Generator state; advanced by a constant on every draw.
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The live fault machinery of one org.
#[derive(Debug, Clone)]
pub(crate) struct FaultState {
    /// Current settings.
    faults: Faults,
    /// Draws for rate-based faults, restarted whenever the settings change.
    rng: SplitMix64,
    /// Authorised requests seen since the settings changed, for `expire_session_every`.
    authorised: u64,
    /// How many times each fault fired (reported in `Stats::faults_injected`).
    injected: BTreeMap<String, u64>,
    /// The one-shot faults not used yet, in order (a copy of `faults.once` when set).
    pending_once: Vec<OneShot>,
}

impl Default for FaultState {
    fn default() -> Self {
        FaultState::new(Faults::default())
    }
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        FaultState {
            rng: SplitMix64::new(faults.seed),
            pending_once: faults.once.clone(),
            faults,
            authorised: 0,
            injected: BTreeMap::new(),
        }
    }

    /// Replaces the settings and restarts the sequence; counters are kept.
    pub(crate) fn set(&mut self, faults: Faults) {
        self.rng = SplitMix64::new(faults.seed);
        self.pending_once = faults.once.clone();
        self.faults = faults;
        self.authorised = 0;
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    pub(crate) fn injected(&self) -> &BTreeMap<String, u64> {
        &self.injected
    }

    fn count(&mut self, kind: &str) {
        *self.injected.entry(kind.to_string()).or_insert(0) += 1;
    }

    /// Draws only when the rate is non-zero, so enabling one fault does not shift another's
    /// sequence when the other is off.
    fn roll(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.next_f64() < rate
    }

    /// Latency to add to this request, counted when non-zero.
    pub(crate) fn latency_ms(&mut self) -> u64 {
        let ms = self.faults.latency_ms;
        if ms > 0 {
            self.count(kind::LATENCY);
        }
        ms
    }

    pub(crate) fn http_503(&mut self) -> bool {
        let fire = self.roll(self.faults.http_503_rate);
        if fire {
            self.count(kind::HTTP_503);
        }
        fire
    }

    /// Called once per authorised request; true when this one must find its session expired.
    pub(crate) fn expire_session(&mut self) -> bool {
        let Some(every) = self.faults.expire_session_every else {
            return false;
        };
        self.authorised += 1;
        let fire = every > 0 && self.authorised.is_multiple_of(every);
        if fire {
            self.count(kind::SESSION_EXPIRED);
        }
        fire
    }

    pub(crate) fn lock_row(&mut self) -> bool {
        let fire = self.roll(self.faults.lock_row_rate);
        if fire {
            self.count(kind::LOCK_ROW);
        }
        fire
    }

    /// Takes the first unused one-shot fault that matches `method` and is of the kind asked
    /// (`after_handling` or not), if any: the server asks for refusals before it authenticates
    /// and for after-handling ones only once the request is carried out, so neither is used up
    /// by a request that never gets that far.
    pub(crate) fn one_shot(
        &mut self,
        method: &str,
        path: &str,
        after_handling: bool,
    ) -> Option<OneShot> {
        let at = self.pending_once.iter().position(|shot| {
            shot.after_handling == after_handling
                && shot
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && shot.path.as_deref().is_none_or(|p| path.contains(p))
        })?;
        self.count(kind::ONE_SHOT);
        Some(self.pending_once.remove(at))
    }

    pub(crate) fn malformed_json(&mut self) -> bool {
        let fire = self.roll(self.faults.malformed_json_rate);
        if fire {
            self.count(kind::MALFORMED_JSON);
        }
        fire
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(seed: u64) -> Vec<bool> {
        let mut state = FaultState::new(Faults {
            seed,
            http_503_rate: 0.5,
            ..Faults::default()
        });
        (0..64).map(|_| state.http_503()).collect()
    }

    #[test]
    fn same_seed_gives_same_faults() {
        assert_eq!(sequence(7), sequence(7));
        assert_ne!(sequence(7), sequence(8));
    }

    #[test]
    fn every_nth_authorised_request_expires() {
        let mut state = FaultState::new(Faults {
            expire_session_every: Some(3),
            ..Faults::default()
        });
        let fired: Vec<bool> = (0..6).map(|_| state.expire_session()).collect();
        assert_eq!(fired, [false, false, true, false, false, true]);
        assert_eq!(state.injected().get(kind::SESSION_EXPIRED), Some(&2));
    }

    #[test]
    fn zero_rates_never_fire() {
        let mut state = FaultState::default();
        assert!(
            (0..1000).all(|_| !state.http_503() && !state.lock_row() && !state.malformed_json())
        );
    }

    #[test]
    fn a_one_shot_fault_answers_the_next_matching_request_once() {
        let shot = |method: Option<&str>, status| OneShot {
            method: method.map(str::to_string),
            path: None,
            status,
            retry_after: None,
            after_handling: false,
        };
        let mut state = FaultState::new(Faults {
            once: vec![shot(Some("POST"), 500), shot(None, 503)],
            ..Faults::default()
        });
        assert_eq!(
            state.one_shot("GET", "/q", true),
            None,
            "none is after handling"
        );
        assert_eq!(
            state.one_shot("GET", "/q", false).map(|s| s.status),
            Some(503)
        );
        assert_eq!(state.one_shot("GET", "/q", false), None);
        assert_eq!(
            state.one_shot("post", "/q", false).map(|s| s.status),
            Some(500)
        );
        assert_eq!(state.one_shot("POST", "/q", false), None);
        assert_eq!(state.injected().get(kind::ONE_SHOT), Some(&2));
        let bad = Faults {
            once: vec![shot(None, 404)],
            ..Faults::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(FaultsError::OneShotStatus {
                index: 0,
                status: 404
            })
        ));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let bad = Faults {
            lock_row_rate: 1.5,
            ..Faults::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(FaultsError::Rate {
                name: "lock_row_rate",
                ..
            })
        ));
    }
}
