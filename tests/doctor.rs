//! `pslwarden doctor` as a preflight, through the real binary against sfsim: the seed org passes
//! every check; an integration user missing each needed permission fails naming it and the fix;
//! write permissions are warnings in dry-run mode and errors with `mode = "apply"`; the JSON
//! shape; the deployable permission set lists exactly what doctor checks.

use serde_json::{Value, json};
use sfsim::Org;

use crate::apply::{cli, config_text, outcome};
use crate::support::{Sim, repo_root, scratch_dir, seed_fixture};

const CLOCK: &str = "2026-03-02T02:00:00Z";

/// The seed with `change` applied to its `Pslwarden_Integration` permission set (and profile
/// permission set, when `profile` is true).
fn seed_with(field: &str, value: Value, profile: bool) -> Org {
    let text = std::fs::read_to_string(seed_fixture()).expect("seed");
    let mut fixture: Value = serde_json::from_str(&text).expect("seed json");
    for set in fixture["PermissionSet"].as_array_mut().expect("sets") {
        let target = if profile {
            set["IsOwnedByProfile"] == json!(true)
        } else {
            set["Name"] == json!("Pslwarden_Integration")
        };
        if target {
            set[field] = value.clone();
        }
    }
    Org::from_fixture_str(&fixture.to_string(), seed_fixture().parent().expect("dir"))
        .expect("fixture loads")
}

