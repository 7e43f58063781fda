//! `[org.idle]`: the settings of the `idle-voice-seat` rule, checked once at start.
//!
//! Owns: the ranges and shapes `[org.idle]` accepts (days, license and exception names) and
//! turning the raw table into [`IdleSettings`].
//!
//! Must not: check names against an org (the rule does that against the snapshot and says so
//! in a note), or connect to anything.

use toml::Spanned;

use super::{Checker, ConfigError, RawIdle};
use crate::rules::IdleSettings;

/// The longest period accepted, in days: ten years. Salesforce keeps call records as long as
/// the org does, but a longer period is surely a typo (a date, or minutes).
const MAX_DAYS: i64 = 3_650;

impl Checker {
    /// Checks `[org.idle]` into the rule's settings.
    pub(super) fn idle(&self, raw: &RawIdle, prefix: &str) -> Result<IdleSettings, ConfigError> {
        let key = |k: &str| format!("{prefix}.idle.{k}");
        let days = |v: &Spanned<i64>, k: &str, what: &str| -> Result<u32, ConfigError> {
            let n = *v.get_ref();
            if (1..=MAX_DAYS).contains(&n) {
                Ok(n as u32)
            } else {
                Err(self.invalid(
                    v.span(),
                    &key(k),
                    format!("must be a number of days from 1 to {MAX_DAYS} ({what}); got {n}"),
                ))
            }
        };
        let names =
            |list: &Option<Vec<Spanned<String>>>, k: &str| -> Result<Vec<String>, ConfigError> {
                let mut out: Vec<String> = Vec::new();
                for v in list.iter().flatten() {
                    let name = self.non_empty(v, &key(k))?;
                    if name.chars().any(char::is_whitespace) {
                        return Err(self.invalid(
                            v.span(),
                            &key(k),
                            format!(
                                "`{name}` has a space in it: write the API name (DeveloperName or \
                             Username), not the label"
                            ),
                        ));
                    }
                    if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                        out.push(name);
                    }
                }
                Ok(out)
            };
        let mut settings = IdleSettings::default();
        if let Some(v) = &raw.after_days {
            settings.after_days = days(v, "after_days", "without a call before a seat is idle")?;
        }
        if let Some(v) = &raw.also_last_login_days {
            settings.also_last_login_days = Some(days(
                v,
                "also_last_login_days",
                "a login this recent spares the seat",
            )?);
        }
        settings.reclaim = raw.reclaim.unwrap_or(false);
        if let Some(list) = &raw.licenses {
            if list.get_ref().is_empty() {
                return Err(self.invalid(
                    list.span(),
                    &key("licenses"),
                    "names no license: list the DeveloperNames of the licenses to judge (e.g. \
                     \"ServiceCloudVoicePsl\"), or remove the key for the two Voice licenses",
                ));
            }
            settings.licenses = names(&Some(list.get_ref().clone()), "licenses")?;
        }
        settings.except_usernames = names(&raw.except_usernames, "except_usernames")?;
        settings.except_permission_sets =
            names(&raw.except_permission_sets, "except_permission_sets")?;
        settings.except_permission_set_groups = names(
            &raw.except_permission_set_groups,
            "except_permission_set_groups",
        )?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Settings;

    use crate::config::tests::JWT_ORG as ORG;

    fn idle(table: &str) -> Result<Option<crate::rules::IdleSettings>, String> {
        Settings::from_str(&format!("{ORG}{table}"), Path::new("/x/p.toml"))
            .map(|s| s.orgs[0].rules.idle.clone())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn without_the_table_the_rule_is_off_and_an_empty_table_takes_the_defaults() {
        assert_eq!(idle(""), Ok(None));
        let settings = idle("[org.idle]\n").unwrap().expect("on");
        assert_eq!(settings, crate::rules::IdleSettings::default());
        assert_eq!(settings.after_days, 60);
        assert!(!settings.reclaim);
        assert_eq!(
            settings.licenses,
            [
                "ServiceCloudVoicePsl",
                "ServiceCloudVoiceExternalTelephonyPsl"
            ]
        );
    }

    #[test]
    fn every_key_is_read() {
        let settings = idle(
            "[org.idle]\nafter_days = 30\nalso_last_login_days = 14\nreclaim = true\n\
             licenses = [\"ServiceCloudVoicePsl\"]\nexcept_usernames = [\"lead@x.org\"]\n\
             except_permission_sets = [\"Contact_Center_Supervisor\"]\n\
             except_permission_set_groups = [\"Voice_Supervisors\"]\n",
        )
        .unwrap()
        .expect("on");
        assert_eq!(settings.after_days, 30);
        assert_eq!(settings.also_last_login_days, Some(14));
        assert!(settings.reclaim);
        assert_eq!(settings.licenses, ["ServiceCloudVoicePsl"]);
        assert_eq!(settings.except_usernames, ["lead@x.org"]);
        assert_eq!(
            settings.except_permission_sets,
            ["Contact_Center_Supervisor"]
        );
        assert_eq!(settings.except_permission_set_groups, ["Voice_Supervisors"]);
    }

    #[test]
    fn bad_values_name_the_file_line_and_key() {
        let err = idle("[org.idle]\nafter_days = 0\n").unwrap_err();
        assert!(
            err.starts_with("/x/p.toml:11: `org[prod].idle.after_days`: must be a number of days"),
            "{err}"
        );
        let err = idle("[org.idle]\nlicenses = []\n").unwrap_err();
        assert!(
            err.contains("`org[prod].idle.licenses`: names no license"),
            "{err}"
        );
        let err = idle("[org.idle]\nexcept_permission_sets = [\"Contact Center\"]\n").unwrap_err();
        assert!(err.contains("has a space in it"), "{err}");
        let err = idle("[org.idle]\nafter_day = 3\n").unwrap_err();
        assert!(err.contains("after_day"), "{err}");
    }
}
