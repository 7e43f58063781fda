//! Unit tests of the SOQL engine against a tiny in-memory catalog and data set (a few users,
//! permission sets, assignments, licenses and voice calls). Aggregate queries are tested in the
//! child module `aggregate`.

mod aggregate;

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::{
    Catalog, DataSource, ExecContext, FieldInfo, FieldType, QueryOutput, RecordKey,
    RelationshipInfo, Selection, SoqlError, SoqlErrorCode, execute, parse, select,
};

/// A tiny org serving as both catalog and data source.
struct Mem {
    /// (object, field, type); objects and fields in canonical casing.
    fields: Vec<(&'static str, &'static str, FieldType)>,
    /// (object, relationship, id field, target object).
    relationships: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    /// (object, record) in store order.
    records: Vec<(&'static str, Map<String, Value>)>,
}

impl Catalog for Mem {
    fn object(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(o, _, _)| o.eq_ignore_ascii_case(name))
            .map(|(o, _, _)| (*o).to_string())
    }
    fn field(&self, object: &str, field: &str) -> Option<FieldInfo> {
        self.fields
            .iter()
            .find(|(o, f, _)| *o == object && f.eq_ignore_ascii_case(field))
            .map(|(_, f, ty)| FieldInfo::of_type(*f, *ty))
    }
    fn relationship(&self, object: &str, relationship: &str) -> Option<RelationshipInfo> {
        self.relationships
            .iter()
            .find(|(o, r, _, _)| *o == object && r.eq_ignore_ascii_case(relationship))
            .map(|(_, r, id, t)| RelationshipInfo {
                name: (*r).to_string(),
                id_field: (*id).to_string(),
                target: (*t).to_string(),
            })
    }
}

impl DataSource for Mem {
    fn records<'a>(
        &'a self,
        object: &str,
    ) -> Box<dyn Iterator<Item = (RecordKey, &'a Map<String, Value>)> + 'a> {
        let object = object.to_string();
        Box::new(
            self.records
                .iter()
                .enumerate()
                .filter(move |(_, (o, _))| *o == object)
                .map(|(i, (_, r))| (RecordKey(i), r)),
        )
    }
    fn by_id(&self, id: &str) -> Option<&Map<String, Value>> {
        self.records
            .iter()
            .map(|(_, r)| r)
            .find(|r| r.get("Id").and_then(Value::as_str) == Some(id))
    }
    fn by_key(&self, key: RecordKey) -> Option<&Map<String, Value>> {
        self.records.get(key.0).map(|(_, r)| r)
    }
}

fn rec(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("test records are objects"),
    }
}

const U1: &str = "005000000000001AAA";
const U2: &str = "005000000000002AAA";
const U3: &str = "005000000000003AAA";
const PSL_SCV: &str = "0PL000000000001GAA";
const PSL_EXT: &str = "0PL000000000002GAA";
const PS_AGENT: &str = "0PS000000000001GAA";
const PS_EXT_AGENT: &str = "0PS000000000002GAA";
const PS_VOICE: &str = "0PS000000000003GAA";
const PS_NOLIC: &str = "0PS000000000004GAA";

