//! The settings `apply` runs under: the unattended-mode switch ([`Mode`], `mode`) and the
//! safety caps and batch size of `[org.apply]` ([`ApplyLimits`]).
//!
//! Owns: these types and their defaults, so `config` can build them without importing `apply`
//! (which reads them: the gate and the engine).
//!
//! Must not: decide anything about a run (`apply::gate` does) or import `apply` or `daemon`.

/// Whether pslwarden may change the org without a person confirming at a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The default: `apply` changes the org only after someone types "yes" at a terminal.
    #[default]
    DryRun,
    /// `mode = "apply"`: `apply --yes` (and the scheduler) may change the org unattended.
    Apply,
    /// `mode = "approved"`: `apply --yes` (and the scheduler) carry out only plans a person
    /// approved (`pslwarden approve`), unexpired, in approval order; nothing else.
    Approved,
}

impl Mode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::DryRun => "dry-run",
            Mode::Apply => "apply",
            Mode::Approved => "approved",
        }
    }
}

/// The safety caps and batch size of one org (`[org.apply]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyLimits {
    /// Most actions one run carries out; the rest wait for the next run.
    pub max_actions: usize,
    /// Most users one run changes, as a share of the org's Voice seats in use (0 < share <= 1):
    /// a mistake in the rules or the config then hits a bounded part of the contact center.
    pub max_voice_user_share: f64,
    /// The user cap is never below this, so a small org is not stuck at zero or one user a run.
    pub min_users_per_run: usize,
    /// Stop when fewer than this share of the org's daily API requests remain: other
    /// integrations of the org need them too.
    pub min_api_headroom: f64,
    /// Records per write call: up to five sObject Collections of 200 in one composite call.
    pub batch_size: usize,
}

/// Most records one composite call can carry: five collection subrequests of 200.
pub const MAX_BATCH_SIZE: usize = 1000;

impl Default for ApplyLimits {
    fn default() -> Self {
        ApplyLimits {
            max_actions: 2000,
            max_voice_user_share: 0.2,
            min_users_per_run: 10,
            min_api_headroom: 0.1,
            batch_size: MAX_BATCH_SIZE,
        }
    }
}

impl ApplyLimits {
    /// The most users one run may change in an org with `voice_seats_in_use` Voice seats taken.
    pub fn user_cap(&self, voice_seats_in_use: u64) -> usize {
        let share = (voice_seats_in_use as f64 * self.max_voice_user_share).ceil() as usize;
        share.max(self.min_users_per_run)
    }
}
