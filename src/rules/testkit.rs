//! Hand-built snapshots for tests of the rules, the ledger and the plan.
//!
//! Owns: [`seed`], the worked example of DOMAIN.md §1 exactly as `mocks/fixtures/seed-example.json`
//! holds it, and small builders to vary it. Test-only.

use crate::snapshot::model::{
    CallCenter, OrgSnapshot, PermissionSet, PermissionSetAssignment, PermissionSetGroup,
    PermissionSetGroupComponent, PermissionSetLicense, PermissionSetLicenseAssignment, User,
};

pub const SCV_PSL: &str = "0PL000000000001GAA";
pub const PARTNER_PSL: &str = "0PL000000000002GAA";
pub const CONSOLE_PSL: &str = "0PL000000000003GAA";

pub const CC_AGENT: &str = "0PS000000000002GAA";
pub const PARTNER_AGENT: &str = "0PS000000000005GAA";
pub const VOICE_PS: &str = "0PS000000000007GAA";

pub const USER1: &str = "005000000000002AAA";
pub const USER2: &str = "005000000000003AAA";
pub const USER3: &str = "005000000000004AAA";

/// User-2's Voice permission set assignment: what the seed's fix deletes first.
pub const USER2_VOICE_ASSIGNMENT: &str = "0Pa000000000008CAA";
/// User-2's ServiceCloudVoicePsl seat: what the seed's fix deletes last.
pub const USER2_SCV_SEAT: &str = "2LA000000000003GAA";

pub const AMAZON_CC: &str = "04v000000000001AAA";

pub const VOICE_GROUP: &str = "0PG000000000001AAA";
pub const GROUP_ASSIGNMENT: &str = "0Pa000000000100CAA";

pub fn user(id: &str, username: &str, active: bool, call_center: Option<&str>) -> User {
    User {
        id: id.into(),
        username: username.into(),
        name: username.split('@').next().unwrap_or(username).into(),
        is_active: active,
        call_center_id: call_center.map(Into::into),
        last_login_date: None,
        created_date: None,
    }
}

pub fn permission_set(id: &str, name: &str, license: Option<&str>) -> PermissionSet {
    PermissionSet {
        id: id.into(),
        name: name.into(),
        label: name.into(),
        license_id: license.map(Into::into),
        is_owned_by_profile: false,
        permission_set_group_id: None,
        namespace_prefix: None,
        is_custom: false,
    }
}

pub fn assignment(id: &str, user: &str, set: &str) -> PermissionSetAssignment {
    PermissionSetAssignment {
        id: id.into(),
        assignee_id: user.into(),
        permission_set_id: Some(set.into()),
        permission_set_group_id: None,
        is_active: true,
        expiration_date: None,
    }
}

pub fn seat(id: &str, user: &str, license: &str) -> PermissionSetLicenseAssignment {
    PermissionSetLicenseAssignment {
        id: id.into(),
        assignee_id: user.into(),
        license_id: license.into(),
    }
}

fn license(id: &str, name: &str, total: u32, used: u32) -> PermissionSetLicense {
    PermissionSetLicense {
        id: id.into(),
        developer_name: name.into(),
        label: name.into(),
        total,
        used,
        status: "Active".into(),
        expiration_date: None,
    }
}