fn org() -> Mem {
    use FieldType::*;
    let fields = vec![
        ("User", "Id", Id),
        ("User", "Username", String),
        ("User", "Name", String),
        ("User", "IsActive", Boolean),
        ("User", "CallCenterId", Reference),
        ("User", "LastLoginDate", DateTime),
        ("PermissionSet", "Id", Id),
        ("PermissionSet", "Name", String),
        ("PermissionSet", "Label", String),
        ("PermissionSet", "LicenseId", Reference),
        ("PermissionSet", "IsOwnedByProfile", Boolean),
        ("PermissionSetAssignment", "Id", Id),
        ("PermissionSetAssignment", "AssigneeId", Reference),
        ("PermissionSetAssignment", "PermissionSetId", Reference),
        ("PermissionSetLicense", "Id", Id),
        ("PermissionSetLicense", "DeveloperName", String),
        ("PermissionSetLicense", "TotalLicenses", Int),
        ("PermissionSetLicense", "UsedLicenses", Int),
        ("PermissionSetLicense", "ExpirationDate", Date),
        ("PermissionSetLicenseAssign", "Id", Id),
        ("PermissionSetLicenseAssign", "AssigneeId", Reference),
        (
            "PermissionSetLicenseAssign",
            "PermissionSetLicenseId",
            Reference,
        ),
        ("VoiceCall", "Id", Id),
        ("VoiceCall", "CallType", String),
        ("VoiceCall", "CallDurationInSeconds", Double),
        ("VoiceCall", "CallStartDateTime", DateTime),
        ("VoiceCall", "UserId", Reference),
    ];
    let relationships = vec![
        ("PermissionSetAssignment", "Assignee", "AssigneeId", "User"),
        (
            "PermissionSetAssignment",
            "PermissionSet",
            "PermissionSetId",
            "PermissionSet",
        ),
        (
            "PermissionSet",
            "License",
            "LicenseId",
            "PermissionSetLicense",
        ),
        (
            "PermissionSetLicenseAssign",
            "Assignee",
            "AssigneeId",
            "User",
        ),
        (
            "PermissionSetLicenseAssign",
            "PermissionSetLicense",
            "PermissionSetLicenseId",
            "PermissionSetLicense",
        ),
        ("VoiceCall", "User", "UserId", "User"),
    ];
    let records = vec![
        (
            "User",
            rec(
                json!({"Id": U1, "Username": "user1@example.org", "Name": "User One",
            "IsActive": true, "CallCenterId": "04v000000000001AAA",
            "LastLoginDate": "2026-03-14T09:30:00.000+0000"}),
            ),
        ),
        (
            "User",
            rec(
                json!({"Id": U2, "Username": "user2@example.org", "Name": "User Two",
            "IsActive": true, "CallCenterId": null, "LastLoginDate": "2026-02-20T23:30:00Z"}),
            ),
        ),
        // No IsActive, no LastLoginDate, no CallCenterId keys: absent means null.
        (
            "User",
            rec(json!({"Id": U3, "Username": "user3@example.org", "Name": "Zed O'Brien"})),
        ),
        (
            "PermissionSetLicense",
            rec(
                json!({"Id": PSL_SCV, "DeveloperName": "ServiceCloudVoicePsl",
            "TotalLicenses": 2, "UsedLicenses": 2, "ExpirationDate": "2026-03-31"}),
            ),
        ),
        (
            "PermissionSetLicense",
            rec(json!({"Id": PSL_EXT,
            "DeveloperName": "ServiceCloudVoiceExternalTelephonyPsl",
            "TotalLicenses": 1, "UsedLicenses": 1, "ExpirationDate": "2026-02-28"})),
        ),
        (
            "PermissionSet",
            rec(json!({"Id": PS_AGENT, "Name": "ContactCenterAgent",
            "Label": "Contact Center Agent", "LicenseId": PSL_SCV, "IsOwnedByProfile": false})),
        ),
        (
            "PermissionSet",
            rec(json!({"Id": PS_EXT_AGENT,
            "Name": "ContactCenterAgentExternalTelephony", "Label": "Contact Center Agent (Partner)",
            "LicenseId": PSL_EXT, "IsOwnedByProfile": false})),
        ),
        (
            "PermissionSet",
            rec(
                json!({"Id": PS_VOICE, "Name": "SalesforceVoicePermissionSet",
            "Label": "Salesforce Voice Permission Set", "LicenseId": PSL_SCV,
            "IsOwnedByProfile": false}),
            ),
        ),
        (
            "PermissionSet",
            rec(json!({"Id": PS_NOLIC, "Name": "100%_Discount",
            "Label": "Odd name", "LicenseId": null, "IsOwnedByProfile": true})),
        ),
        (
            "PermissionSetAssignment",
            rec(json!({"Id": "0Pa000000000001AAA",
            "AssigneeId": U1, "PermissionSetId": PS_AGENT})),
        ),
        (
            "PermissionSetAssignment",
            rec(json!({"Id": "0Pa000000000002AAA",
            "AssigneeId": U1, "PermissionSetId": PS_VOICE})),
        ),
        (
            "PermissionSetAssignment",
            rec(json!({"Id": "0Pa000000000003AAA",
            "AssigneeId": U2, "PermissionSetId": PS_EXT_AGENT})),
        ),
        (
            "PermissionSetAssignment",
            rec(json!({"Id": "0Pa000000000004AAA",
            "AssigneeId": U2, "PermissionSetId": PS_VOICE})),
        ),
        // Points at a permission set that no longer exists.
        (
            "PermissionSetAssignment",
            rec(json!({"Id": "0Pa000000000005AAA",
            "AssigneeId": U3, "PermissionSetId": "0PS000000000099GAA"})),
        ),
        (
            "PermissionSetLicenseAssign",
            rec(json!({"Id": "2LA000000000001AAA",
            "AssigneeId": U1, "PermissionSetLicenseId": PSL_SCV})),
        ),
        (
            "PermissionSetLicenseAssign",
            rec(json!({"Id": "2LA000000000002AAA",
            "AssigneeId": U2, "PermissionSetLicenseId": PSL_SCV})),
        ),
        (
            "PermissionSetLicenseAssign",
            rec(json!({"Id": "2LA000000000003AAA",
            "AssigneeId": U2, "PermissionSetLicenseId": PSL_EXT})),
        ),
        (
            "VoiceCall",
            rec(json!({"Id": "0LQ000000000001AAA", "CallType": "Inbound",
            "CallDurationInSeconds": 603, "CallStartDateTime": "2026-03-15T08:00:00.000+0000",
            "UserId": U1})),
        ),
        (
            "VoiceCall",
            rec(json!({"Id": "0LQ000000000002AAA", "CallType": "Outbound",
            "CallDurationInSeconds": 300, "CallStartDateTime": "2026-03-14T23:59:59.000+0000",
            "UserId": U2})),
        ),
        (
            "VoiceCall",
            rec(json!({"Id": "0LQ000000000003AAA", "CallType": "inbound",
            "CallDurationInSeconds": 60, "CallStartDateTime": "2026-03-01T00:00:00.000+0000",
            "UserId": null})),
        ),
        (
            "VoiceCall",
            rec(json!({"Id": "0LQ000000000004AAA", "CallType": "Transfer",
            "CallStartDateTime": "2026-02-10T12:00:00.000+0000", "UserId": U1})),
        ),
    ];
    Mem {
        fields,
        relationships,
        records,
    }
}

fn ctx() -> ExecContext {
    ExecContext {
        api_version: "65.0".to_string(),
        today: NaiveDate::from_ymd_opt(2026, 3, 15).expect("valid date"),
    }
}

fn run_on(mem: &Mem, q: &str) -> Result<QueryOutput, SoqlError> {
    let query = parse(q)?;
    execute(&query, mem, mem, &ctx())
}

fn rows(q: &str) -> Vec<Value> {
    match run_on(&org(), q) {
        Ok(QueryOutput::Rows(r)) => r,
        other => panic!("expected rows for {q}, got {other:?}"),
    }
}

fn count(q: &str) -> u64 {
    match run_on(&org(), q) {
        Ok(QueryOutput::Count(n)) => n,
        other => panic!("expected a count for {q}, got {other:?}"),
    }
}

fn err(q: &str) -> SoqlError {
    match run_on(&org(), q) {
        Err(e) => e,
        Ok(out) => panic!("expected an error for {q}, got {out:?}"),
    }
}

/// The values of `field` in the returned rows, in order.
fn col(q: &str, field: &str) -> Vec<Value> {
    rows(q).iter().map(|r| r[field].clone()).collect()
}

