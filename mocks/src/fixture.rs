//! The fixture format (see `mocks/README.md`): one JSON object whose keys are sObject API names
//! (each an array of records with Salesforce field names and 18-character ids) plus an optional
//! `_org` section. This module parses and validates a fixture into settings, a schema (standard
//! objects plus custom objects inferred from their records) and clean records.
//!
//! Owns every fixture error message: each names the object, the record index and the field, and
//! says how to fix it. It builds no store and applies no org rules beyond consistency checks
//! (unique ids, no duplicate assignments, `_org` users that exist).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ids;
use crate::rules;
use crate::schema::{self, FieldKind, ObjectDef, Schema};
use crate::settings::{ConnectedApp, OrgSettings, VoiceAutoAssign};
use crate::values::{self, ValueError};

/// What a fixture turned into.
#[derive(Debug, Clone)]
pub struct LoadedFixture {
    /// The parsed `_org` section (defaults where absent).
    pub settings: OrgSettings,
    /// Standard objects plus the custom objects the fixture introduced.
    pub schema: Schema,
    /// `(object, record)` in fixture order; ids normalised, values validated, defaults filled.
    pub records: Vec<(String, Map<String, Value>)>,
}

/// Why a fixture was refused.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read fixture {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fixture {}: {source}", path.display())]
    InFile {
        path: PathBuf,
        source: Box<FixtureError>,
    },
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("a fixture must be one JSON object whose keys are sObject API names (and \"_org\")")]
    NotAnObject,
    #[error(
        "unknown sObject '{name}': sfsim knows the standard objects {known}; custom object names end in __c"
    )]
    UnknownObject { name: String, known: String },
    #[error("'{object}' must be an array of records, found {found}")]
    NotAnArray { object: String, found: String },
    #[error("{}", record_message(.object, *.index, .field.as_deref(), .problem, .record))]
    Record {
        /// sObject the record belongs to.
        object: String,
        /// Position of the record in its array (0-based).
        index: usize,
        /// The offending field, when one field is to blame.
        field: Option<String>,
        /// What is wrong and how to fix it.
        problem: String,
        /// The record itself (compact JSON, shortened), so the reader can find it.
        record: String,
    },
    #[error("_org.{field}: {problem}")]
    Org { field: String, problem: String },
    #[error("_org: {problem}")]
    OrgSection { problem: String },
    #[error("_org.connected_app.jwt_public_key_file {}: {source}", path.display())]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn record_message(
    object: &str,
    index: usize,
    field: Option<&str>,
    problem: &str,
    record: &str,
) -> String {
    match field {
        Some(field) => format!("{object}[{index}] field {field}: {problem}\n  record: {record}"),
        None => format!("{object}[{index}]: {problem}\n  record: {record}"),
    }
}

