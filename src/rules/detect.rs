//! Detection helpers: which permission set is the licensed "Salesforce Voice Permission Set", and
//! which contact centers are Amazon Connect ones.
//!
//! Owns: both detections and the config overrides that win over them (DOMAIN.md §1–§2: the Voice
//! set's API name and how every org exposes a center's kind are UNCONFIRMED, so both are
//! detected from the org and overridable).
//!
//! Must not: guess when detection is ambiguous: several candidates are reported as such, for the
//! admin to name one in config.

use serde_json::Value;

use crate::snapshot::model::{CallCenter, OrgSnapshot, PermissionSet};

use super::{CONFIG_TABLE, CallCenterKind, RuleContext, RuleError};

/// What [`find_voice_permission_set`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicePermissionSet<'a> {
    /// The Voice permission set needs the Voice license: the org is affected.
    Linked {
        permission_set: &'a PermissionSet,
        /// Named in config, rather than detected.
        configured: bool,
    },
    /// The set named in config exists but needs no Voice seat (orgs enabled after Spring '24):
    /// the org is not affected.
    NotLinked { permission_set: &'a PermissionSet },
    /// No set other than the contact-center ones is linked to the Voice license: the org is not
    /// affected.
    NoneFound,
    /// Several sets could be it; config must name one.
    Ambiguous { candidates: Vec<&'a PermissionSet> },
}

/// Finds the Voice permission set: the one named in `ctx.voice_permission_set`, or else the one
/// set linked to the Voice license that is neither a contact-center set (Amazon or partner), nor
/// a profile's set, nor a group's aggregated set.
///
/// Errors when the Voice license is not in the org, or when config names a set the org lacks.
pub fn find_voice_permission_set<'a>(
    snapshot: &'a OrgSnapshot,
    ctx: &RuleContext,
) -> Result<VoicePermissionSet<'a>, RuleError> {
    let voice_psl = snapshot
        .licenses
        .iter()
        .find(|license| license.developer_name == ctx.voice_psl)
        .ok_or_else(|| RuleError::UnknownLicense {
            table: CONFIG_TABLE,
            setting: "voice_psl",
            name: ctx.voice_psl.clone(),
        })?;
    let linked = |set: &PermissionSet| set.license_id.as_deref() == Some(voice_psl.id.as_str());

    if let Some(name) = &ctx.voice_permission_set {
        let named: Vec<&PermissionSet> = snapshot
            .permission_sets
            .iter()
            .filter(|set| set.is_named(name))
            .collect();
        return match named.as_slice() {
            [] => Err(RuleError::UnknownPermissionSet {
                table: CONFIG_TABLE,
                setting: "voice_permission_set",
                name: name.clone(),
            }),
            [set] if linked(set) => Ok(VoicePermissionSet::Linked {
                permission_set: set,
                configured: true,
            }),
            [set] => Ok(VoicePermissionSet::NotLinked {
                permission_set: set,
            }),
            _ => Ok(VoicePermissionSet::Ambiguous { candidates: named }),
        };
    }

    let excluded: Vec<&str> = ctx
        .amazon_permission_sets()
        .into_iter()
        .chain(ctx.partner_permission_sets())
        .collect();
    let mut candidates: Vec<&PermissionSet> = snapshot
        .permission_sets
        .iter()
        .filter(|set| {
            linked(set)
                && !set.is_owned_by_profile
                && set.permission_set_group_id.is_none()
                && !excluded.iter().any(|name| set.is_named(name))
        })
        .collect();
    candidates.sort_by_key(|set| set.qualified_name());
    Ok(match candidates.as_slice() {
        [] => VoicePermissionSet::NoneFound,
        [set] => VoicePermissionSet::Linked {
            permission_set: set,
            configured: false,
        },
        _ => VoicePermissionSet::Ambiguous { candidates },
    })
}