fn names(q: &str) -> Vec<String> {
    col(q, "Name")
        .into_iter()
        .map(|v| v.as_str().unwrap_or("<null>").to_string())
        .collect()
}

fn ids(q: &str) -> Vec<String> {
    col(q, "Id")
        .into_iter()
        .map(|v| v.as_str().unwrap_or("<null>").to_string())
        .collect()
}

// ---- parsing -------------------------------------------------------------------------------

#[test]
fn parses_every_clause_and_exposes_object_and_count() {
    let q = parse(
        "SELECT Id, PermissionSet.Name FROM PermissionSetAssignment \
         WHERE (AssigneeId = '005000000000001AAA' OR NOT IsActive = false) \
         ORDER BY PermissionSet.Name DESC NULLS LAST, Id LIMIT 10 OFFSET 5",
    )
    .expect("valid query");
    assert_eq!(q.object(), "PermissionSetAssignment");
    assert!(!q.is_count());
    assert!(parse("SELECT COUNT() FROM User").expect("valid").is_count());
}

#[test]
fn keywords_and_names_are_case_insensitive_and_output_uses_catalog_casing() {
    let r = rows("select username, NAME from USER where USERNAME = 'USER1@EXAMPLE.ORG' limit 1");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["Username"], "user1@example.org");
    assert_eq!(r[0]["Name"], "User One");
    assert_eq!(r[0]["attributes"]["type"], "User");
}

#[test]
fn unexpected_token_is_positioned_like_salesforce() {
    let e = err("SELECT Id FORM User");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert_eq!(
        e.message,
        "\nSELECT Id FORM User\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    );
}

#[test]
fn a_query_cut_short_reports_eof() {
    let e = err("SELECT Id FROM");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message.ends_with("unexpected token: '<EOF>'"),
        "{}",
        e.message
    );
}

#[test]
fn trailing_garbage_after_limit_is_unexpected() {
    let e = err("SELECT Id FROM User LIMIT 5 ORDER BY Name");
    assert!(
        e.message.ends_with("unexpected token: 'ORDER'"),
        "{}",
        e.message
    );
}

#[test]
fn mixing_and_with_or_needs_parentheses() {
    let e = err("SELECT Id FROM User WHERE IsActive = true AND Name = 'a' OR Name = 'b'");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(e.message.contains("Column:58"), "{}", e.message);
    assert!(
        e.message.ends_with("unexpected token: 'OR'"),
        "{}",
        e.message
    );
}

#[test]
fn count_must_stand_alone() {
    let e = err("SELECT COUNT(), Id FROM User");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
}

#[test]
fn constructs_outside_the_subset_are_malformed_not_panics() {
    for q in [
        "SELECT Name, COUNT(Id) FROM User GROUP BY Name HAVING COUNT(Id) > 1",
        "SELECT Name, COUNT(Id) FROM User GROUP BY ROLLUP(Name)",
        "SELECT Name, COUNT(Id) FROM User GROUP BY CUBE(Name)",
        "SELECT CALENDAR_YEAR(LastLoginDate), COUNT(Id) FROM User",
        "SELECT Name FROM User GROUP BY DAY_ONLY(LastLoginDate)",
        "SELECT Name, COUNT(Id) FROM User GROUP BY Name ORDER BY COUNT(Id) DESC",
        "SELECT Id, (SELECT Id FROM PermissionSetAssignments) FROM User",
        "SELECT FIELDS(ALL) FROM User LIMIT 200",
        "SELECT TYPEOF Owner WHEN User THEN Name END FROM User",
        "SELECT Id FROM User WITH SECURITY_ENFORCED",
        "SELECT Id FROM User LIMIT 1 FOR UPDATE",
        "SELECT Id FROM User USING SCOPE Mine",
        "SELECT Id FROM User WHERE Name = :name",
        "SELECT Id FROM User WHERE Name = \"x\"",
        "SELECT Id FROM User;",
        "SELECT Id FROM User u",
        "",
        "   ",
        "SELECT",
        "SELECT Id, FROM User",
        "SELECT Id FROM User WHERE",
        "SELECT Id FROM User WHERE Name IN ()",
        "SELECT Id FROM User WHERE (Name = 'x'",
        "SELECT Id FROM User ORDER BY",
        "SELECT Id FROM User LIMIT -1",
        "SELECT Id FROM User LIMIT 99999999999999999999999",
        "SELECT Id FROM User WHERE Name NOT LIKE 'x'",
        "SELECT Id FROM User WHERE Name = 'é",
        "SELECT Id FROM User WHERE LastLoginDate > 2026-13-01",
        "SELECT Id FROM User WHERE LastLoginDate > 2026-01-01T25:00",
    ] {
        let e = err(q);
        assert_eq!(e.code, SoqlErrorCode::MalformedQuery, "{q}: {}", e.message);
        assert!(e.message.contains("ERROR at Row:"), "{q}: {}", e.message);
    }
}

#[test]
fn string_escapes_are_decoded() {
    assert_eq!(
        names("SELECT Name FROM User WHERE Name = 'zed o\\'brien'"),
        ["Zed O'Brien"]
    );
}

#[test]
fn an_illegal_escape_is_malformed_with_salesforce_wording() {
    let e = err("SELECT Id FROM User WHERE Name = 'a\\qb'");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message.ends_with(
            "Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."
        ),
        "{}",
        e.message
    );
}

#[test]
fn escaped_wildcards_are_only_legal_in_like() {
    let e = err("SELECT Id FROM PermissionSet WHERE Name = '100\\%_Discount'");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
}

#[test]
fn an_unterminated_string_is_malformed_at_its_quote() {
    let e = err("SELECT Id FROM User WHERE Name = 'abc");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message.contains("ERROR at Row:1:Column:34"),
        "{}",
        e.message
    );
}

// ---- schema errors -------------------------------------------------------------------------