/// Reads and validates a fixture file; relative key paths resolve against its directory.
pub fn load_file(path: &Path) -> Result<LoadedFixture, FixtureError> {
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let base_dir = path.parent().unwrap_or_else(|| Path::new("."));
    load_str(&text, base_dir).map_err(|source| FixtureError::InFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
}

/// Validates fixture JSON; `base_dir` anchors relative paths such as `jwt_public_key_file`.
pub fn load_str(json: &str, base_dir: &Path) -> Result<LoadedFixture, FixtureError> {
    let root: Value = serde_json::from_str(json).map_err(|e| FixtureError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Object(mut root) = root else {
        return Err(FixtureError::NotAnObject);
    };
    let mut org_section = root.remove("_org");
    let mut schema = Schema::standard();

    // Shape checks and custom object discovery.
    let mut tables: Vec<(String, Vec<Map<String, Value>>)> = Vec::new();
    let mut custom_count = 0usize;
    for (name, value) in root {
        let canonical = match schema.object(&name) {
            Some(def) if def.name == "Organization" => {
                return Err(FixtureError::Org {
                    field: "organization_id".into(),
                    problem:
                        "the Organization record is synthesized from _org (organization_id, name, \
                              is_sandbox); remove the \"Organization\" key"
                            .into(),
                });
            }
            Some(def) => def.name.clone(),
            None if name.ends_with("__c") && name.len() > 3 => {
                let prefix = format!("a{:02}", custom_count);
                custom_count += 1;
                schema.add(schema::custom_object(&name, &prefix));
                name.clone()
            }
            None => {
                let known: Vec<String> = Schema::standard()
                    .objects()
                    .map(|o| o.name.clone())
                    .collect();
                return Err(FixtureError::UnknownObject {
                    name,
                    known: known.join(", "),
                });
            }
        };
        let Value::Array(items) = value else {
            return Err(FixtureError::NotAnArray {
                object: canonical,
                found: values::describe(&value),
            });
        };
        let mut records = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Value::Object(map) => records.push(map),
                other => {
                    return Err(FixtureError::Record {
                        object: canonical,
                        index,
                        field: None,
                        problem: format!(
                            "a record must be a JSON object, found {}",
                            values::describe(&other)
                        ),
                        record: short_json(&other),
                    });
                }
            }
        }
        tables.push((canonical, records));
    }

    // Ids first, so custom reference targets and cross checks can use them.
    let mut id_owner: HashMap<String, String> = HashMap::new();
    for (object, records) in &mut tables {
        for (index, record) in records.iter_mut().enumerate() {
            let err = |field: Option<&str>, problem: String, record: &Map<String, Value>| {
                FixtureError::Record {
                    object: object.clone(),
                    index,
                    field: field.map(str::to_string),
                    problem,
                    record: short_json(&Value::Object(record.clone())),
                }
            };
            let id = match record.get("Id") {
                Some(Value::String(id)) => id.clone(),
                Some(other) => {
                    return Err(err(
                        Some("Id"),
                        format!(
                            "expected an 18-character id string, found {}",
                            values::describe(other)
                        ),
                        record,
                    ));
                }
                None => {
                    return Err(err(
                        Some("Id"),
                        "every record needs an 18-character \"Id\"".into(),
                        record,
                    ));
                }
            };
            if id.len() != 18 {
                return Err(err(
                    Some("Id"),
                    format!(
                        "'{id}' has {} characters; fixture ids must be the 18-character form",
                        id.len()
                    ),
                    record,
                ));
            }
            if let Err(e) = ids::to_id18(&id) {
                return Err(err(Some("Id"), e.to_string(), record));
            }
            if let Some(first) = id_owner.get(&id) {
                return Err(err(
                    Some("Id"),
                    format!(
                        "id {id} is already used by a {first} record; ids must be unique across the fixture"
                    ),
                    record,
                ));
            }
            id_owner.insert(id, object.clone());
        }
    }

    infer_custom_fields(&mut schema, &tables, &id_owner)?;

    // `_org.voice_call_fields`: this org's names for VoiceCall fields (null: the org lacks it).
    if let Some(renames) = org_section
        .as_mut()
        .and_then(Value::as_object_mut)
        .and_then(|section| section.remove("voice_call_fields"))
    {
        let renames: BTreeMap<String, Option<String>> =
            serde_json::from_value(renames).map_err(|e| FixtureError::Org {
                field: "voice_call_fields".into(),
                problem: format!(
                    "{e}: expected {{\"<standard field>\": \"<this org's name>\" or null}}"
                ),
            })?;
        schema
            .rename_fields("VoiceCall", &renames)
            .map_err(|problem| FixtureError::Org {
                field: "voice_call_fields".into(),
                problem,
            })?;
    }

    let settings = parse_org(org_section, base_dir)?;
    let now = Utc::now();
    let mut out = Vec::new();
    for (object, records) in tables {
        let def = schema
            .object(&object)
            .cloned()
            .expect("every table's object was added to the schema above");
        for (index, record) in records.into_iter().enumerate() {
            let clean = validate_record(&def, index, &record, now)?;
            out.push((def.name.clone(), clean));
        }
    }
    out.push(("Organization".to_string(), organization_record(&settings)));

    check_duplicates(&out)?;
    check_org_references(&settings, &out)?;
    Ok(LoadedFixture {
        settings,
        schema,
        records: out,
    })
}

