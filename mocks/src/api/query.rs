//! `GET /query?q=` and `GET /query/<locator>-<offset>`: runs SOQL through the engine and pages
//! the rows like Salesforce (2000 a page unless `Sforce-Query-Options: batchSize=N`, clamped to
//! 200..2000; `INVALID_QUERY_LOCATOR` for unknown, expired or released cursors). The org's
//! [`Paging`] can make locators opaque (only handed-out `nextRecordsUrl`s work) and pages
//! sometimes short.
//!
//! The query keeps the matched records' keys in a cursor and shapes only the page it returns;
//! each later page shapes its own records when fetched. The record set is a snapshot taken at
//! query time: records inserted later never appear, and a record deleted later still comes back
//! (from its tombstone, with its last values) as Salesforce's cursors do. Field values are read
//! when the page is fetched. A record whose insert was rolled back after the query is skipped, so
//! such a page is short; `totalSize` stays what the query counted.
//!
//! Owns paging only; parsing and evaluation belong to `crate::soql`.

use chrono::Utc;
use serde_json::{Map, Value};

use super::{ApiRequest, Body, Caller, SimResponse};
use crate::faults::SplitMix64;
use crate::org::OrgState;
use crate::permissions::{Access, Effective};
use crate::settings::Paging;
use crate::soql::RecordKey;
use crate::soql::{self, ExecContext, Selection};
use crate::store::Store;
use crate::wire::{ApiError, QueryPage};

/// The store plus the one `UserPermissionAccess` row of the requesting user, which Salesforce
/// computes per session rather than storing.
struct WithUserPermissionAccess<'a> {
    store: &'a Store,
    row: Map<String, Value>,
}

/// The schema as the requesting user sees it: fields hidden by field-level security do not
/// exist for them (`INVALID_FIELD`), as in Salesforce.
struct VisibleFields<'a> {
    schema: &'a crate::schema::Schema,
    access: &'a Effective,
}

impl soql::Catalog for VisibleFields<'_> {
    fn object(&self, name: &str) -> Option<String> {
        soql::Catalog::object(self.schema, name)
    }

    fn field(&self, object: &str, field: &str) -> Option<soql::FieldInfo> {
        let info = soql::Catalog::field(self.schema, object, field)?;
        self.access
            .can_read_field(object, &info.name)
            .then_some(info)
    }

    fn relationship(&self, object: &str, relationship: &str) -> Option<soql::RelationshipInfo> {
        soql::Catalog::relationship(self.schema, object, relationship)
    }
}

/// The key of the `UserPermissionAccess` row: no store slot reaches it.
const USER_PERMISSION_ACCESS_KEY: RecordKey = RecordKey(usize::MAX);

impl soql::DataSource for WithUserPermissionAccess<'_> {
    fn records<'b>(
        &'b self,
        object: &str,
    ) -> Box<dyn Iterator<Item = (RecordKey, &'b soql::Record)> + 'b> {
        if object == "UserPermissionAccess" {
            return Box::new(std::iter::once((USER_PERMISSION_ACCESS_KEY, &self.row)));
        }
        self.store.records(object)
    }

    fn by_id(&self, id: &str) -> Option<&soql::Record> {
        self.store.by_id(id)
    }

    fn by_key(&self, key: RecordKey) -> Option<&soql::Record> {
        if key == USER_PERMISSION_ACCESS_KEY {
            return Some(&self.row);
        }
        self.store.by_key(key)
    }

    fn records_with<'b>(
        &'b self,
        object: &str,
        field: &str,
        ids: &std::collections::HashSet<&str>,
    ) -> Option<Vec<(RecordKey, &'b soql::Record)>> {
        self.store.records_with(object, field, ids)
    }
}

const MIN_BATCH: usize = 200;
const MAX_BATCH: usize = 2000;

/// The `batchSize` of a `Sforce-Query-Options` header, clamped like Salesforce.
fn batch_size(req: &ApiRequest) -> Option<usize> {
    let header = req.header("sforce-query-options")?;
    header
        .split([',', ';'])
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .map(|n| n.clamp(MIN_BATCH, MAX_BATCH))
}

fn next_url(version: &str, locator: &str, offset: usize) -> String {
    format!("/services/data/v{version}/query/{locator}-{offset}")
}