#[test]
fn unknown_field_matches_salesforce_message_exactly() {
    let e = err("SELECT Id, Foo FROM User");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert_eq!(
        e.message,
        "\nSELECT Id, Foo FROM User\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on \
         entity 'User'. If you are attempting to use a custom field, be sure to append the '__c' \
         after the custom field name. Please reference your WSDL or the describe call for the \
         appropriate names."
    );
}

#[test]
fn positions_count_rows_and_columns_over_multiline_queries() {
    let e = err("SELECT Id\nFROM User\nWHERE   Nmae = 'x'");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert!(
        e.message.starts_with(
            "\nWHERE   Nmae = 'x'\n        ^\nERROR at Row:3:Column:9\nNo such column 'Nmae'"
        ),
        "{}",
        e.message
    );
}

#[test]
fn long_lines_are_quoted_as_a_window_around_the_error() {
    let q = format!(
        "SELECT Id FROM User WHERE Name IN ({}'y') AND Bogus = 1",
        "'xx', ".repeat(20)
    );
    let column = q.find("Bogus").expect("in query") + 1;
    let e = err(&q);
    let excerpt = e.message.lines().nth(1).unwrap_or_default();
    let caret = e.message.lines().nth(2).unwrap_or_default();
    assert!(excerpt.len() < q.len(), "{excerpt}");
    assert_eq!(excerpt.get(caret.len() - 1..caret.len() + 4), Some("Bogus"));
    assert!(
        e.message
            .contains(&format!("ERROR at Row:1:Column:{column}\n")),
        "{}",
        e.message
    );
}

#[test]
fn unknown_object_is_invalid_type() {
    let e = err("SELECT Id FROM Usr");
    assert_eq!(e.code, SoqlErrorCode::InvalidType);
    assert!(
        e.message.contains("ERROR at Row:1:Column:16"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("sObject type 'Usr' is not supported."),
        "{}",
        e.message
    );
}

#[test]
fn unknown_relationship_is_invalid_field() {
    let e = err("SELECT Asignee.Username FROM PermissionSetAssignment");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert!(
        e.message
            .contains("Didn't understand relationship 'Asignee' in field path."),
        "{}",
        e.message
    );
}

#[test]
fn unknown_field_on_a_parent_names_the_parent_object() {
    let e = err("SELECT Assignee.Nme FROM PermissionSetAssignment");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert!(
        e.message.contains("No such column 'Nme' on entity 'User'"),
        "{}",
        e.message
    );
}

#[test]
fn two_level_parent_paths_are_refused() {
    let e = err("SELECT PermissionSet.License.DeveloperName FROM PermissionSetAssignment");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
}

#[test]
fn invalid_field_is_reported_even_when_there_are_no_rows() {
    let mut mem = org();
    mem.records.clear();
    let e = run_on(&mem, "SELECT Id FROM User WHERE Bogus = 1").expect_err("unknown field");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    let e = run_on(&mem, "SELECT Id FROM User ORDER BY Bogus").expect_err("unknown field");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
}

#[test]
fn duplicate_fields_are_refused() {
    let e = err("SELECT Id, Name, name FROM User");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message.ends_with("duplicate field selected: name"),
        "{}",
        e.message
    );
}

#[test]
fn ordering_operators_on_booleans_are_invalid_filter_operators() {
    let e = err("SELECT Id FROM User WHERE IsActive < true");
    assert_eq!(e.code, SoqlErrorCode::InvalidQueryFilterOperator);
    assert!(
        e.message.ends_with("invalid operator on boolean field"),
        "{}",
        e.message
    );
}

#[test]
fn like_on_an_id_is_an_invalid_filter_operator() {
    let e = err("SELECT Id FROM User WHERE Id LIKE '005%'");
    assert_eq!(e.code, SoqlErrorCode::InvalidQueryFilterOperator);
    assert!(
        e.message.ends_with("invalid operator on id field"),
        "{}",
        e.message
    );
}

#[test]
fn a_malformed_id_literal_is_an_invalid_filter_operator() {
    let e = err("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = 'User One'");
    assert_eq!(e.code, SoqlErrorCode::InvalidQueryFilterOperator);
    assert!(
        e.message.ends_with("invalid ID field: User One"),
        "{}",
        e.message
    );
}

#[test]
fn a_quoted_boolean_is_an_invalid_field_value() {
    let e = err("SELECT Id FROM User WHERE IsActive = 'true'");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert!(
        e.message.ends_with(
            "value of filter criterion for field 'IsActive' must be of type boolean and should \
             not be enclosed in quotes"
        ),
        "{}",
        e.message
    );
}

#[test]
fn a_bare_number_on_a_text_field_must_be_quoted() {
    let e = err("SELECT Id FROM User WHERE Name = 5");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert!(
        e.message
            .ends_with("must be of type string and should be enclosed in quotes"),
        "{}",
        e.message
    );
}

#[test]
fn a_date_only_literal_on_a_datetime_field_is_refused_as_on_salesforce() {
    let e = err("SELECT Id FROM VoiceCall WHERE CallStartDateTime >= 2026-03-01");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    assert!(
        e.message.contains("must be of type dateTime"),
        "{}",
        e.message
    );
}

#[test]
fn offset_above_2000_is_out_of_range() {
    let e = err("SELECT Id FROM User LIMIT 10 OFFSET 2001");
    assert_eq!(e.code, SoqlErrorCode::NumberOutsideValidRange);
    assert_eq!(e.code.as_str(), "NUMBER_OUTSIDE_VALID_RANGE");
}

#[test]
fn codes_have_their_wire_spelling() {
    assert_eq!(SoqlErrorCode::MalformedQuery.as_str(), "MALFORMED_QUERY");
    assert_eq!(SoqlErrorCode::InvalidField.as_str(), "INVALID_FIELD");
    assert_eq!(SoqlErrorCode::InvalidType.as_str(), "INVALID_TYPE");
    assert_eq!(
        SoqlErrorCode::InvalidQueryFilterOperator.as_str(),
        "INVALID_QUERY_FILTER_OPERATOR"
    );
}

