//! The preflight's Voice set-up check: what the scan will see — the Voice permission set found
//! or not, contact centers classified — and so whether the org is affected, before the first
//! scan. Pure: the snapshot part comes in from `snapshot::fetch::fetch_voice_setup`.

use crate::rules::{
    CallCenterKind, RuleContext, RuleError, VoicePermissionSet, classify_call_center,
    find_voice_permission_set,
};
use crate::snapshot::model::OrgSnapshot;

use super::judge::{Check, Status};

const NAME: &str = "Voice set-up";

/// Judges the Voice set-up; `read` is the partial snapshot, or why it could not be read.
pub fn voice_check(read: Result<&OrgSnapshot, String>, ctx: &RuleContext) -> Check {
    let snapshot = match read {
        Ok(s) => s,
        Err(why) => {
            return Check {
                name: NAME.to_string(),
                status: Status::Warning,
                found: format!(
                    "could not read licenses, permission sets and contact centers: {why}"
                ),
                fix: "grant View Setup and Configuration (see its check above), then run doctor \
                      again"
                    .to_string(),
            };
        }
    };
    let count = |kind: CallCenterKind| {
        snapshot
            .call_centers
            .iter()
            .filter(|c| classify_call_center(c, ctx) == kind)
            .count()
    };
    let (amazon, partner, unknown) = (
        count(CallCenterKind::Amazon),
        count(CallCenterKind::Partner),
        count(CallCenterKind::Unknown),
    );
    let centers = format!(
        "{} contact center(s): {amazon} Amazon Connect, {partner} partner telephony, {unknown} \
         unclassified",
        snapshot.call_centers.len()
    );
    let unknown_fix = if unknown > 0 {
        "; name the unclassified centers' kind under [org.rules] contact_centers".to_string()
    } else {
        String::new()
    };
    match find_voice_permission_set(snapshot, ctx) {
        Err(e @ RuleError::UnknownLicense { .. }) => Check {
            name: NAME.to_string(),
            status: Status::Warning,
            found: format!("not affected: {e}"),
            fix: String::new(),
        },
        Err(e) => Check {
            name: NAME.to_string(),
            status: Status::Missing,
            found: e.to_string(),
            fix: "correct the setting named above in the org's [org.rules] block".to_string(),
        },
        Ok(VoicePermissionSet::Linked {
            permission_set,
            configured,
        }) => {
            let affected = amazon > 0;
            Check {
                name: NAME.to_string(),
                status: if unknown > 0 {
                    Status::Warning
                } else {
                    Status::Ok
                },
                found: format!(
                    "Voice permission set `{}` ({}) needs the `{}` license; {centers}; {}",
                    permission_set.qualified_name(),
                    if configured {
                        "from config"
                    } else {
                        "detected"
                    },
                    ctx.voice_psl,
                    if affected {
                        "affected: scan can find seats consumed twice"
                    } else {
                        "no Amazon Connect center, so no double consumption to find"
                    }
                ),
                fix: unknown_fix.trim_start_matches("; ").to_string(),
            }
        }
        Ok(VoicePermissionSet::NotLinked { permission_set }) => Check {
            name: NAME.to_string(),
            status: Status::Ok,
            found: format!(
                "Voice permission set `{}` needs no Voice seat: not affected; {centers}",
                permission_set.qualified_name()
            ),
            fix: String::new(),
        },
        Ok(VoicePermissionSet::NoneFound) => Check {
            name: NAME.to_string(),
            status: Status::Ok,
            found: format!(
                "no permission set other than the contact-center ones needs the `{}` license: \
                 not affected; {centers}",
                ctx.voice_psl
            ),
            fix: String::new(),
        },
        Ok(VoicePermissionSet::Ambiguous { candidates }) => Check {
            name: NAME.to_string(),
            status: Status::Missing,
            found: format!(
                "several permission sets could be the Voice one: {}; {centers}",
                candidates
                    .iter()
                    .map(|c| c.qualified_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix: "name it with voice_permission_set under [org.rules]".to_string(),
        },
    }
}