/// The kind of a contact center: config's `contact_centers` entry for its `Name` or
/// `InternalName` first; else Amazon when its `CustomSettings` name the `AMAZON_CONNECT` provider
/// (or the out-of-the-box `SCVOOTBTelephony` type without another provider), partner when they
/// name a `reqVendorInfoApiName`, unknown when they say neither or both.
pub fn classify_call_center(center: &CallCenter, ctx: &RuleContext) -> CallCenterKind {
    if let Some(kind) = ctx.configured_call_center_kind(&center.name, &center.internal_name) {
        return kind;
    }
    let Some(settings) = center.custom_settings.as_deref() else {
        return CallCenterKind::Unknown;
    };
    let markers = match serde_json::from_str::<Value>(settings) {
        Ok(json) => Markers::from_json(&json),
        // Not JSON (older centers keep other formats): look for the same names in the text.
        Err(_) => Markers::from_text(settings),
    };
    match (markers.amazon(), markers.vendor) {
        (true, false) => CallCenterKind::Amazon,
        (false, true) => CallCenterKind::Partner,
        _ => CallCenterKind::Unknown,
    }
}

/// What a center's settings say about its telephony.
#[derive(Debug, Default)]
struct Markers {
    /// `reqTelephonyProvider` (or a bare `AMAZON_CONNECT` in non-JSON text).
    provider: Option<String>,
    /// `reqCallCenterType` is `SCVOOTBTelephony`: Salesforce-provisioned Amazon Connect.
    out_of_the_box: bool,
    /// A non-empty `reqVendorInfoApiName`: a partner vendor.
    vendor: bool,
}

impl Markers {
    fn amazon(&self) -> bool {
        match &self.provider {
            Some(provider) => provider.eq_ignore_ascii_case("AMAZON_CONNECT"),
            None => self.out_of_the_box,
        }
    }

    fn from_json(json: &Value) -> Markers {
        let mut markers = Markers::default();
        let mut stack = vec![json];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) => {
                    for (key, value) in map {
                        let text = value.as_str().map(str::trim).filter(|t| !t.is_empty());
                        match (key.as_str(), text) {
                            ("reqTelephonyProvider", Some(text)) => {
                                markers.provider = Some(text.to_string());
                            }
                            ("reqCallCenterType", Some(text)) => {
                                markers.out_of_the_box |= text == "SCVOOTBTelephony";
                            }
                            ("reqVendorInfoApiName", Some(_)) => markers.vendor = true,
                            _ => stack.push(value),
                        }
                    }
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        markers
    }