async fn doctor(name: &str, sim: &Sim, mode: &str, args: &[&str]) -> (Option<i32>, String) {
    let dir = scratch_dir(name);
    let cfg = dir.join("pslwarden.toml");
    let text = config_text(sim, "", "").replace("mode = \"apply\"", &format!("mode = \"{mode}\""));
    std::fs::write(&cfg, text).expect("config");
    let mut all = vec!["doctor"];
    all.extend(args);
    let out = cli(&dir, &cfg, CLOCK, &all).await;
    let (code, stdout, stderr) = outcome(&out);
    (code, format!("{stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_org_passes_every_check() {
    let sim = Sim::seed().await;
    let (code, out) = doctor("doctor_seed", &sim, "apply", &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("MISSING"), "{out}");
    // The only warning: the Natterbox package (on by default) is not installed in the seed.
    assert!(
        out.lines()
            .filter(|l| l.starts_with("  warning"))
            .all(|l| l.contains("nbavs__User__c")),
        "{out}"
    );
    assert!(out.contains("ok       permission: Manage Users"), "{out}");
    assert!(out.contains("Ready:"), "{out}");
    assert!(
        out.contains("affected: scan can find seats consumed twice"),
        "{out}"
    );
    // What the README promises: six API calls besides the sign-in.
    assert_eq!(sim.sim.org.stats().api_calls, 6, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_missing_permission_fails_naming_it_and_the_fix() {
    for (field, label, metadata) in [
        (
            "PermissionsViewSetup",
            "View Setup and Configuration",
            "ViewSetup",
        ),
        (
            "PermissionsAssignPermissionSets",
            "Assign Permission Sets",
            "AssignPermissionSets",
        ),
        ("PermissionsManageUsers", "Manage Users", "ManageUsers"),
    ] {
        let sim = Sim::with(seed_with(field, json!(false), false)).await;
        let (code, out) = doctor(&format!("doctor_no_{metadata}"), &sim, "apply", &[]).await;
        assert_eq!(code, Some(1), "{field}: {out}");
        let line = out
            .lines()
            .find(|l| l.contains(&format!("permission: {label}")))
            .unwrap_or_else(|| panic!("no line for {label}: {out}"));
        assert!(line.contains("MISSING"), "{line}");
        assert!(
            out.contains(&format!("<name>{metadata}</name>")),
            "fix names the metadata: {out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_api_enabled_doctor_says_so() {
    // Permissions are a union: the profile's set alone losing it changes nothing while the
    // assigned set still grants it.
    let sim = Sim::with(seed_with("PermissionsApiEnabled", json!(false), true)).await;
    let (code, out) = doctor("doctor_no_api", &sim, "dry-run", &[]).await;
    assert_eq!(code, Some(0), "{out}");
    let text = std::fs::read_to_string(seed_fixture()).expect("seed");
    let mut fixture: Value = serde_json::from_str(&text).expect("json");
    for set in fixture["PermissionSet"].as_array_mut().expect("sets") {
        set["PermissionsApiEnabled"] = json!(false);
    }
    let org = Org::from_fixture_str(&fixture.to_string(), seed_fixture().parent().expect("dir"))
        .expect("loads");
    let sim = Sim::with(org).await;
    let (code, out) = doctor("doctor_no_api_at_all", &sim, "dry-run", &[]).await;
    assert_eq!(code, Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("permission: API Enabled"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("MISSING"), "{line}");
    assert!(out.contains("<name>ApiEnabled</name>"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_permissions_are_warnings_in_dry_run_and_errors_in_apply() {
    let sim = Sim::with(seed_with(
        "PermissionsAssignPermissionSets",
        json!(false),
        false,
    ))
    .await;
    let (code, out) = doctor("doctor_dry_run", &sim, "dry-run", &[]).await;
    assert_eq!(code, Some(0), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("permission: Assign Permission Sets"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("warning"), "{line}");
    assert!(line.contains("needed only when mode = \"apply\""), "{line}");
    // Describe follows the permission: the object is no longer deletable for this user.
    assert!(
        out.contains("warning  object: PermissionSetAssignment deletable"),
        "{out}"
    );
    let (code, out) = doctor("doctor_apply", &sim, "apply", &[]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("MISSING  permission: Assign Permission Sets"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_lists_checks_with_name_status_found_fix() {
    let sim = Sim::with(seed_with("PermissionsManageUsers", json!(false), false)).await;
    let (code, out) = doctor("doctor_json", &sim, "apply", &["--format", "json"]).await;
    assert_eq!(code, Some(1), "{out}");
    let json_text = &out[..out.rfind('}').map_or(0, |i| i + 1)];
    let doc: Value = serde_json::from_str(json_text).unwrap_or_else(|e| panic!("{e}: {out}"));
    let checks = doc["checks"].as_array().expect("checks");
    for c in checks {
        for key in ["name", "status", "found", "fix"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
    let manage = checks
        .iter()
        .find(|c| c["name"] == json!("permission: Manage Users"))
        .expect("manage users check");
    assert_eq!(manage["status"], json!("missing"));
    assert!(manage["fix"].as_str().unwrap_or("").contains("ManageUsers"));
}

#[test]
fn the_permission_set_metadata_lists_exactly_what_doctor_checks() {
    let path = repo_root().join(
        "config/salesforce/force-app/main/default/permissionsets/\
         Pslwarden_Integration.permissionset-meta.xml",
    );
    let text = std::fs::read_to_string(&path).expect("permission set file");
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not well-formed: {e}"));
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .unwrap_or_default()
            .to_string()
    };
    let mut user: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("userPermissions"))
        .filter(|n| child_text(*n, "enabled") == "true")
        .map(|n| child_text(n, "name"))
        .collect();
    user.sort();
    let mut expected: Vec<String> = pslwarden::preflight::judge::USER_PERMISSIONS
        .iter()
        .map(|p| p.metadata.to_string())
        .collect();
    expected.sort();
    assert_eq!(user, expected);
    let objects: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("objectPermissions"))
        .map(|n| (child_text(n, "object"), child_text(n, "allowRead")))
        .collect();
    let expected_objects: Vec<(String, String)> = pslwarden::preflight::judge::OBJECTS
        .iter()
        .filter(|o| o.object_permission)
        .map(|o| (o.object.to_string(), "true".to_string()))
        .collect();
    assert_eq!(objects, expected_objects);
    for flag in [
        "allowCreate",
        "allowEdit",
        "allowDelete",
        "modifyAllRecords",
        "viewAllRecords",
    ] {
        let granted = doc
            .descendants()
            .filter(|n| n.has_tag_name(flag))
            .any(|n| n.text() == Some("true"));
        assert!(!granted, "{flag} is more than doctor needs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_org_has_a_realistic_integration_user_who_passes() {
    use sfsim::generate::{GenerateOptions, generate};
    let generated = generate(&GenerateOptions {
        users: 60,
        seed: 7,
        ..Default::default()
    });
    let fixture = &generated.fixture;
    // The integration user's permissions come from its profile's set, not from "no model".
    let sets = fixture["PermissionSet"].as_array().expect("sets");
    assert!(
        sets.iter().any(|s| s["IsOwnedByProfile"] == json!(true)
            && s["PermissionsManageUsers"] == json!(true)
            && s["ProfileId"].is_string()),
        "the integration profile grants what pslwarden needs"
    );
    let org = Org::from_fixture_str(&fixture.to_string(), seed_fixture().parent().expect("dir"))
        .expect("generated fixture loads");
    let sim = Sim::with(org).await;
    let (code, out) = doctor("doctor_generated", &sim, "apply", &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("MISSING"), "{out}");
}

#[test]
fn every_metadata_file_is_well_formed_and_the_app_has_placeholders_not_secrets() {
    let root = repo_root().join("config/salesforce/force-app/main/default");
    let mut stack = vec![root];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            roxmltree::Document::parse(&text)
                .unwrap_or_else(|e| panic!("{}: not well-formed: {e}", path.display()));
            assert!(!text.contains("PRIVATE KEY"), "{}", path.display());
            assert!(!text.contains("<consumerSecret>"), "{}", path.display());
            seen += 1;
        }
    }
    assert!(
        seen >= 6,
        "the permission set and the external client app files"
    );
}

/// The seed with every permission of `Pslwarden_Integration` in `fields` set to false.
fn seed_without(fields: &[&str]) -> Org {
    let text = std::fs::read_to_string(seed_fixture()).expect("seed");
    let mut fixture: Value = serde_json::from_str(&text).expect("seed json");
    for set in fixture["PermissionSet"].as_array_mut().expect("sets") {
        if set["Name"] == json!("Pslwarden_Integration") {
            for field in fields {
                set[*field] = json!(false);
            }
        }
    }
    Org::from_fixture_str(&fixture.to_string(), seed_fixture().parent().expect("dir"))
        .expect("fixture loads")
}

#[tokio::test]
async fn sfsim_refuses_what_the_users_permissions_do_not_allow() {
    // Without View Setup (nor Assign Permission Sets / Manage Users), setup objects vanish.
    let sim = Sim::with(seed_without(&[
        "PermissionsViewSetup",
        "PermissionsAssignPermissionSets",
        "PermissionsManageUsers",
    ]))
    .await;
    let (status, body) = sim.query("SELECT Id FROM PermissionSetAssignment").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], json!("INVALID_TYPE"), "{body}");
    let (status, _) = sim
        .get("sobjects/PermissionSetLicenseAssign/describe")
        .await;
    assert_eq!(status, 404);
    let (status, body) = sim
        .query("SELECT PermissionsApiEnabled, PermissionsViewSetup FROM UserPermissionAccess")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"][0]["PermissionsApiEnabled"], json!(true));
    assert_eq!(body["records"][0]["PermissionsViewSetup"], json!(false));
    // User stays readable; VoiceCall through ObjectPermissions.
    let (status, _) = sim.query("SELECT Id FROM User").await;
    assert_eq!(status, 200);

    // Read but not delete: describe says so and a delete is refused, changing nothing.
    let sim = Sim::with(seed_without(&["PermissionsAssignPermissionSets"])).await;
    let (_, describe) = sim.get("sobjects/PermissionSetAssignment/describe").await;
    assert_eq!(describe["queryable"], json!(true));
    assert_eq!(describe["deletable"], json!(false));
    let psa = sim
        .sim
        .org
        .records("PermissionSetAssignment")
        .into_iter()
        .find(|r| r["AssigneeId"] == json!("005000000000003AAA"))
        .expect("an assignment of User Two");
    let id = psa["Id"].as_str().expect("id").to_string();
    let (status, body) = sim
        .delete(&format!("sobjects/PermissionSetAssignment/{id}"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body[0]["errorCode"],
        json!("INSUFFICIENT_ACCESS_OR_READONLY"),
        "{body}"
    );
    assert!(
        sim.sim
            .org
            .records("PermissionSetAssignment")
            .iter()
            .any(|r| r["Id"] == json!(id))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_hidden_by_field_level_security_fails_naming_it() {
    let text = std::fs::read_to_string(seed_fixture()).expect("seed");
    let mut fixture: Value = serde_json::from_str(&text).expect("seed json");
    fixture["FieldPermissions"] = json!([{
        "Id": "01k000000000001AAA", "ParentId": "0PS000000000900GAA",
        "SobjectType": "User", "Field": "User.CallCenterId",
        "PermissionsRead": false, "PermissionsEdit": false
    }]);
    let org = Org::from_fixture_str(&fixture.to_string(), seed_fixture().parent().expect("dir"))
        .expect("fixture loads");
    let sim = Sim::with(org).await;
    // The simulator hides it from describe and SOQL alike.
    let (status, body) = sim.query("SELECT Id, CallCenterId FROM User").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], json!("INVALID_FIELD"), "{body}");
    let (code, out) = doctor("doctor_fls", &sim, "dry-run", &[]).await;
    assert_eq!(code, Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("fields: User"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("MISSING"), "{line}");
    assert!(line.contains("CallCenterId"), "{line}");
    assert!(
        out.contains("Field Permissions"),
        "the fix says where: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_without_voice_is_reported_not_affected_before_the_first_scan() {
    let fixture = repo_root().join("mocks/fixtures/scan-no-voice.json");
    let sim = Sim::with(Org::from_fixture_file(&fixture).expect("fixture loads")).await;
    let (code, out) = doctor("doctor_no_voice", &sim, "dry-run", &[]).await;
    let line = out
        .lines()
        .find(|l| l.contains("Voice set-up"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("not affected"), "{line}");
    assert!(!line.contains("MISSING"), "{line}");
    assert_eq!(code, Some(0), "{out}");
}