// ---- filter semantics ----------------------------------------------------------------------

#[test]
fn equals_null_and_not_equals_null_test_presence() {
    assert_eq!(
        ids("SELECT Id FROM User WHERE CallCenterId = null ORDER BY Id"),
        [U2, U3]
    );
    assert_eq!(ids("SELECT Id FROM User WHERE CallCenterId != null"), [U1]);
}

#[test]
fn ordering_comparisons_never_match_null_values() {
    // U3 has no LastLoginDate; it is neither before nor after anything.
    assert_eq!(
        ids("SELECT Id FROM User WHERE LastLoginDate < 2026-03-01T00:00:00Z"),
        [U2]
    );
    assert_eq!(
        ids("SELECT Id FROM User WHERE LastLoginDate >= 2026-03-01T00:00:00Z"),
        [U1]
    );
}

#[test]
fn not_equals_a_value_includes_null_values() {
    // SOQL is not three-valued: a null differs from 'x'.
    assert_eq!(
        ids("SELECT Id FROM User WHERE CallCenterId != '04v000000000001AAA' ORDER BY Id"),
        [U2, U3]
    );
}

#[test]
fn a_missing_boolean_reads_as_false() {
    assert_eq!(ids("SELECT Id FROM User WHERE IsActive = false"), [U3]);
    assert_eq!(ids("SELECT Id FROM User WHERE IsActive = null"), [U3]);
    assert_eq!(
        ids("SELECT Id FROM User WHERE IsActive != null ORDER BY Id"),
        [U1, U2]
    );
}

#[test]
fn an_empty_string_literal_matches_null() {
    assert_eq!(
        ids("SELECT Id FROM User WHERE CallCenterId = '' ORDER BY Id"),
        [U2, U3]
    );
}

#[test]
fn string_equality_ignores_case() {
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallType = 'INBOUND' ORDER BY Id"),
        ["0LQ000000000001AAA", "0LQ000000000003AAA"]
    );
}

#[test]
fn like_supports_percent_and_underscore_case_insensitively() {
    assert_eq!(
        names("SELECT Name FROM PermissionSet WHERE Name LIKE 'contactcenter%' ORDER BY Name"),
        ["ContactCenterAgent", "ContactCenterAgentExternalTelephony"]
    );
    assert_eq!(
        names("SELECT Name FROM User WHERE Name LIKE 'User T_o'"),
        ["User Two"]
    );
    assert_eq!(
        names("SELECT Name FROM User WHERE Name LIKE '%o%e%' ORDER BY Name"),
        ["User One", "Zed O'Brien"]
    );
    assert!(names("SELECT Name FROM User WHERE Name LIKE 'User'").is_empty());
}

#[test]
fn like_escapes_match_literal_wildcards() {
    assert_eq!(
        names("SELECT Name FROM PermissionSet WHERE Name LIKE '100\\%\\_%'"),
        ["100%_Discount"]
    );
    assert!(names("SELECT Name FROM PermissionSet WHERE Name LIKE 'Contact\\%'").is_empty());
}

#[test]
fn in_and_not_in_with_literal_lists() {
    assert_eq!(
        names(
            "SELECT Name FROM PermissionSet WHERE Name IN ('contactcenteragent', \
             'SalesforceVoicePermissionSet') ORDER BY Name"
        ),
        ["ContactCenterAgent", "SalesforceVoicePermissionSet"]
    );
    assert_eq!(
        names(
            "SELECT Name FROM PermissionSet WHERE Name NOT IN ('ContactCenterAgent', \
             'SalesforceVoicePermissionSet') ORDER BY Name"
        ),
        ["100%_Discount", "ContactCenterAgentExternalTelephony"]
    );
    assert_eq!(
        names(
            "SELECT Name FROM PermissionSet WHERE LicenseId IN (null, '0PL000000000002GAA') ORDER BY Name"
        ),
        ["100%_Discount", "ContactCenterAgentExternalTelephony"]
    );
}

#[test]
fn ids_match_whether_written_with_15_or_18_characters() {
    assert_eq!(
        ids("SELECT Id FROM User WHERE Id = '005000000000002'"),
        [U2]
    );
    assert_eq!(
        ids(
            "SELECT Id FROM User WHERE Id IN ('005000000000001', '005000000000003AAA') ORDER BY Id"
        ),
        [U1, U3]
    );
}

#[test]
fn id_comparison_is_case_sensitive() {
    assert!(ids("SELECT Id FROM User WHERE Id = '005000000000002aaa'").len() == 1);
    assert!(ids("SELECT Id FROM PermissionSet WHERE Id = '0ps000000000001GAA'").is_empty());
    // IN lists look ids up in a set, on the same case-sensitive 15-character form.
    assert_eq!(
        ids("SELECT Id FROM User WHERE Id IN ('005000000000002aaa', '005000000000009AAA')"),
        [U2]
    );
    assert!(
        ids("SELECT Id FROM PermissionSet WHERE Id IN ('0ps000000000001GAA', '0PS000000000009')")
            .is_empty()
    );
    // Only the assignment of a set outside the list is left (the suffix is not compared).
    assert_eq!(
        ids(
            "SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId NOT IN \
             ('0PS000000000001', '0PS000000000002GAA', '0PS000000000003gaa')"
        ),
        ["0Pa000000000005AAA"]
    );
}