/// The seed org: 2 Voice User seats (both used), 1 Partner seat (used). User-1 is an Amazon agent
/// with the Voice permission set; User-2 a partner agent who got the Voice permission set on
/// joining the Amazon contact center; User-3 holds no Voice set.
pub fn seed() -> OrgSnapshot {
    let mut s = OrgSnapshot::new(
        "00D5g000004SeedEAC",
        "Seed Example (simulated)",
        "2026-01-15T02:00:00Z",
        "65.0",
    );
    s.users = vec![
        user(
            "005000000000001AAA",
            "pslwarden.integration@seed-example.org",
            true,
            None,
        ),
        user(USER1, "user1@seed-example.org", true, Some(AMAZON_CC)),
        user(USER2, "user2@seed-example.org", true, Some(AMAZON_CC)),
        user(USER3, "user3@seed-example.org", true, None),
    ];
    let mut profile = permission_set("0PS000000000100GAA", "X00e5g000001StdUserProfile", None);
    profile.is_owned_by_profile = true;
    s.permission_sets = vec![
        permission_set("0PS000000000001GAA", "ContactCenterAdmin", Some(SCV_PSL)),
        permission_set(CC_AGENT, "ContactCenterAgent", Some(SCV_PSL)),
        permission_set(
            "0PS000000000003GAA",
            "ContactCenterSupervisor",
            Some(SCV_PSL),
        ),
        permission_set(
            "0PS000000000004GAA",
            "ContactCenterAdminExternalTelephony",
            Some(PARTNER_PSL),
        ),
        permission_set(
            PARTNER_AGENT,
            "ContactCenterAgentExternalTelephony",
            Some(PARTNER_PSL),
        ),
        permission_set(
            "0PS000000000006GAA",
            "ContactCenterSupervisorExternalTelephony",
            Some(PARTNER_PSL),
        ),
        permission_set(VOICE_PS, "SalesforceVoicePermissionSet", Some(SCV_PSL)),
        permission_set("0PS000000000008GAA", "Service_Console_Users", None),
        profile,
    ];
    s.licenses = vec![
        license(SCV_PSL, "ServiceCloudVoicePsl", 2, 2),
        license(PARTNER_PSL, "ServiceCloudVoiceExternalTelephonyPsl", 1, 1),
        license(CONSOLE_PSL, "SalesConsoleUser", 10, 0),
    ];
    s.permission_set_assignments = vec![
        assignment(
            "0Pa000000000001CAA",
            "005000000000001AAA",
            "0PS000000000100GAA",
        ),
        assignment("0Pa000000000002CAA", USER1, "0PS000000000100GAA"),
        assignment("0Pa000000000003CAA", USER2, "0PS000000000100GAA"),
        assignment("0Pa000000000004CAA", USER3, "0PS000000000100GAA"),
        assignment("0Pa000000000005CAA", USER1, CC_AGENT),
        assignment("0Pa000000000006CAA", USER1, VOICE_PS),
        assignment("0Pa000000000007CAA", USER2, PARTNER_AGENT),
        assignment(USER2_VOICE_ASSIGNMENT, USER2, VOICE_PS),
        assignment("0Pa000000000009CAA", USER3, "0PS000000000008GAA"),
    ];
    s.license_assignments = vec![
        seat("2LA000000000001GAA", USER1, SCV_PSL),
        seat("2LA000000000002GAA", USER2, PARTNER_PSL),
        seat(USER2_SCV_SEAT, USER2, SCV_PSL),
    ];
    s.call_centers = vec![
        CallCenter {
            id: AMAZON_CC.into(),
            name: "Amazon Connect Contact Center".into(),
            internal_name: "AmazonConnectCC".into(),
            adapter_url: Some("https://seed-example.my.connect.aws".into()),
            custom_settings: Some(
                r#"{"reqGeneralInfo": {"reqInternalName": "AmazonConnectCC", "reqCallCenterType": "SCVOOTBTelephony", "reqTelephonyProvider": "AMAZON_CONNECT"}}"#
                    .into(),
            ),
        },
        CallCenter {
            id: "04v000000000002AAA".into(),
            name: "Partner Telephony Contact Center".into(),
            internal_name: "PartnerTelephonyCC".into(),
            adapter_url: None,
            custom_settings: Some(
                r#"{"reqGeneralInfo": {"reqInternalName": "PartnerTelephonyCC", "reqVendorInfoApiName": "NatterboxVendorInfo", "reqCallCenterType": "SCVPartnerTelephony"}}"#
                    .into(),
            ),
        },
    ];
    s
}

/// Replaces `user`'s direct Voice permission set assignment by an assignment of a group that
/// contains the Voice permission set.
pub fn move_voice_into_group(s: &mut OrgSnapshot, user: &str) {
    s.permission_set_assignments
        .retain(|a| !(a.assignee_id == user && a.permission_set_id.as_deref() == Some(VOICE_PS)));
    if !s.groups.iter().any(|g| g.id == VOICE_GROUP) {
        s.groups.push(PermissionSetGroup {
            id: VOICE_GROUP.into(),
            developer_name: "VoiceAgents".into(),
            label: "Voice Agents".into(),
        });
        s.group_components.push(PermissionSetGroupComponent {
            id: "0PM000000000001AAA".into(),
            permission_set_group_id: VOICE_GROUP.into(),
            permission_set_id: VOICE_PS.into(),
        });
    }
    s.permission_set_assignments.push(PermissionSetAssignment {
        id: GROUP_ASSIGNMENT.into(),
        assignee_id: user.into(),
        permission_set_id: Some("0PS000000000200GAA".into()),
        permission_set_group_id: Some(VOICE_GROUP.into()),
        is_active: true,
        expiration_date: None,
    });
}

/// Looks a set up by name in a test snapshot, to change it.
pub fn set_named<'a>(s: &'a mut OrgSnapshot, name: &str) -> &'a mut PermissionSet {
    s.permission_sets
        .iter_mut()
        .find(|set| set.name == name)
        .expect("the test names a set of its snapshot")
}