/// A 200 answer carrying one page. The rows are moved into the body after the rest of the page
/// is encoded: encoding them through `QueryPage` would deep-copy up to 2 000 rows per page.
fn page(total: usize, next_records_url: Option<String>, records: Vec<Value>) -> SimResponse {
    let mut response = SimResponse::of(
        200,
        &QueryPage {
            total_size: u64::try_from(total).unwrap_or(u64::MAX),
            done: next_records_url.is_none(),
            next_records_url,
            records: Vec::new(),
        },
    );
    if let Body::Json(Value::Object(fields)) = &mut response.body {
        // `records` keeps its place among the keys: the map preserves insertion order.
        fields.insert("records".into(), Value::Array(records));
    }
    response
}

pub(super) fn query(
    state: &mut OrgState,
    req: &ApiRequest,
    caller: &Caller,
    version: &str,
) -> SimResponse {
    let Some(text) = req.query_param("q").filter(|q| !q.trim().is_empty()) else {
        return SimResponse::error(
            400,
            "MALFORMED_QUERY",
            "SOQL statement cannot be empty: pass it as ?q=",
        );
    };
    let ctx = ExecContext {
        api_version: version.to_string(),
        today: Utc::now().date_naive(),
    };
    let access = state.acting.clone().unwrap_or_else(Effective::unrestricted);
    let selection = soql::parse(text).and_then(|q| {
        // An object the user may not read does not exist for them, as in Salesforce.
        let object = state
            .schema
            .object(q.object())
            .map(|d| d.name.clone())
            .unwrap_or_default();
        if !object.is_empty() && !access.can(&object, Access::Read) {
            return Err(soql::SoqlError::plain(
                soql::SoqlErrorCode::InvalidType,
                format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom \
                     object, be sure to append the '__c' after the entity name. Please reference \
                     your WSDL or the describe call for the appropriate names.",
                    q.object()
                ),
            ));
        }
        let data = WithUserPermissionAccess {
            store: &state.store,
            row: access.user_permission_access(),
        };
        let catalog = VisibleFields {
            schema: &state.schema,
            access: &access,
        };
        soql::select(&q, &catalog, &data, &ctx)
    });
    let (keys, shape) = match selection {
        Err(e) => {
            return SimResponse::errors(400, vec![ApiError::new(e.code.as_str(), e.message)]);
        }
        Ok(Selection::Count(n)) => {
            return SimResponse::of(
                200,
                &QueryPage {
                    total_size: n,
                    done: true,
                    next_records_url: None,
                    records: Vec::new(),
                },
            );
        }
        Ok(Selection::Records { keys, shape }) => (keys, shape),
        Ok(Selection::Aggregate(rows)) => {
            return aggregate_page(rows, batch_size(req).unwrap_or(state.paging.default_batch));
        }
    };
    let batch = batch_size(req).unwrap_or(state.paging.default_batch);
    let total = keys.len();
    if total <= batch {
        let data = WithUserPermissionAccess {
            store: &state.store,
            row: access.user_permission_access(),
        };
        return page(total, None, shape.rows(&keys, &data));
    }
    let paging = state.paging.clone();
    let locator = state.open_cursor(&caller.user_id, keys, shape, batch);
    let Some(cursor) = state.cursor(&locator) else {
        return SimResponse::error(500, "UNKNOWN_EXCEPTION", "the new cursor vanished");
    };
    // `total > batch >= page_len`, so there is always a next page here.
    let end = page_len(&paging, cursor.seq, 0, batch);
    cursor.issued.insert(end);
    let (keys, shape) = (cursor.keys.clone(), cursor.shape.clone());
    let first = shape.rows(&keys[..end], &state.store);
    page(total, Some(next_url(version, &locator, end)), first)
}

/// An aggregate query's answer: its rows in one page, or, when they do not fit one batch,
/// the refusal Salesforce gives: aggregate queries have no query locator (SOQL and SOSL
/// Reference, "Considerations for GROUP BY": no `queryMore()` in SOAP, no locator in REST; the
/// batch can be raised to 2 000 and larger results must be filtered into smaller chunks). The
/// code and message are those orgs answer (`EXCEEDED_ID_LIMIT`); whether the REST API measures
/// "a single batch" by the `batchSize` asked for or only by its 2 000 maximum is not documented,
/// so sfsim takes the strict reading: the batch in force for the request.
fn aggregate_page(rows: Vec<Value>, batch: usize) -> SimResponse {
    if rows.len() > batch {
        return SimResponse::error(
            400,
            "EXCEEDED_ID_LIMIT",
            "Aggregate query does not support queryMore(), use LIMIT to restrict the results to \
             a single batch",
        );
    }
    page(rows.len(), None, rows)
}