#[test]
fn text_with_accents_matches_case_insensitively() {
    let mut mem = org();
    mem.records.push((
        "User",
        rec(json!({"Id": "005000000000004AAA", "Name": "Élodie Ärzte"})),
    ));
    let names = |q: &str| -> usize {
        match run_on(&mem, q) {
            Ok(QueryOutput::Rows(r)) => r.len(),
            other => panic!("expected rows for {q}, got {other:?}"),
        }
    };
    assert_eq!(names("SELECT Id FROM User WHERE Name = 'élodie ärzte'"), 1);
    assert_eq!(
        names("SELECT Id FROM User WHERE Name IN ('ÉLODIE ÄRZTE', 'Nobody')"),
        1
    );
    assert_eq!(names("SELECT Id FROM User WHERE Name LIKE '%ärz_e'"), 1);
    assert_eq!(names("SELECT Id FROM User WHERE Name LIKE 'elodie%'"), 0);
}

#[test]
fn numbers_compare_numerically() {
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallDurationInSeconds > 299.5 ORDER BY Id"),
        ["0LQ000000000001AAA", "0LQ000000000002AAA"]
    );
    assert_eq!(
        count("SELECT COUNT() FROM PermissionSetLicense WHERE UsedLicenses >= 2"),
        1
    );
}

#[test]
fn semi_join_filters_by_the_inner_query() {
    // Users holding the Voice permission set.
    assert_eq!(
        ids(
            "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment \
             WHERE PermissionSet.Name = 'SalesforceVoicePermissionSet') ORDER BY Id"
        ),
        [U1, U2]
    );
}

#[test]
fn anti_join_excludes_the_inner_query() {
    assert_eq!(
        ids(
            "SELECT Id FROM User WHERE Id NOT IN (SELECT AssigneeId FROM \
             PermissionSetLicenseAssign)"
        ),
        [U3]
    );
}

#[test]
fn semi_join_combines_with_other_conditions_and_parent_paths() {
    // Assignees of the SCV PSL who also hold the partner PSL: the double consumer.
    assert_eq!(
        col(
            "SELECT Assignee.Username FROM PermissionSetAssignment \
             WHERE PermissionSet.Name = 'SalesforceVoicePermissionSet' \
             AND AssigneeId IN (SELECT AssigneeId FROM PermissionSetLicenseAssign \
             WHERE PermissionSetLicense.DeveloperName = 'ServiceCloudVoiceExternalTelephonyPsl')",
            "Assignee"
        )
        .iter()
        .map(|a| a["Username"].clone())
        .collect::<Vec<_>>(),
        [json!("user2@example.org")]
    );
}

#[test]
fn nested_semi_joins_are_refused() {
    let e = err(
        "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE \
         PermissionSetId IN (SELECT Id FROM PermissionSet))",
    );
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message
            .ends_with("Nesting of semi join sub-selects is not supported"),
        "{}",
        e.message
    );
}

#[test]
fn more_than_two_semi_joins_are_refused_at_the_third() {
    let two = "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment) \
               AND Id NOT IN (SELECT AssigneeId FROM PermissionSetLicenseAssign)";
    assert!(run_on(&org(), two).is_ok());
    let three = format!(
        "{two} AND Id IN (SELECT AssigneeId FROM PermissionSetLicenseAssign WHERE \
         PermissionSetLicense.DeveloperName = 'ServiceCloudVoicePsl')"
    );
    let e = err(&three);
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message
            .ends_with("Maximum 2 semi join sub-selects are allowed"),
        "{}",
        e.message
    );
    let third = three.rfind("Id IN (SELECT").unwrap_or(0);
    assert!(
        e.message.contains(&format!("Column:{}", third + 1)),
        "{}",
        e.message
    );
}

#[test]
fn semi_joins_under_or_are_refused() {
    for q in [
        "SELECT Id FROM User WHERE IsActive = false OR Id IN (SELECT AssigneeId FROM \
         PermissionSetAssignment)",
        "SELECT Id FROM User WHERE IsActive = true AND (Name = 'x' OR Id NOT IN (SELECT \
         AssigneeId FROM PermissionSetAssignment))",
    ] {
        let e = err(q);
        assert_eq!(e.code, SoqlErrorCode::MalformedQuery, "{q}");
        assert!(
            e.message
                .ends_with("Semi join sub-selects are not allowed with the 'OR' operator"),
            "{}",
            e.message
        );
    }
}

#[test]
fn semi_joins_under_not_are_refused() {
    let e = err(
        "SELECT Id FROM User WHERE NOT (Id IN (SELECT AssigneeId FROM PermissionSetAssignment))",
    );
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(
        e.message.contains("only allowed at the top level"),
        "{}",
        e.message
    );
}

#[test]
fn a_semi_join_on_the_outer_object_is_refused() {
    let e = err(
        "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId IN (SELECT AssigneeId FROM \
         permissionsetassignment WHERE IsActive = true)",
    );
    assert_eq!(e.code, SoqlErrorCode::InvalidQueryFilterOperator);
    assert!(
        e.message
            .ends_with("The inner and outer selects should not be on the same object type"),
        "{}",
        e.message
    );
}

#[test]
fn order_by_limit_and_a_second_field_inside_a_semi_join_are_refused() {
    for (q, token) in [
        (
            "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment \
             ORDER BY AssigneeId)",
            "ORDER",
        ),
        (
            "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment \
             LIMIT 5)",
            "LIMIT",
        ),
        (
            "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId, Id FROM PermissionSetAssignment)",
            ",",
        ),
    ] {
        let e = err(q);
        assert_eq!(e.code, SoqlErrorCode::MalformedQuery, "{q}");
        assert!(
            e.message.ends_with(&format!("unexpected token: '{token}'")),
            "{}",
            e.message
        );
    }
}

#[test]
fn a_statement_over_100_000_characters_is_refused_unpositioned() {
    let pad = " ".repeat(100_000 - "SELECT Id FROM User".len());
    let at_limit = format!("SELECT Id FROM User{pad}");
    assert_eq!(at_limit.chars().count(), 100_000);
    assert!(run_on(&org(), &at_limit).is_ok());
    let e = err(&format!("{at_limit} "));
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
    assert!(!e.message.contains("ERROR at Row"), "{}", e.message);
    assert!(e.message.contains("100000"), "{}", e.message);
}

