//! `pslwarden usage`: Service Cloud Voice minutes against telephony minutes, from `VoiceCall`
//! records (DOMAIN.md §6).
//!
//! * [`compute`]: segments into calls and minutes, the breakdowns and the data-quality findings
//!   (pure; the counting rules are at the top of the file).
//! * [`billing`]: the prepaid balance, burn rate, projected run-out and telephony cost (pure).
//! * [`report`]: the report as data and its renderers (JSON, CSV, Markdown, terminal).
//! * [`html`]: `usage.html` on the shared page layout, with [`chart`]'s daily chart (SCV and
//!   telephony minutes side by side, every day of the period).
//!
//! The fetch lives with the other SOQL in [`crate::snapshot::fetch`]; the command in
//! [`crate::commands::usage`].

pub mod billing;
pub mod chart;
pub mod compute;
pub mod fields;
pub mod html;
pub mod report;

use chrono_tz::Tz;

/// `[org.usage]`, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageSettings {
    /// The zone days are counted in (default: the window's zone, else UTC).
    pub time_zone: Option<Tz>,
    /// The counting choices the data cannot settle.
    pub rules: compute::UsageRules,
    /// Rates and the prepaid balance.
    pub pricing: billing::Pricing,
}
