//! Rule settings: what the admin can override when detection is not enough.
//!
//! Owns: [`RuleContext`] (plain data, deserializable from the config file's `[rules]` table) and
//! the defaults that match a standard Service Cloud Voice org (DOMAIN.md §1).
//!
//! Must not: check the settings against an org (the rules do that against the snapshot, so a
//! name the org lacks is reported with the rule that needs it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CallCenterKind;

/// The config table [`RuleContext`] is read from; error messages name it.
pub const CONFIG_TABLE: &str = "org.rules";

/// `DeveloperName` of the Salesforce Voice User license (Amazon Connect users).
pub const DEFAULT_VOICE_PSL: &str = "ServiceCloudVoicePsl";

/// `DeveloperName` of the Salesforce Voice User (Partner Telephony) license.
pub const DEFAULT_PARTNER_PSL: &str = "ServiceCloudVoiceExternalTelephonyPsl";

/// The Amazon Connect contact-center permission sets, which need [`DEFAULT_VOICE_PSL`].
pub const DEFAULT_AMAZON_PERMISSION_SETS: [&str; 3] = [
    "ContactCenterAdmin",
    "ContactCenterAgent",
    "ContactCenterSupervisor",
];

/// The partner-telephony contact-center permission sets, which need [`DEFAULT_PARTNER_PSL`].
pub const DEFAULT_PARTNER_PERMISSION_SETS: [&str; 3] = [
    "ContactCenterAdminExternalTelephony",
    "ContactCenterAgentExternalTelephony",
    "ContactCenterSupervisorExternalTelephony",
];

/// Settings every rule reads. Every field is optional in the config file; the defaults fit a
/// standard org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleContext {
    /// API name of the licensed "Salesforce Voice Permission Set". Its name is not documented, so
    /// by default it is detected (the one set, other than the contact-center sets, linked to the
    /// Voice license); naming it here skips detection, and a name the org lacks is an error.
    pub voice_permission_set: Option<String>,
    /// `DeveloperName` of the Salesforce Voice User license.
    pub voice_psl: String,
    /// `DeveloperName` of the Partner Telephony license.
    pub partner_psl: String,
    /// The Amazon contact-center sets (default [`DEFAULT_AMAZON_PERMISSION_SETS`]). A user holding
    /// one genuinely needs a Voice seat. Named here, each must exist in the org.
    pub amazon_permission_sets: Option<Vec<String>>,
    /// The partner contact-center sets (default [`DEFAULT_PARTNER_PERMISSION_SETS`]); never taken
    /// for the Voice permission set. Named here, each must exist in the org.
    pub partner_permission_sets: Option<Vec<String>>,
    /// Contact-center kind by `Name` or `InternalName` (case-insensitive), for centers whose
    /// settings do not say (or say wrongly) whether they are Amazon Connect or partner telephony.
    pub contact_centers: BTreeMap<String, CallCenterKind>,
    /// `DeveloperName`s of licenses that are license-only by design (nothing is meant to need
    /// them), which `orphan-psl` never reports.
    pub orphan_psl_exceptions: Vec<String>,
    /// `[org.idle]`, checked by the config loader (not read from `[org.rules]`): the
    /// `idle-voice-seat` rule runs only when the table is present, since it reads call data.
    #[serde(skip)]
    pub idle: Option<IdleSettings>,
}

/// The `idle-voice-seat` rule's settings (`[org.idle]`), checked at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleSettings {
    /// Days without a call as agent (`VoiceCall.UserId`) after which a Voice seat is idle;
    /// also how recent a user's creation must be to spare them.
    pub after_days: u32,
    /// When set, a user who logged in within this many days is not idle, calls or not.
    pub also_last_login_days: Option<u32>,
    /// Whether `apply` may take idle seats back (off: reported only).
    pub reclaim: bool,
    /// `DeveloperName`s of the licenses whose seats are judged.
    pub licenses: Vec<String>,
    /// Usernames never reported (compared case-insensitively, as Salesforce does).
    pub except_usernames: Vec<String>,
    /// Holders of these permission sets (API names; directly or through a group) are never
    /// reported: supervisors who rarely take calls.
    pub except_permission_sets: Vec<String>,
    /// Holders of these permission set groups (`DeveloperName`) are never reported.
    pub except_permission_set_groups: Vec<String>,
}