#[test]
fn a_where_string_over_4000_characters_is_refused_at_the_string() {
    let ok = format!("SELECT Id FROM User WHERE Name = '{}'", "a".repeat(4_000));
    assert!(run_on(&org(), &ok).is_ok());
    for q in [
        format!("SELECT Id FROM User WHERE Name = '{}'", "a".repeat(4_001)),
        format!(
            "SELECT Id FROM User WHERE Name IN ('x', '{}')",
            "a".repeat(4_001)
        ),
        format!(
            "SELECT Id FROM User WHERE Name LIKE '{}%'",
            "a".repeat(4_001)
        ),
    ] {
        let e = err(&q);
        assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
        assert!(e.message.contains("4000 characters"), "{}", e.message);
    }
}

#[test]
fn semi_join_on_a_text_field_is_refused() {
    let e =
        err("SELECT Id FROM User WHERE Name IN (SELECT AssigneeId FROM PermissionSetAssignment)");
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery);
}

#[test]
fn parent_paths_filter_in_where() {
    assert_eq!(
        ids(
            "SELECT Id FROM PermissionSetAssignment WHERE PermissionSet.LicenseId = \
             '0PL000000000001GAA' AND Assignee.Username LIKE 'user2%'"
        ),
        ["0Pa000000000004AAA"]
    );
}

#[test]
fn a_missing_parent_reads_as_null_in_where() {
    assert_eq!(
        ids("SELECT Id FROM PermissionSetAssignment WHERE PermissionSet.Name = null"),
        ["0Pa000000000005AAA"]
    );
}

#[test]
fn not_negates_a_condition() {
    assert_eq!(
        ids("SELECT Id FROM User WHERE NOT (IsActive = true AND CallCenterId != null) ORDER BY Id"),
        [U2, U3]
    );
}

// ---- dates ---------------------------------------------------------------------------------

#[test]
fn date_literals_compare_with_date_fields() {
    assert_eq!(
        col(
            "SELECT DeveloperName FROM PermissionSetLicense WHERE ExpirationDate < 2026-03-31",
            "DeveloperName"
        ),
        [json!("ServiceCloudVoiceExternalTelephonyPsl")]
    );
    assert_eq!(
        col(
            "SELECT DeveloperName FROM PermissionSetLicense WHERE ExpirationDate = THIS_MONTH",
            "DeveloperName"
        ),
        [json!("ServiceCloudVoicePsl")]
    );
    assert_eq!(
        col(
            "SELECT DeveloperName FROM PermissionSetLicense WHERE ExpirationDate = LAST_MONTH",
            "DeveloperName"
        ),
        [json!("ServiceCloudVoiceExternalTelephonyPsl")]
    );
}

#[test]
fn relative_date_literals_compare_datetimes_by_their_date() {
    // Today is 2026-03-15.
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime = TODAY"),
        ["0LQ000000000001AAA"]
    );
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime = YESTERDAY"),
        ["0LQ000000000002AAA"]
    );
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime = LAST_N_DAYS:14 ORDER BY Id"),
        [
            "0LQ000000000001AAA",
            "0LQ000000000002AAA",
            "0LQ000000000003AAA"
        ]
    );
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime < THIS_MONTH"),
        ["0LQ000000000004AAA"]
    );
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime > YESTERDAY"),
        ["0LQ000000000001AAA"]
    );
}

#[test]
fn datetime_literals_honour_their_offset() {
    // 2026-03-15T09:00:00+01:00 is 08:00Z, the start of call 1.
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime = 2026-03-15T09:00:00+01:00"),
        ["0LQ000000000001AAA"]
    );
    assert_eq!(
        ids("SELECT Id FROM VoiceCall WHERE CallStartDateTime > 2026-03-14T23:59:58.5Z"),
        ["0LQ000000000001AAA", "0LQ000000000002AAA"]
    );
}

#[test]
fn relative_date_ranges() {
    use super::ast::RelativeDate as R;
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("valid date");
    let today = d(2026, 3, 15); // a Sunday
    assert_eq!(R::LastNDays(1).range(today), (d(2026, 3, 14), today));
    assert_eq!(R::ThisMonth.range(today), (d(2026, 3, 1), d(2026, 3, 31)));
    assert_eq!(R::LastMonth.range(today), (d(2026, 2, 1), d(2026, 2, 28)));
    assert_eq!(R::ThisWeek.range(today), (d(2026, 3, 15), d(2026, 3, 21)));
    assert_eq!(
        R::LastWeek.range(d(2026, 3, 18)),
        (d(2026, 3, 8), d(2026, 3, 14))
    );
    assert_eq!(
        R::NextNDays(2).range(today),
        (d(2026, 3, 16), d(2026, 3, 17))
    );
    assert_eq!(R::ThisYear.range(today), (d(2026, 1, 1), d(2026, 12, 31)));
    assert_eq!(
        R::LastMonth.range(d(2026, 1, 10)),
        (d(2025, 12, 1), d(2025, 12, 31))
    );
}

// ---- ordering, limits, count -----------------------------------------------------------------

#[test]
fn order_by_sorts_and_limit_offset_page() {
    assert_eq!(
        names("SELECT Name FROM User ORDER BY Name DESC"),
        ["Zed O'Brien", "User Two", "User One"]
    );
    assert_eq!(
        names("SELECT Name FROM User ORDER BY Name LIMIT 2 OFFSET 1"),
        ["User Two", "Zed O'Brien"]
    );
    assert!(names("SELECT Name FROM User LIMIT 0").is_empty());
}