/// Rows in the page at `offset` of cursor `seq`: the batch size, or with short pages on,
/// sometimes fewer (a third of the pages, between a quarter of the batch and one row less than
/// it), the same every time the same page is asked for.
fn page_len(paging: &Paging, seq: u64, offset: usize, batch: usize) -> usize {
    let Some(seed) = paging.short_pages else {
        return batch;
    };
    let mut rng = SplitMix64::new(
        seed ^ seq.rotate_left(32) ^ (offset as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    if !rng.next_u64().is_multiple_of(3) || batch < 8 {
        return batch;
    }
    let shortest = batch / 4;
    shortest + (rng.next_u64() % (batch - shortest) as u64) as usize
}

pub(super) fn query_more(
    state: &mut OrgState,
    req: &ApiRequest,
    version: &str,
    raw: &str,
) -> SimResponse {
    let invalid = || SimResponse::error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    let Some((locator, offset)) = raw.rsplit_once('-') else {
        return invalid();
    };
    let Ok(offset) = offset.parse::<usize>() else {
        return invalid();
    };
    let paging = state.paging.clone();
    let Some(cursor) = state.cursor(locator) else {
        return invalid();
    };
    let total = cursor.keys.len();
    if offset >= total || (paging.opaque_locators && !cursor.issued.contains(&offset)) {
        return invalid();
    }
    let batch = batch_size(req).unwrap_or(cursor.batch_size);
    let end = (offset + page_len(&paging, cursor.seq, offset, batch)).min(total);
    let next = (end < total).then(|| {
        cursor.issued.insert(end);
        next_url(version, locator, end)
    });
    let (keys, shape) = (cursor.keys.clone(), cursor.shape.clone());
    state.pages_fetched += 1;
    if paging.release_cursor_at == Some(state.pages_fetched) {
        // As if the user had opened ten more cursors since: this one is gone.
        state.cursors.remove(locator);
    }
    page(total, next, shape.rows(&keys[offset..end], &state.store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Org;
    use axum::http::Method;
    use serde_json::json;
    use std::path::Path;

    /// The seed org plus `n` voice calls, stored in id order.
    fn org_with_calls(n: usize) -> Org {
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json");
        let org = Org::from_fixture_file(&seed).expect("the seed fixture loads");
        {
            let mut state = org.lock();
            for _ in 0..n {
                let id = state.store.new_id("0LQ");
                let fields = json!({"Id": id, "CallType": "Inbound"});
                if let Value::Object(fields) = fields {
                    state.store.insert("VoiceCall", fields);
                }
            }
            state.store.commit();
        }
        org
    }

    fn get(path: &str, q: Option<&str>) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            path: path.to_string(),
            query: q
                .map(|q| ("q".to_string(), q.to_string()))
                .into_iter()
                .collect(),
            headers: [(
                "sforce-query-options".to_string(),
                "batchSize=200".to_string(),
            )]
            .into(),
            body: Vec::new(),
        }
    }

    fn json_of(response: SimResponse) -> Value {
        assert_eq!(response.status, 200, "{:?}", response.body);
        match response.body {
            Body::Json(v) => v,
            Body::Empty => Value::Null,
        }
    }

    fn ids_of(page: &Value) -> Vec<String> {
        page["records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["Id"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn later_pages_hold_the_records_matched_when_the_query_ran() {
        let org = org_with_calls(450);
        let mut state = org.lock();
        let caller = Caller {
            user_id: "005000000000001AAA".to_string(),
            in_composite: false,
        };
        let all: Vec<String> = state
            .store
            .live_rows("VoiceCall")
            .filter_map(|r| r.fields.get("Id")?.as_str().map(str::to_string))
            .collect();
        let first = json_of(query(
            &mut state,
            &get(
                "/services/data/v65.0/query",
                Some("SELECT Id FROM VoiceCall"),
            ),
            &caller,
            "65.0",
        ));
        assert_eq!(first["totalSize"], 450);
        let mut seen = ids_of(&first);
        assert_eq!(seen, all[..200]);

        // After the query: one record of the next page is deleted, another record is added.
        let deleted = all[300].clone();
        state.store.delete(&deleted);
        let added = state.store.new_id("0LQ");
        if let Value::Object(fields) = json!({"Id": added, "CallType": "Outbound"}) {
            state.store.insert("VoiceCall", fields);
        }
        state.store.commit();

        let mut next = first["nextRecordsUrl"].as_str().map(str::to_string);
        while let Some(url) = next {
            let raw = url.rsplit('/').next().unwrap_or_default().to_string();
            let page = json_of(query_more(&mut state, &get(&url, None), "65.0", &raw));
            assert_eq!(page["totalSize"], 450);
            seen.extend(ids_of(&page));
            next = page["nextRecordsUrl"].as_str().map(str::to_string);
        }
        assert_eq!(seen, all);
        assert!(seen.contains(&deleted));
        assert!(!seen.contains(&added));
    }

    #[test]
    fn a_page_past_the_end_is_an_invalid_locator() {
        let org = org_with_calls(450);
        let mut state = org.lock();
        let caller = Caller {
            user_id: "005000000000001AAA".to_string(),
            in_composite: false,
        };
        let first = json_of(query(
            &mut state,
            &get(
                "/services/data/v65.0/query",
                Some("SELECT Id FROM VoiceCall"),
            ),
            &caller,
            "65.0",
        ));
        let url = first["nextRecordsUrl"].as_str().unwrap_or_default();
        let locator = url.rsplit('/').next().unwrap_or_default();
        let (id, _) = locator.rsplit_once('-').unwrap_or_default();
        let response = query_more(&mut state, &get(url, None), "65.0", &format!("{id}-450"));
        assert_eq!(response.status, 400);
    }

    fn aggregate_over_calls(header: &str) -> SimResponse {
        let org = org_with_calls(450);
        let mut state = org.lock();
        let caller = Caller {
            user_id: "005000000000001AAA".to_string(),
            in_composite: false,
        };
        let mut req = get(
            "/services/data/v65.0/query",
            Some("SELECT Id, COUNT(CallType) FROM VoiceCall GROUP BY Id"),
        );
        req.headers = [("sforce-query-options".to_string(), header.to_string())].into();
        query(&mut state, &req, &caller, "65.0")
    }

    #[test]
    fn an_aggregate_larger_than_the_batch_is_refused_for_it_has_no_locator() {
        let response = aggregate_over_calls("batchSize=200");
        assert_eq!(response.status, 400);
        let Body::Json(body) = &response.body else {
            panic!("an error body")
        };
        assert_eq!(body[0]["errorCode"], "EXCEEDED_ID_LIMIT");
        assert_eq!(
            body[0]["message"],
            "Aggregate query does not support queryMore(), use LIMIT to restrict the results \
             to a single batch"
        );
    }

    #[test]
    fn an_aggregate_within_the_batch_is_one_done_page_of_aggregate_results() {
        let page = json_of(aggregate_over_calls("batchSize=2000"));
        assert_eq!(page["totalSize"], 450);
        assert_eq!(page["done"], true);
        assert!(page.get("nextRecordsUrl").is_none_or(Value::is_null));
        let records = page["records"].as_array().cloned().unwrap_or_default();
        assert_eq!(records.len(), 450);
        assert_eq!(records[0]["attributes"], json!({"type": "AggregateResult"}));
        assert_eq!(records[0]["expr0"], 1);
    }

    /// The rows of `soql` run as the integration user of `org`, asking for 2 000-row batches.
    fn run(org: &Org, soql: &str) -> Vec<Value> {
        let mut state = org.lock();
        let caller = Caller {
            user_id: "005000000000001AAA".to_string(),
            in_composite: false,
        };
        let mut req = get("/services/data/v65.0/query", Some(soql));
        req.headers = [(
            "sforce-query-options".to_string(),
            "batchSize=2000".to_string(),
        )]
        .into();
        json_of(query(&mut state, &req, &caller, "65.0"))["records"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `mocks/fixtures/scan-idle-voice.json` plants what mocks/README.md's table says, as the
    /// idle rule's own queries read it on the as-of day 2026-06-30 (period from 2026-05-01).
    #[test]
    fn the_idle_voice_fixture_plants_the_table_of_the_readme() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scan-idle-voice.json");
        let org = Org::from_fixture_file(&path).expect("the idle-voice fixture loads");
        let user = |n: u32| format!("005{n:012}");
        let id18 = |n: u32| {
            let id15 = user(n);
            crate::ids::to_id18(&id15).unwrap_or(id15)
        };
        let agents: Vec<String> = (2..=10).map(id18).collect();
        let in_list = agents
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(",");
        let in_period = run(
            &org,
            &format!(
                "SELECT UserId, MAX(CallStartDateTime) lastCall FROM VoiceCall \
                 WHERE UserId IN ({in_list}) AND CallStartDateTime >= 2026-05-01T23:00:00Z \
                 GROUP BY UserId"
            ),
        );
        let with_calls: Vec<&str> = in_period
            .iter()
            .filter_map(|r| r["UserId"].as_str())
            .collect();
        assert_eq!(
            with_calls,
            [id18(2).as_str()],
            "only agent.active took calls"
        );

        let ever = run(
            &org,
            &format!(
                "SELECT UserId, CallType, MAX(CallStartDateTime) lastCall FROM VoiceCall \
                 WHERE UserId IN ({in_list}) GROUP BY UserId, CallType ORDER BY UserId"
            ),
        );
        let last_of = |n: u32| -> Vec<(String, String)> {
            ever.iter()
                .filter(|r| r["UserId"] == id18(n).as_str())
                .map(|r| {
                    (
                        r["CallType"].as_str().unwrap_or_default().to_string(),
                        r["lastCall"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        };
        assert_eq!(
            last_of(3),
            [
                (
                    "Outbound".to_string(),
                    "2026-03-02T11:00:00.000+0000".to_string()
                ),
                (
                    "Inbound".to_string(),
                    "2026-04-10T14:30:00.000+0000".to_string()
                ),
            ]
        );
        for never_called in [4, 5, 6, 7, 8, 9] {
            assert!(last_of(never_called).is_empty(), "user {never_called}");
        }

        let users = run(
            &org,
            "SELECT Username, IsActive, LastLoginDate, CreatedDate FROM User ORDER BY Username",
        );
        let by_name = |name: &str| {
            users
                .iter()
                .find(|u| u["Username"] == name)
                .cloned()
                .unwrap_or_default()
        };
        let new = by_name("agent.new@idle-voice.example.org");
        assert_eq!(new["CreatedDate"], "2026-06-20T09:00:00.000+0000");
        let recent = by_name("agent.recentlogin@idle-voice.example.org");
        assert_eq!(recent["LastLoginDate"], "2026-06-29T08:00:00.000+0000");
        assert_eq!(
            recent["CreatedDate"],
            crate::fixture::FIXTURE_USER_CREATED_DATE
        );
        let gone = by_name("agent.deactivated@idle-voice.example.org");
        assert_eq!(gone["IsActive"], false);

        // Seats: seven Voice seats, two partner ones; the exceptions' sets and group exist.
        assert_eq!(org.used_licenses("ServiceCloudVoicePsl"), Some(7));
        assert_eq!(
            org.used_licenses("ServiceCloudVoiceExternalTelephonyPsl"),
            Some(2)
        );
        let supervisors = run(
            &org,
            "SELECT Assignee.Username FROM PermissionSetAssignment \
             WHERE PermissionSet.Name = 'Contact_Center_Supervisor'",
        );
        assert_eq!(supervisors.len(), 1);
        assert_eq!(
            supervisors[0]["Assignee"]["Username"],
            "supervisor.direct@idle-voice.example.org"
        );
        let grouped = run(
            &org,
            "SELECT Assignee.Username FROM PermissionSetAssignment \
             WHERE PermissionSetGroup.DeveloperName = 'Voice_Supervisors'",
        );
        assert_eq!(
            grouped[0]["Assignee"]["Username"],
            "supervisor.group@idle-voice.example.org"
        );
    }

    /// A benchmark, not a test (it asserts nothing about time): the idle rule's aggregate over a
    /// million calls of 100 000 users with an `IN` list of 2 000. Run it with
    /// `cargo test --release -p sfsim -- --ignored --nocapture a_million_calls`.
    #[test]
    #[ignore = "a benchmark: run with --release --ignored --nocapture"]
    fn a_million_calls_aggregate_by_user() {
        let user = |n: usize| {
            let id15 = format!("005{n:012}");
            crate::ids::to_id18(&id15).unwrap_or(id15)
        };
        let started = std::time::Instant::now();
        let mut records = Vec::with_capacity(1_000_000);
        for i in 0..1_000_000usize {
            let day = 1 + (i * 7919) % 120;
            let start = format!(
                "2026-{:02}-{:02}T10:00:00.000+0000",
                3 + day / 30,
                1 + day % 28
            );
            let fields = json!({
                "Id": crate::ids::to_id18(&format!("0LQ{i:012}")).unwrap_or_default(),
                "CallType": if i % 3 == 0 { "Outbound" } else { "Inbound" },
                "CallStartDateTime": start,
                "UserId": user((i * 31) % 100_000),
            });
            if let Value::Object(fields) = fields {
                records.push(("VoiceCall".to_string(), fields));
            }
        }
        let store = crate::store::Store::from_records(records);
        eprintln!("store of 1 000 000 calls built in {:?}", started.elapsed());
        let list = (0..2_000)
            .map(|n| format!("'{}'", user(n * 50)))
            .collect::<Vec<_>>()
            .join(",");
        let soql = format!(
            "SELECT UserId, MAX(CallStartDateTime) lastCall FROM VoiceCall WHERE UserId IN \
             ({list}) AND CallStartDateTime >= 2026-05-01T00:00:00Z GROUP BY UserId"
        );
        let schema = crate::schema::Schema::standard();
        let ctx = ExecContext {
            api_version: "65.0".into(),
            today: Utc::now().date_naive(),
        };
        for round in 0..3 {
            let t = std::time::Instant::now();
            let query = soql::parse(&soql).expect("parses");
            let out = soql::execute(&query, &schema, &store, &ctx).expect("runs");
            let rows = match out {
                soql::QueryOutput::Rows(rows) => rows.len(),
                soql::QueryOutput::Count(n) => n as usize,
            };
            eprintln!("round {round}: {rows} groups in {:?}", t.elapsed());
        }
    }

    #[test]
    fn the_user_index_answers_what_a_full_scan_answers() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scan-idle-voice.json");
        let org = Org::from_fixture_file(&path).expect("the idle-voice fixture loads");
        let (u2, u3, u4) = (
            "005000000000002AAA",
            "005000000000003AAA",
            "005000000000004AAA",
        );
        let late = json!({"UserId": u4, "CallStartDateTime": "2026-06-30T22:30:00Z",
                          "CallType": "Inbound"});
        if let Value::Object(fields) = late {
            org.insert("VoiceCall", &fields)
                .expect("a call taken after the scan");
        }
        // The index serves `UserId IN (...)`; the same test under OR makes the engine scan.
        let indexed = format!(
            "SELECT UserId, COUNT(Id) n, MAX(CallStartDateTime) lastCall FROM VoiceCall \
             WHERE UserId IN ('{u2}','{u3}','{u4}') AND CallStartDateTime >= 2026-01-01T00:00:00Z \
             GROUP BY UserId"
        );
        let scanned = format!(
            "SELECT UserId, COUNT(Id) n, MAX(CallStartDateTime) lastCall FROM VoiceCall \
             WHERE (UserId IN ('{u2}','{u3}','{u4}') OR UserId = '{u2}') \
             AND CallStartDateTime >= 2026-01-01T00:00:00Z GROUP BY UserId"
        );
        let a = run(&org, &indexed);
        assert_eq!(a, run(&org, &scanned));
        assert_eq!(a.len(), 3);
        let u4_row = a.iter().find(|r| r["UserId"] == u4).expect("u4's new call");
        assert_eq!(u4_row["lastCall"], "2026-06-30T22:30:00.000+0000");
        let rows = format!("SELECT Id FROM VoiceCall WHERE UserId IN ('{u2}','{u3}')");
        let rows_scanned =
            format!("SELECT Id FROM VoiceCall WHERE UserId IN ('{u2}','{u3}') OR Id = null");
        assert_eq!(run(&org, &rows), run(&org, &rows_scanned));
        assert_eq!(run(&org, &rows).len(), 5);
    }

    fn with_header(value: &str) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            path: "/services/data/v65.0/query".into(),
            query: Vec::new(),
            headers: [("sforce-query-options".to_string(), value.to_string())].into(),
            body: Vec::new(),
        }
    }

    #[test]
    fn batch_size_is_clamped_like_salesforce() {
        assert_eq!(batch_size(&with_header("batchSize=500")), Some(500));
        assert_eq!(batch_size(&with_header("batchSize=5")), Some(200));
        assert_eq!(batch_size(&with_header("batchSize=99999")), Some(2000));
        assert_eq!(batch_size(&with_header("other=1")), None);
    }
}