/// Days without a call before a Voice seat counts as idle, when `[org.idle]` does not say.
pub const DEFAULT_IDLE_AFTER_DAYS: u32 = 60;

impl Default for IdleSettings {
    fn default() -> Self {
        IdleSettings {
            after_days: DEFAULT_IDLE_AFTER_DAYS,
            also_last_login_days: None,
            reclaim: false,
            licenses: vec![
                DEFAULT_VOICE_PSL.to_string(),
                DEFAULT_PARTNER_PSL.to_string(),
            ],
            except_usernames: Vec::new(),
            except_permission_sets: Vec::new(),
            except_permission_set_groups: Vec::new(),
        }
    }
}

impl Default for RuleContext {
    fn default() -> Self {
        RuleContext {
            voice_permission_set: None,
            voice_psl: DEFAULT_VOICE_PSL.to_string(),
            partner_psl: DEFAULT_PARTNER_PSL.to_string(),
            amazon_permission_sets: None,
            partner_permission_sets: None,
            contact_centers: BTreeMap::new(),
            orphan_psl_exceptions: Vec::new(),
            idle: None,
        }
    }
}

impl RuleContext {
    /// The Amazon contact-center set names in force (configured, or the defaults).
    pub fn amazon_permission_sets(&self) -> Vec<&str> {
        match &self.amazon_permission_sets {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => DEFAULT_AMAZON_PERMISSION_SETS.to_vec(),
        }
    }

    /// The partner contact-center set names in force (configured, or the defaults).
    pub fn partner_permission_sets(&self) -> Vec<&str> {
        match &self.partner_permission_sets {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => DEFAULT_PARTNER_PERMISSION_SETS.to_vec(),
        }
    }

    /// Every permission set name these settings refer to: the snapshot must hold each that
    /// exists, linked to a license or not (so the fetcher queries them by name).
    pub fn named_permission_sets(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .voice_permission_set
            .iter()
            .map(String::as_str)
            .collect();
        names.extend(self.amazon_permission_sets());
        names.extend(self.partner_permission_sets());
        if let Some(idle) = &self.idle {
            names.extend(idle.except_permission_sets.iter().map(String::as_str));
        }
        names
    }

    /// The kind config gives a contact center, by `Name` then `InternalName`.
    pub fn configured_call_center_kind(
        &self,
        name: &str,
        internal_name: &str,
    ) -> Option<CallCenterKind> {
        let lookup = |wanted: &str| {
            self.contact_centers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(wanted))
                .map(|(_, kind)| *kind)
        };
        lookup(name).or_else(|| lookup(internal_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_config_table_gives_the_standard_names() {
        let ctx: RuleContext = serde_json::from_str("{}").expect("empty table");
        assert_eq!(ctx, RuleContext::default());
        assert_eq!(ctx.voice_psl, "ServiceCloudVoicePsl");
        assert_eq!(ctx.partner_psl, "ServiceCloudVoiceExternalTelephonyPsl");
        assert_eq!(
            ctx.amazon_permission_sets(),
            [
                "ContactCenterAdmin",
                "ContactCenterAgent",
                "ContactCenterSupervisor"
            ]
        );
    }

    #[test]
    fn config_overrides_are_read() {
        let ctx: RuleContext = serde_json::from_str(
            r#"{"voice_permission_set": "VoicePS", "amazon_permission_sets": ["CCAgent"],
                "contact_centers": {"Main Center": "partner"},
                "orphan_psl_exceptions": ["SalesConsoleUser"]}"#,
        )
        .expect("valid settings");
        assert_eq!(ctx.voice_permission_set.as_deref(), Some("VoicePS"));
        assert_eq!(ctx.amazon_permission_sets(), ["CCAgent"]);
        assert_eq!(
            ctx.configured_call_center_kind("main center", "X"),
            Some(CallCenterKind::Partner)
        );
        assert_eq!(ctx.named_permission_sets()[0], "VoicePS");
    }

    #[test]
    fn a_misspelt_setting_is_refused() {
        let error = serde_json::from_str::<RuleContext>(r#"{"voice_permision_set": "X"}"#)
            .expect_err("unknown key");
        assert!(error.to_string().contains("voice_permision_set"), "{error}");
    }
}