#[test]
fn nulls_sort_first_ascending_and_last_descending_unless_told() {
    let q = |order: &str| {
        col(
            &format!("SELECT Id FROM User ORDER BY LastLoginDate {order}"),
            "Id",
        )
    };
    assert_eq!(q("ASC"), [json!(U3), json!(U2), json!(U1)]);
    assert_eq!(q("DESC"), [json!(U1), json!(U2), json!(U3)]);
    assert_eq!(q("ASC NULLS LAST"), [json!(U2), json!(U1), json!(U3)]);
    assert_eq!(q("DESC NULLS FIRST"), [json!(U3), json!(U1), json!(U2)]);
}

#[test]
fn order_by_a_parent_path_and_several_keys() {
    assert_eq!(
        ids(
            "SELECT Id FROM PermissionSetAssignment WHERE PermissionSet.Name != null \
             ORDER BY PermissionSet.Name DESC, Assignee.Username ASC"
        ),
        [
            "0Pa000000000002AAA",
            "0Pa000000000004AAA",
            "0Pa000000000003AAA",
            "0Pa000000000001AAA"
        ]
    );
}

#[test]
fn count_applies_where_and_limit() {
    assert_eq!(count("SELECT COUNT() FROM PermissionSetAssignment"), 5);
    assert_eq!(
        count(
            "SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = '005000000000002AAA'"
        ),
        2
    );
    assert_eq!(
        count("SELECT COUNT() FROM PermissionSetAssignment LIMIT 3"),
        3
    );
}

// ---- output shape --------------------------------------------------------------------------

#[test]
fn select_keeps_query_order_and_shapes_any_slice_like_execute() {
    let mem = org();
    let query = parse(
        "SELECT Id, Assignee.Name, PermissionSet.Name FROM PermissionSetAssignment \
         ORDER BY Assignee.Name DESC, Id LIMIT 5",
    )
    .expect("parses");
    let all = match execute(&query, &mem, &mem, &ctx()) {
        Ok(QueryOutput::Rows(r)) => r,
        other => panic!("expected rows, got {other:?}"),
    };
    let Ok(Selection::Records { keys, shape }) = select(&query, &mem, &mem, &ctx()) else {
        panic!("expected records");
    };
    assert_eq!((all.len(), keys.len()), (5, 5));
    assert_eq!(shape.rows(&keys[2..], &mem), all[2..]);
    assert!(matches!(
        select(
            &parse("SELECT COUNT() FROM User").expect("parses"),
            &mem,
            &mem,
            &ctx()
        ),
        Ok(Selection::Count(3))
    ));
}

#[test]
fn rows_carry_attributes_and_selected_fields_only() {
    let r = rows("SELECT Id, Name, IsActive FROM User WHERE Id = '005000000000003AAA'");
    assert_eq!(
        r,
        [json!({
            "attributes": {"type": "User", "url": "/services/data/v65.0/sobjects/User/005000000000003AAA"},
            "Id": U3,
            "Name": "Zed O'Brien",
            "IsActive": null
        })]
    );
}

#[test]
fn parent_fields_nest_under_one_relationship_object() {
    let r = rows(
        "SELECT Id, PermissionSet.Name, Assignee.Username, PermissionSet.LicenseId \
         FROM PermissionSetAssignment WHERE Id = '0Pa000000000001AAA'",
    );
    assert_eq!(
        r,
        [json!({
            "attributes": {"type": "PermissionSetAssignment",
                "url": "/services/data/v65.0/sobjects/PermissionSetAssignment/0Pa000000000001AAA"},
            "Id": "0Pa000000000001AAA",
            "PermissionSet": {
                "attributes": {"type": "PermissionSet",
                    "url": "/services/data/v65.0/sobjects/PermissionSet/0PS000000000001GAA"},
                "Name": "ContactCenterAgent",
                "LicenseId": PSL_SCV
            },
            "Assignee": {
                "attributes": {"type": "User",
                    "url": "/services/data/v65.0/sobjects/User/005000000000001AAA"},
                "Username": "user1@example.org"
            }
        })]
    );
}

#[test]
fn an_unresolvable_parent_is_null_in_rows() {
    let r = rows(
        "SELECT PermissionSet.Name FROM PermissionSetAssignment WHERE Id = '0Pa000000000005AAA'",
    );
    assert_eq!(r[0]["PermissionSet"], Value::Null);
    let r = rows("SELECT License.DeveloperName FROM PermissionSet WHERE Name = '100%_Discount'");
    assert_eq!(r[0]["License"], Value::Null);
}

#[test]
fn like_matching_handles_backtracking() {
    use super::ast::LikeTok::{Char, Many, One};
    let p = |s: &str| -> Vec<super::ast::LikeTok> {
        s.chars()
            .map(|c| match c {
                '%' => Many,
                '_' => One,
                c => Char(c),
            })
            .collect()
    };
    assert!(super::eval::like_match("abcabd", &p("%ab_")));
    assert!(super::eval::like_match("", &p("%")));
    assert!(!super::eval::like_match("", &p("_")));
    assert!(super::eval::like_match("aXbXc", &p("a%b%c")));
    assert!(!super::eval::like_match("aXbXd", &p("a%b%c")));
}

#[test]
fn record_datetimes_parse_in_every_layout_the_store_may_hold() {
    use super::value::parse_datetime;
    let want = chrono::DateTime::parse_from_rfc3339("2026-03-14T09:30:00Z")
        .expect("valid")
        .to_utc();
    for s in [
        "2026-03-14T09:30:00Z",
        "2026-03-14T09:30:00.000Z",
        "2026-03-14T09:30:00.000+0000",
        "2026-03-14T10:30:00+01:00",
        "2026-03-14T04:30:00.000-0500",
    ] {
        assert_eq!(parse_datetime(s), Some(want), "{s}");
    }
    assert_eq!(parse_datetime("2026-03-14"), None);
    assert_eq!(parse_datetime("2026-02-30T09:30:00Z"), None);
}