/// Compact JSON for error messages, shortened so one bad record cannot flood the terminal.
fn short_json(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 400 {
        let cut: String = text.chars().take(400).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn infer_custom_fields(
    schema: &mut Schema,
    tables: &[(String, Vec<Map<String, Value>>)],
    id_owner: &HashMap<String, String>,
) -> Result<(), FixtureError> {
    for (object, records) in tables {
        let Some(def) = schema.object(object).cloned() else {
            continue;
        };
        if !def.custom {
            continue;
        }
        // field → (kind, first id value seen for references); BTreeMap keeps describe order stable.
        let mut kinds: BTreeMap<String, (Option<FieldKind>, Option<String>)> = BTreeMap::new();
        for (index, record) in records.iter().enumerate() {
            for (field, value) in record {
                if field == "Id" {
                    continue;
                }
                let bad = |problem: String| FixtureError::Record {
                    object: object.clone(),
                    index,
                    field: Some(field.clone()),
                    problem,
                    record: short_json(&Value::Object(record.clone())),
                };
                if field == "attributes" {
                    return Err(bad(
                        "\"attributes\" is API output, not data; remove it".into()
                    ));
                }
                if value.is_array() || value.is_object() {
                    return Err(bad(
                        "nested objects are not stored: parent relationships are resolved from id fields".into(),
                    ));
                }
                let (kind, first_id) = kinds.entry(field.clone()).or_insert((None, None));
                let Some(seen) = values::infer_kind(field, value) else {
                    continue;
                };
                let merged = match (*kind, seen) {
                    (None, k) => k,
                    (Some(a), b) if a == b => a,
                    (
                        Some(
                            FieldKind::Reference
                            | FieldKind::Date
                            | FieldKind::DateTime
                            | FieldKind::String,
                        ),
                        FieldKind::Reference
                        | FieldKind::Date
                        | FieldKind::DateTime
                        | FieldKind::String,
                    ) => FieldKind::String,
                    (Some(a), b) => {
                        return Err(bad(format!(
                            "earlier records hold {} values in this field, this one holds {}; \
                             use one type per field",
                            a.describe_type(),
                            b.describe_type()
                        )));
                    }
                };
                *kind = Some(merged);
                if merged == FieldKind::Reference && first_id.is_none() {
                    *first_id = value.as_str().map(str::to_string);
                }
            }
        }
        let mut def = def;
        // New records get the key prefix the fixture's own records use, so ids look consistent.
        if let Some(prefix) = records
            .first()
            .and_then(|r| r.get("Id"))
            .and_then(Value::as_str)
            .and_then(|id| id.get(..3))
        {
            def.key_prefix = prefix.to_string();
        }
        for (field, (kind, first_id)) in kinds {
            let kind = kind.unwrap_or(FieldKind::String);
            let target = if kind == FieldKind::Reference {
                first_id.as_deref().and_then(|id| {
                    id_owner.get(id).cloned().or_else(|| {
                        id.get(..3)
                            .and_then(|p| schema.object_for_prefix(p))
                            .map(|o| o.name.clone())
                    })
                })
            } else {
                None
            };
            def.fields
                .push(schema::custom_field(&field, kind, target.as_deref()));
        }
        schema.add(def);
    }
    Ok(())
}

/// `User.CreatedDate` of a fixture user that does not state one (mocks/README.md).
pub const FIXTURE_USER_CREATED_DATE: &str = "2020-01-01T00:00:00.000+0000";

fn validate_record(
    def: &ObjectDef,
    index: usize,
    record: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, FixtureError> {
    let err = |field: Option<&str>, problem: String| FixtureError::Record {
        object: def.name.clone(),
        index,
        field: field.map(str::to_string),
        problem,
        record: short_json(&Value::Object(record.clone())),
    };
    let mut clean = Map::new();
    for (name, value) in record {
        if def.name == "PermissionSetLicense" && name.eq_ignore_ascii_case("UsedLicenses") {
            return Err(err(
                Some(name),
                "UsedLicenses is computed live from PermissionSetLicenseAssign records; remove it \
                 and add assignments instead"
                    .into(),
            ));
        }
        let Some(field) = def.field(name) else {
            let problem = if name == "attributes" {
                "\"attributes\" is API output, not data; remove it".to_string()
            } else if value.is_object() {
                "nested objects are not stored: parent relationships are resolved from id fields"
                    .to_string()
            } else {
                format!(
                    "{} has no field '{name}'; sfsim knows: {}",
                    def.name,
                    def.fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(err(Some(name), problem));
        };
        if field.name != *name {
            return Err(err(
                Some(name),
                format!(
                    "field names are case-sensitive in fixtures: write '{}'",
                    field.name
                ),
            ));
        }
        if value.is_null() && !field.nillable {
            return Err(err(Some(name), format!("{} cannot be null", field.name)));
        }
        let stored = values::coerce(field.kind, value).map_err(|e| {
            let hint = match &e {
                ValueError::BadId(_) if field.kind == FieldKind::Reference => {
                    format!("{e} (references hold the 15- or 18-character id of the parent record)")
                }
                _ => e.to_string(),
            };
            err(Some(name), hint)
        })?;
        clean.insert(field.name.clone(), stored);
    }
    if def.name == "User" && clean.get("CreatedDate").is_none_or(Value::is_null) {
        // A fixture's users were created long before it is loaded: a load-time CreatedDate
        // would make every one of them "created within the last N days".
        clean.insert(
            "CreatedDate".into(),
            Value::String(FIXTURE_USER_CREATED_DATE.into()),
        );
    }
    rules::apply_insert_defaults(def, &mut clean, now);
    Ok(clean)
}

fn organization_record(settings: &OrgSettings) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("Id".into(), Value::String(settings.organization_id.clone()));
    map.insert("Name".into(), Value::String(settings.name.clone()));
    map.insert("IsSandbox".into(), Value::Bool(settings.is_sandbox));
    map.insert(
        "OrganizationType".into(),
        Value::String(settings.organization_type.clone()),
    );
    map.insert(
        "InstanceName".into(),
        Value::String(settings.instance_name.clone()),
    );
    map
}

/// Two assignments of the same thing to the same user cannot exist in a real org.
fn check_duplicates(records: &[(String, Map<String, Value>)]) -> Result<(), FixtureError> {
    let mut seen: HashMap<(String, String, String), String> = HashMap::new();
    let mut index_in_object: HashMap<&str, usize> = HashMap::new();
    for (object, record) in records {
        let index = {
            let counter = index_in_object.entry(object.as_str()).or_insert(0);
            *counter += 1;
            *counter - 1
        };
        let key_field = match object.as_str() {
            "PermissionSetAssignment" => {
                if record
                    .get("PermissionSetGroupId")
                    .is_some_and(|v| !v.is_null())
                {
                    "PermissionSetGroupId"
                } else {
                    "PermissionSetId"
                }
            }
            "PermissionSetLicenseAssign" => "PermissionSetLicenseId",
            "PermissionSetGroupComponent" => "PermissionSetId",
            _ => continue,
        };
        let owner_field = if object == "PermissionSetGroupComponent" {
            "PermissionSetGroupId"
        } else {
            "AssigneeId"
        };
        let text = |f: &str| {
            record
                .get(f)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let key = (object.clone(), text(owner_field), text(key_field));
        let id = text("Id");
        if let Some(first) = seen.get(&key) {
            return Err(FixtureError::Record {
                object: object.clone(),
                index,
                field: Some(key_field.to_string()),
                problem: format!(
                    "duplicates {first}: the same {owner_field} and {key_field} cannot be assigned twice"
                ),
                record: short_json(&Value::Object(record.clone())),
            });
        }
        seen.insert(key, id);
    }
    Ok(())
}

/// `_org` names users and a permission set; a typo there would only surface as a confusing
/// sign-in or auto-assignment failure later, so check them now.
fn check_org_references(
    settings: &OrgSettings,
    records: &[(String, Map<String, Value>)],
) -> Result<(), FixtureError> {
    let usernames: HashSet<&str> = records
        .iter()
        .filter(|(o, _)| o == "User")
        .filter_map(|(_, r)| r.get("Username").and_then(Value::as_str))
        .collect();
    let must_exist = |field: &str, username: &str| {
        if usernames.contains(username) {
            Ok(())
        } else {
            Err(FixtureError::Org {
                field: field.to_string(),
                problem: format!("no User has Username '{username}'"),
            })
        }
    };
    if let Some(user) = &settings.integration_user {
        must_exist("integration_user", user)?;
    }
    if let Some(app) = &settings.connected_app {
        if let Some(user) = &app.client_credentials_user {
            must_exist("connected_app.client_credentials_user", user)?;
        }
        for user in app.refresh_tokens.values() {
            must_exist("connected_app.refresh_tokens", user)?;
        }
    }
    if settings.voice_auto_assign.enabled {
        let Some(name) = &settings.voice_auto_assign.permission_set else {
            return Err(FixtureError::Org {
                field: "voice_auto_assign.permission_set".into(),
                problem: "auto-assignment is enabled but names no permission set".into(),
            });
        };
        let exists = records.iter().any(|(o, r)| {
            o == "PermissionSet" && r.get("Name").and_then(Value::as_str) == Some(name.as_str())
        });
        if !exists {
            return Err(FixtureError::Org {
                field: "voice_auto_assign.permission_set".into(),
                problem: format!("no PermissionSet has Name '{name}'"),
            });
        }
    }
    Ok(())
}

/// The `_org` section as written in fixtures.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
/// Each key mirrors the `OrgSettings` field of the same name (documented there and in
/// `mocks/README.md`); `None` keeps the default.
struct OrgSection {
    organization_id: Option<String>,
    name: Option<String>,
    is_sandbox: Option<bool>,
    organization_type: Option<String>,
    instance_name: Option<String>,
    api_versions: Option<Vec<String>>,
    daily_api_limit: Option<u64>,
    session_timeout_seconds: Option<u64>,
    integration_user: Option<String>,
    voice_auto_assign: Option<VoiceSection>,
    auto_remove_psl_on_unassign: Option<bool>,
    seats_deleted_for_good: Option<bool>,
    connected_app: Option<AppSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct VoiceSection {
    /// Turns auto-assignment on.
    enabled: bool,
    /// `PermissionSet.Name` to assign.
    permission_set: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppSection {
    /// `client_id` / JWT `iss`.
    consumer_key: String,
    /// Secret for client_credentials and (optionally) refresh_token.
    #[serde(default)]
    client_secret: Option<String>,
    /// PEM file, relative to the fixture's directory.
    #[serde(default)]
    jwt_public_key_file: Option<PathBuf>,
    /// Inline PEM, for fixtures built in code.
    #[serde(default)]
    jwt_public_key: Option<String>,
    /// Accepted refresh tokens → username.
    #[serde(default)]
    refresh_tokens: BTreeMap<String, String>,
    /// "Run As" username of the client_credentials flow.
    #[serde(default)]
    client_credentials_user: Option<String>,
}

fn parse_org(section: Option<Value>, base_dir: &Path) -> Result<OrgSettings, FixtureError> {
    let mut settings = OrgSettings::default();
    let Some(section) = section else {
        return Ok(settings);
    };
    let section: OrgSection =
        serde_json::from_value(section).map_err(|e| FixtureError::OrgSection {
            problem: e.to_string(),
        })?;
    if let Some(id) = section.organization_id {
        let valid = id.len() == 18 && id.starts_with("00D") && ids::to_id18(&id).is_ok();
        if !valid {
            let hint = match ids::to_id18(&id) {
                Err(e) => e.to_string(),
                Ok(_) => "an org id is 18 characters and starts with 00D".to_string(),
            };
            return Err(FixtureError::Org {
                field: "organization_id".into(),
                problem: hint,
            });
        }
        settings.organization_id = id;
    }
    if let Some(name) = section.name {
        settings.name = name;
    }
    if let Some(sandbox) = section.is_sandbox {
        settings.is_sandbox = sandbox;
    }
    if let Some(t) = section.organization_type {
        settings.organization_type = t;
    }
    if let Some(i) = section.instance_name {
        settings.instance_name = i;
    }
    if let Some(versions) = section.api_versions {
        if versions.is_empty() {
            return Err(FixtureError::Org {
                field: "api_versions".into(),
                problem: "list at least one version, e.g. [\"65.0\"]".into(),
            });
        }
        for v in &versions {
            let ok = v.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            });
            if !ok {
                return Err(FixtureError::Org {
                    field: "api_versions".into(),
                    problem: format!("'{v}' is not a version like \"65.0\""),
                });
            }
        }
        settings.api_versions = versions;
    }
    if let Some(limit) = section.daily_api_limit {
        settings.daily_api_limit = limit;
    }
    if let Some(timeout) = section.session_timeout_seconds {
        if timeout == 0 {
            return Err(FixtureError::Org {
                field: "session_timeout_seconds".into(),
                problem: "must be at least 1".into(),
            });
        }
        settings.session_timeout_seconds = timeout;
    }
    settings.integration_user = section.integration_user;
    if let Some(voice) = section.voice_auto_assign {
        settings.voice_auto_assign = VoiceAutoAssign {
            enabled: voice.enabled,
            permission_set: voice.permission_set,
        };
    }
    if let Some(auto_remove) = section.auto_remove_psl_on_unassign {
        settings.auto_remove_psl_on_unassign = auto_remove;
    }
    if let Some(for_good) = section.seats_deleted_for_good {
        settings.seats_deleted_for_good = for_good;
    }
    if let Some(app) = section.connected_app {
        settings.connected_app = Some(parse_app(app, base_dir)?);
    }
    Ok(settings)
}

fn parse_app(app: AppSection, base_dir: &Path) -> Result<ConnectedApp, FixtureError> {
    if app.jwt_public_key_file.is_some() && app.jwt_public_key.is_some() {
        return Err(FixtureError::Org {
            field: "connected_app".into(),
            problem: "give jwt_public_key_file or jwt_public_key, not both".into(),
        });
    }
    let (pem, file) = match (app.jwt_public_key_file, app.jwt_public_key) {
        (Some(file), _) => {
            let path = if file.is_absolute() {
                file
            } else {
                base_dir.join(file)
            };
            let pem = std::fs::read_to_string(&path).map_err(|source| FixtureError::KeyFile {
                path: path.clone(),
                source,
            })?;
            (Some(pem), Some(path))
        }
        (None, Some(pem)) => (Some(pem), None),
        (None, None) => (None, None),
    };
    if let Some(pem) = &pem
        && jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).is_err()
    {
        let field = if file.is_some() {
            "connected_app.jwt_public_key_file"
        } else {
            "connected_app.jwt_public_key"
        };
        return Err(FixtureError::Org {
            field: field.into(),
            problem: "not an RSA public key or certificate in PEM form".into(),
        });
    }
    if app.consumer_key.trim().is_empty() {
        return Err(FixtureError::Org {
            field: "connected_app.consumer_key".into(),
            problem: "must not be empty".into(),
        });
    }
    Ok(ConnectedApp {
        consumer_key: app.consumer_key,
        client_secret: app.client_secret,
        jwt_public_key_pem: pem,
        jwt_public_key_file: file,
        refresh_tokens: app.refresh_tokens,
        client_credentials_user: app.client_credentials_user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json")
    }

    fn load(value: Value) -> Result<LoadedFixture, FixtureError> {
        load_str(&value.to_string(), Path::new("."))
    }

    fn record_error(err: FixtureError) -> (String, usize, Option<String>, String) {
        match err {
            FixtureError::Record {
                object,
                index,
                field,
                problem,
                ..
            } => (object, index, field, problem),
            other => panic!("expected a record error, got {other}"),
        }
    }

    #[test]
    fn the_seed_fixture_loads() {
        let fixture = load_file(&seed_path()).expect("seed fixture is valid");
        assert_eq!(fixture.settings.organization_id, "00D5g000004SeedEAC");
        assert!(fixture.settings.voice_auto_assign.enabled);
        let app = fixture
            .settings
            .connected_app
            .expect("seed has a connected app");
        assert!(
            app.jwt_public_key_pem
                .is_some_and(|p| p.contains("PUBLIC KEY"))
        );
        let org = fixture.records.iter().find(|(o, _)| o == "Organization");
        assert_eq!(
            org.and_then(|(_, r)| r.get("IsSandbox")),
            Some(&json!(true))
        );
    }

    #[test]
    fn bad_checksum_names_object_index_and_field() {
        let err = load(json!({"User": [
            {"Id": "005000000000001AAA", "Username": "a@x", "Name": "A"},
            {"Id": "005000000000002AAB", "Username": "b@x", "Name": "B"}
        ]}))
        .unwrap_err();
        let (object, index, field, problem) = record_error(err);
        assert_eq!(
            (object.as_str(), index, field.as_deref()),
            ("User", 1, Some("Id"))
        );
        assert!(problem.contains("005000000000002AAA"), "{problem}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let err = load(json!({
            "User": [{"Id": "005000000000001AAA", "Username": "a@x"}],
            "CallCenter": [{"Id": "005000000000001AAA", "Name": "x"}]
        }))
        .unwrap_err();
        let (_, _, field, problem) = record_error(err);
        assert_eq!(field.as_deref(), Some("Id"));
        assert!(problem.contains("already used"), "{problem}");
    }

    #[test]
    fn used_licenses_is_refused_with_a_reason() {
        let err = load(json!({"PermissionSetLicense": [
            {"Id": "0PL000000000001GAA", "DeveloperName": "X", "TotalLicenses": 1, "UsedLicenses": 1}
        ]}))
        .unwrap_err();
        let (object, _, field, problem) = record_error(err);
        assert_eq!(
            (object.as_str(), field.as_deref()),
            ("PermissionSetLicense", Some("UsedLicenses"))
        );
        assert!(problem.contains("computed live"));
    }

    #[test]
    fn unknown_standard_fields_are_refused() {
        let err =
            load(json!({"User": [{"Id": "005000000000001AAA", "Username": "a@x", "Shoe": 42}]}))
                .unwrap_err();
        let (_, _, field, problem) = record_error(err);
        assert_eq!(field.as_deref(), Some("Shoe"));
        assert!(problem.contains("User has no field 'Shoe'"));
    }

    #[test]
    fn unknown_objects_that_are_not_custom_are_refused() {
        let err = load(json!({"Acount": []})).unwrap_err();
        assert!(matches!(err, FixtureError::UnknownObject { name, .. } if name == "Acount"));
    }

    #[test]
    fn custom_objects_get_fields_inferred_from_records() {
        let fixture = load(json!({
            "User": [{"Id": "005000000000001AAA", "Username": "a@x"}],
            "nbavs__User__c": [
                {"Id": "a00000000000001AAA", "nbavs__User__c": "005000000000001AAA", "nbavs__CTI__c": true, "Name": "n"},
                {"Id": "a00000000000002AAA", "nbavs__User__c": null, "nbavs__CTI__c": false}
            ]
        }))
        .expect("valid custom object");
        let def = fixture
            .schema
            .object("nbavs__user__c")
            .expect("custom object registered");
        let user_field = def.field("nbavs__User__c").expect("inferred");
        assert_eq!(user_field.kind, FieldKind::Reference);
        assert_eq!(user_field.reference_to, vec!["User".to_string()]);
        assert_eq!(
            def.field("nbavs__CTI__c").map(|f| f.kind),
            Some(FieldKind::Boolean)
        );
    }

    #[test]
    fn mixed_types_in_a_custom_field_are_refused() {
        let err = load(json!({"X__c": [
            {"Id": "a00000000000001AAA", "Flag__c": true},
            {"Id": "a00000000000002AAA", "Flag__c": 3}
        ]}))
        .unwrap_err();
        let (_, index, field, _) = record_error(err);
        assert_eq!((index, field.as_deref()), (1, Some("Flag__c")));
    }

    #[test]
    fn duplicate_assignments_are_refused() {
        let err = load(json!({
            "PermissionSetLicenseAssign": [
                {"Id": "2LA000000000001GAA", "AssigneeId": "005000000000002AAA", "PermissionSetLicenseId": "0PL000000000001GAA"},
                {"Id": "2LA000000000002GAA", "AssigneeId": "005000000000002AAA", "PermissionSetLicenseId": "0PL000000000001GAA"}
            ]
        }))
        .unwrap_err();
        let (_, index, _, problem) = record_error(err);
        assert_eq!(index, 1);
        assert!(problem.contains("2LA000000000001GAA"));
    }

    #[test]
    fn org_users_must_exist() {
        let err = load(json!({"_org": {"integration_user": "ghost@x"}, "User": []})).unwrap_err();
        assert!(matches!(err, FixtureError::Org { field, .. } if field == "integration_user"));
    }

    #[test]
    fn unknown_org_keys_are_refused() {
        let err = load(json!({"_org": {"daily_api_limt": 5}})).unwrap_err();
        assert!(err.to_string().contains("daily_api_limt"), "{err}");
    }

    #[test]
    fn missing_key_file_names_the_resolved_path() {
        let err = load(json!({"_org": {"connected_app": {"consumer_key": "k", "jwt_public_key_file": "nope.pem"}}}))
            .unwrap_err();
        assert!(matches!(err, FixtureError::KeyFile { path, .. } if path.ends_with("nope.pem")));
    }

    #[test]
    fn users_get_an_old_created_date_unless_given_and_keep_their_last_login() {
        let loaded = load(json!({"User": [
            {"Id": "005000000000001AAA", "Username": "old@x", "LastName": "Old"},
            {"Id": "005000000000002AAA", "Username": "new@x", "LastName": "New",
             "CreatedDate": "2026-06-20T09:00:00Z", "LastLoginDate": "2026-06-29T08:15:00Z"}
        ]}))
        .expect("loads");
        let users: Vec<&Map<String, Value>> = loaded
            .records
            .iter()
            .filter(|(object, _)| object == "User")
            .map(|(_, fields)| fields)
            .collect();
        assert_eq!(users[0]["CreatedDate"], FIXTURE_USER_CREATED_DATE);
        assert!(users[0].get("LastLoginDate").is_none_or(Value::is_null));
        assert_eq!(users[1]["CreatedDate"], "2026-06-20T09:00:00.000+0000");
        assert_eq!(users[1]["LastLoginDate"], "2026-06-29T08:15:00.000+0000");
    }

    #[test]
    fn a_bad_last_login_date_names_the_field() {
        let err = load(json!({"User": [
            {"Id": "005000000000001AAA", "Username": "a@x", "LastLoginDate": "yesterday"}
        ]}))
        .unwrap_err();
        let (_, _, field, _) = record_error(err);
        assert_eq!(field.as_deref(), Some("LastLoginDate"));
    }
}