    fn from_text(text: &str) -> Markers {
        Markers {
            provider: text
                .contains("AMAZON_CONNECT")
                .then(|| "AMAZON_CONNECT".to_string()),
            out_of_the_box: text.contains("SCVOOTBTelephony"),
            vendor: text.contains("reqVendorInfoApiName"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::{self, *};

    fn center(settings: Option<&str>) -> CallCenter {
        CallCenter {
            id: "04v000000000009AAA".into(),
            name: "Main".into(),
            internal_name: "MainCC".into(),
            adapter_url: None,
            custom_settings: settings.map(Into::into),
        }
    }

    #[test]
    fn the_seed_voice_set_is_detected() {
        let snapshot = testkit::seed();
        let found = find_voice_permission_set(&snapshot, &RuleContext::default()).expect("ok");
        let VoicePermissionSet::Linked {
            permission_set,
            configured,
        } = found
        else {
            panic!("expected the linked Voice set, got {found:?}");
        };
        assert_eq!(permission_set.id, VOICE_PS);
        assert!(!configured);
    }

    #[test]
    fn a_configured_voice_set_without_license_link_is_not_linked() {
        let mut snapshot = testkit::seed();
        testkit::set_named(&mut snapshot, "SalesforceVoicePermissionSet").license_id = None;
        let ctx = RuleContext {
            voice_permission_set: Some("SalesforceVoicePermissionSet".into()),
            ..RuleContext::default()
        };
        let found = find_voice_permission_set(&snapshot, &ctx).expect("ok");
        assert!(
            matches!(found, VoicePermissionSet::NotLinked { .. }),
            "{found:?}"
        );
    }

    #[test]
    fn a_configured_voice_set_the_org_lacks_is_an_error_naming_it() {
        let snapshot = testkit::seed();
        let ctx = RuleContext {
            voice_permission_set: Some("NoSuchSet".into()),
            ..RuleContext::default()
        };
        let error = find_voice_permission_set(&snapshot, &ctx).expect_err("unknown set");
        assert!(error.to_string().contains("`NoSuchSet`"), "{error}");
        assert!(
            error.to_string().contains("voice_permission_set"),
            "{error}"
        );
    }

    #[test]
    fn an_org_without_the_voice_license_is_an_error() {
        let mut snapshot = testkit::seed();
        snapshot.licenses.retain(|l| l.id != SCV_PSL);
        let error =
            find_voice_permission_set(&snapshot, &RuleContext::default()).expect_err("no PSL");
        assert!(matches!(error, RuleError::UnknownLicense { .. }));
        assert!(
            error.to_string().contains("ServiceCloudVoicePsl"),
            "{error}"
        );
    }

    #[test]
    fn profile_and_group_sets_are_never_taken_for_the_voice_set() {
        let mut snapshot = testkit::seed();
        let mut profile =
            testkit::permission_set("0PS000000000300GAA", "X00eProfile", Some(SCV_PSL));
        profile.is_owned_by_profile = true;
        let mut aggregate =
            testkit::permission_set("0PS000000000301GAA", "GroupAgg", Some(SCV_PSL));
        aggregate.permission_set_group_id = Some(VOICE_GROUP.into());
        snapshot.permission_sets.extend([profile, aggregate]);
        let found = find_voice_permission_set(&snapshot, &RuleContext::default()).expect("ok");
        let VoicePermissionSet::Linked { permission_set, .. } = found else {
            panic!("expected the linked Voice set, got {found:?}");
        };
        assert_eq!(permission_set.id, VOICE_PS);
    }

    #[test]
    fn amazon_connect_settings_classify_as_amazon() {
        let snapshot = testkit::seed();
        let kind = classify_call_center(&snapshot.call_centers[0], &RuleContext::default());
        assert_eq!(kind, CallCenterKind::Amazon);
        let ootb = center(Some(
            r#"{"reqGeneralInfo":{"reqCallCenterType":"SCVOOTBTelephony"}}"#,
        ));
        assert_eq!(
            classify_call_center(&ootb, &RuleContext::default()),
            CallCenterKind::Amazon
        );
    }

    #[test]
    fn vendor_info_classifies_as_partner() {
        let snapshot = testkit::seed();
        let kind = classify_call_center(&snapshot.call_centers[1], &RuleContext::default());
        assert_eq!(kind, CallCenterKind::Partner);
        let text = center(Some(
            "<reqVendorInfoApiName>Natterbox</reqVendorInfoApiName>",
        ));
        assert_eq!(
            classify_call_center(&text, &RuleContext::default()),
            CallCenterKind::Partner
        );
    }

    #[test]
    fn silent_or_contradictory_settings_are_unknown() {
        let ctx = RuleContext::default();
        assert_eq!(
            classify_call_center(&center(None), &ctx),
            CallCenterKind::Unknown
        );
        assert_eq!(
            classify_call_center(&center(Some("{}")), &ctx),
            CallCenterKind::Unknown
        );
        let both = center(Some(
            r#"{"reqTelephonyProvider":"AMAZON_CONNECT","reqVendorInfoApiName":"Vendor"}"#,
        ));
        assert_eq!(classify_call_center(&both, &ctx), CallCenterKind::Unknown);
        let other = center(Some(
            r#"{"reqCallCenterType":"SCVOOTBTelephony","reqTelephonyProvider":"OTHER"}"#,
        ));
        assert_eq!(classify_call_center(&other, &ctx), CallCenterKind::Unknown);
    }

    #[test]
    fn config_classification_by_name_wins() {
        let snapshot = testkit::seed();
        let mut ctx = RuleContext::default();
        ctx.contact_centers
            .insert("amazonconnectcc".into(), CallCenterKind::Partner);
        assert_eq!(
            classify_call_center(&snapshot.call_centers[0], &ctx),
            CallCenterKind::Partner
        );
    }
}
