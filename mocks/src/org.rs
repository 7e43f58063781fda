//! `Org`: a shared handle to one simulated org — settings, schema, records, sessions, query
//! cursors, usage statistics and fault settings behind one mutex — plus the read-only views
//! tests assert on (`stats`, `used_licenses`, `records`...).
//!
//! Owns the org's state and its lifetime. It does not speak HTTP (`server.rs`, `api/`) and does
//! not decide what a write means (`rules.rs`). The lock is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::faults::{FaultState, Faults, SplitMix64};
use crate::fixture::{self, FixtureError, LoadedFixture};
use crate::ids;
use crate::rules::Dml;
use crate::schema::Schema;
use crate::settings::{OrgSettings, Paging};
use crate::soql::{RecordKey, RowShape};
use crate::store::Store;

/// Usage counters, as `GET /__sim/stats` and `Org::stats()` report them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// API calls as Salesforce counts them against the daily limit (composite = 1).
    pub api_calls: u64,
    /// HTTP requests that tried to change data (sObject POST/PATCH/DELETE, collections,
    /// composite with writes), whether or not they succeeded.
    pub write_calls: u64,
    /// HTTP requests by endpoint key, e.g. "GET query", "DELETE composite/sobjects".
    pub requests: BTreeMap<String, u64>,
    /// Successful token grants (not API calls).
    pub token_grants: u64,
    /// How often each fault fired ("latency", "http_503", "session_expired", "lock_row",
    /// "malformed_json").
    pub faults_injected: BTreeMap<String, u64>,
}

/// A signed-in session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The user the token acts as.
    pub user_id: String,
    /// Last authorised use: the token dies `session_timeout_seconds` after it.
    pub last_used: Instant,
}

/// A query result being paged through. Its record set is fixed when the query runs (records
/// inserted later never show up, records deleted later still do, from their tombstones); each
/// page is shaped when it is fetched, so field values are those at page time.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    /// The matched records in query order: store keys rather than shaped rows, so a 400 000-row
    /// result costs a few MB and the query answers without shaping rows nobody fetches.
    pub keys: Arc<Vec<RecordKey>>,
    /// The query's compiled SELECT list, which shapes each page's records.
    pub shape: Arc<RowShape>,
    /// Page size for pages fetched without a `Sforce-Query-Options` header.
    pub batch_size: usize,
    /// Owner: Salesforce limits open cursors per user.
    pub user_id: String,
    /// Locators expire after 15 minutes without use; the least recently used of a user's
    /// cursors is the one released when an 11th opens.
    pub last_used: Instant,
    /// The locator's sequence number: seeds the short-page lengths of this cursor, so a page
    /// asked for again comes back the same.
    pub seq: u64,
    /// Offsets of the `nextRecordsUrl`s handed out for this cursor: with opaque locators only
    /// these are valid.
    pub issued: HashSet<usize>,
}

/// Salesforce keeps at most this many open query cursors per user, dropping the oldest.
pub(crate) const MAX_CURSORS_PER_USER: usize = 10;
/// Idle time after which a query locator is gone.
pub(crate) const CURSOR_IDLE: Duration = Duration::from_secs(15 * 60);

/// Everything about one org, behind `Org`'s mutex.
pub(crate) struct OrgState {
    /// The parsed `_org` section.
    pub settings: OrgSettings,
    /// Objects and fields.
    pub schema: Schema,
    /// Records.
    pub store: Store,
    /// Access tokens in use.
    pub sessions: HashMap<String, Session>,
    /// Open query cursors by locator id.
    pub cursors: HashMap<String, Cursor>,
    /// Usage counters (faults_injected is filled from `faults` when read).
    pub stats: Stats,
    /// Fault settings and generator.
    pub faults: FaultState,
    /// Randomness for tokens and locators; not security-relevant in a simulator, but unique.
    pub entropy: SplitMix64,
    /// Sequence for query locator ids.
    pub next_locator: u64,
    /// How query results are paged (opaque locators, short pages, default batch size).
    pub paging: Paging,
    /// Page fetches after first pages so far, for `Paging::release_cursor_at`.
    pub pages_fetched: u64,
    /// The permissions of the user whose API request is being handled; `None` outside a request
    /// (fixture loading, tests' direct writes), where everything is allowed.
    pub acting: Option<crate::permissions::Effective>,
}

/// A shared handle to one simulated org. Cloning gives another handle to the same org.
#[derive(Clone)]
pub struct Org {
    /// The org; every request locks it for its whole (synchronous) handling.
    inner: Arc<Mutex<OrgState>>,
}

/// Shows which org this is, never its sessions (access tokens are secrets).
impl std::fmt::Debug for Org {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Org")
            .field("organization_id", &state.settings.organization_id)
            .field("name", &state.settings.name)
            .field("sessions", &state.sessions.len())
            .finish_non_exhaustive()
    }
}

impl Org {
    /// Loads a fixture file; relative key paths resolve against the fixture's directory.
    pub fn from_fixture_file(path: &Path) -> Result<Org, FixtureError> {
        Ok(Org::from_loaded(fixture::load_file(path)?))
    }

    /// Loads fixture JSON; `base_dir` anchors relative key paths.
    pub fn from_fixture_str(json: &str, base_dir: &Path) -> Result<Org, FixtureError> {
        Ok(Org::from_loaded(fixture::load_str(json, base_dir)?))
    }

    fn from_loaded(loaded: LoadedFixture) -> Org {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (std::process::id() as u64).rotate_left(32);
        let state = OrgState {
            settings: loaded.settings,
            schema: loaded.schema,
            store: Store::from_records(loaded.records),
            sessions: HashMap::new(),
            cursors: HashMap::new(),
            acting: None,
            stats: Stats::default(),
            faults: FaultState::default(),
            entropy: SplitMix64::new(seed),
            next_locator: 1,
            paging: Paging::default(),
            pages_fetched: 0,
        };
        Org {
            inner: Arc::new(Mutex::new(state)),
        }
    }

    /// Locks the org. A panic while locked cannot leave records half-written (writes are
    /// journaled per record), so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, OrgState> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the fault settings and restarts their sequence from `faults.seed`. Out-of-range
    /// rates are clamped to 0.0..=1.0 and `expire_session_every: Some(0)` means off.
    pub fn set_faults(&self, faults: Faults) {
        let clean = Faults {
            http_503_rate: faults.http_503_rate.clamp(0.0, 1.0),
            lock_row_rate: faults.lock_row_rate.clamp(0.0, 1.0),
            malformed_json_rate: faults.malformed_json_rate.clamp(0.0, 1.0),
            expire_session_every: faults.expire_session_every.filter(|n| *n > 0),
            ..faults
        };
        self.lock().faults.set(clean);
    }

    /// Replaces the paging behaviour (see [`Paging`]); cursors already open keep their pages.
    pub fn set_paging(&self, paging: Paging) {
        self.lock().paging = Paging {
            default_batch: paging.default_batch.clamp(200, 2000),
            ..paging
        };
    }

    /// Current paging behaviour.
    pub fn paging(&self) -> Paging {
        self.lock().paging.clone()
    }

    /// Current fault settings.
    pub fn faults(&self) -> Faults {
        self.lock().faults.faults().clone()
    }

    /// Usage counters so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats_snapshot()
    }

    /// Live PSL assignments of the permission set license with this `DeveloperName`.
    pub fn used_licenses(&self, psl_developer_name: &str) -> Option<u64> {
        let state = self.lock();
        let id = state.psl_id(psl_developer_name)?;
        Some(state.store.used_licenses(&id))
    }

    /// `TotalLicenses` of the permission set license with this `DeveloperName`.
    pub fn total_licenses(&self, psl_developer_name: &str) -> Option<u64> {
        let state = self.lock();
        let id = state.psl_id(psl_developer_name)?;
        state.store.live(&id)?.fields.get("TotalLicenses")?.as_u64()
    }

    /// Live records of an object (case-insensitive name), as stored (no `attributes`).
    pub fn records(&self, object: &str) -> Vec<Value> {
        let state = self.lock();
        let Some(def) = state.schema.object(object) else {
            return Vec::new();
        };
        state
            .store
            .live_rows(&def.name)
            .map(|r| Value::Object(r.fields.clone()))
            .collect()
    }

    /// Inserts one record as the org itself, outside any API session: what the org's own
    /// integrations do (a telephony provider writing the `VoiceCall` of a call just taken).
    /// Validated like an API insert (`Id` and read-only fields refused, defaults filled,
    /// `CreatedDate` now); not counted as an API call. Answers the new id.
    pub fn insert(
        &self,
        object: &str,
        fields: &serde_json::Map<String, Value>,
    ) -> Result<String, crate::rules::RecordError> {
        let mut state = self.lock();
        let name = state
            .schema
            .object(object)
            .map_or_else(|| object.to_string(), |d| d.name.clone());
        let result = state.dml().insert_as_org(&name, fields);
        state.store.commit();
        result
    }

    /// The org's settings (the parsed `_org`).
    pub fn settings(&self) -> OrgSettings {
        self.lock().settings.clone()
    }
}

impl OrgState {
    /// A write context over this org's records.
    pub(crate) fn dml(&mut self) -> Dml<'_> {
        Dml {
            store: &mut self.store,
            schema: &self.schema,
            settings: &self.settings,
            faults: &mut self.faults,
            now: chrono::Utc::now(),
            access: self
                .acting
                .clone()
                .unwrap_or_else(crate::permissions::Effective::unrestricted),
        }
    }

    pub(crate) fn stats_snapshot(&self) -> Stats {
        let mut stats = self.stats.clone();
        stats.faults_injected = self.faults.injected().clone();
        stats
    }

    fn psl_id(&self, developer_name: &str) -> Option<String> {
        self.store
            .live_rows("PermissionSetLicense")
            .find(|r| r.fields.get("DeveloperName").and_then(Value::as_str) == Some(developer_name))
            .and_then(|r| {
                r.fields
                    .get("Id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
    }

    pub(crate) fn count_request(&mut self, key: &str) {
        *self.stats.requests.entry(key.to_string()).or_insert(0) += 1;
    }

    /// A random string of letters and digits.
    pub(crate) fn random_token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| {
                char::from(ALPHABET[(self.entropy.next_u64() % ALPHABET.len() as u64) as usize])
            })
            .collect()
    }

    /// Starts a session for `user_id` and returns its access token.
    pub(crate) fn new_session(&mut self, user_id: &str) -> String {
        let org15 = self
            .settings
            .organization_id
            .get(..15)
            .unwrap_or("00D000000000001")
            .to_string();
        let token = format!("{org15}!AQ{}", self.random_token(96));
        self.sessions.insert(
            token.clone(),
            Session {
                user_id: user_id.to_string(),
                last_used: Instant::now(),
            },
        );
        token
    }

    /// The user behind a bearer token, refreshing its idle timer; `None` if unknown or expired.
    pub(crate) fn authenticate(&mut self, token: &str) -> Option<String> {
        let timeout = Duration::from_secs(self.settings.session_timeout_seconds);
        let now = Instant::now();
        let session = self.sessions.get_mut(token)?;
        if now.duration_since(session.last_used) > timeout {
            self.sessions.remove(token);
            return None;
        }
        session.last_used = now;
        Some(session.user_id.clone())
    }

    /// Ends a session (fault injection: "this token just expired").
    pub(crate) fn expire_session(&mut self, token: &str) {
        self.sessions.remove(token);
    }

    /// Keeps a query result for paging and returns its locator id. A user keeps at most
    /// [`MAX_CURSORS_PER_USER`]; opening one more releases the least recently used.
    pub(crate) fn open_cursor(
        &mut self,
        user_id: &str,
        keys: Vec<RecordKey>,
        shape: RowShape,
        batch_size: usize,
    ) -> String {
        let now = Instant::now();
        self.cursors
            .retain(|_, c| now.duration_since(c.last_used) <= CURSOR_IDLE);
        let mut mine: Vec<(String, Instant)> = self
            .cursors
            .iter()
            .filter(|(_, c)| c.user_id == user_id)
            .map(|(id, c)| (id.clone(), c.last_used))
            .collect();
        if mine.len() >= MAX_CURSORS_PER_USER {
            mine.sort_by_key(|(_, used)| *used);
            for (id, _) in mine.iter().take(mine.len() + 1 - MAX_CURSORS_PER_USER) {
                self.cursors.remove(id);
            }
        }
        let n = self.next_locator;
        self.next_locator += 1;
        let id15 = format!("01gSIM{:09}", n % 1_000_000_000);
        let locator = format!("{id15}{}", ids::checksum_suffix(&id15));
        self.cursors.insert(
            locator.clone(),
            Cursor {
                keys: Arc::new(keys),
                shape: Arc::new(shape),
                batch_size,
                user_id: user_id.to_string(),
                last_used: now,
                seq: n,
                issued: HashSet::new(),
            },
        );
        locator
    }

    /// A cursor by locator, refreshing its idle timer; `None` if unknown or expired.
    pub(crate) fn cursor(&mut self, locator: &str) -> Option<&mut Cursor> {
        let now = Instant::now();
        let expired = now.duration_since(self.cursors.get(locator)?.last_used) > CURSOR_IDLE;
        if expired {
            self.cursors.remove(locator);
            return None;
        }
        let cursor = self.cursors.get_mut(locator)?;
        cursor.last_used = now;
        Some(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed() -> Org {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json");
        Org::from_fixture_file(&path).expect("the seed fixture loads")
    }

    fn fields(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test bodies are objects"),
        }
    }

    #[test]
    fn the_org_itself_can_record_a_call_as_its_telephony_would() {
        let org = seed();
        let before = org.stats().api_calls;
        let id = org
            .insert(
                "voicecall",
                &fields(
                    json!({"CallType": "Inbound", "UserId": "005000000000002AAA",
                               "CallStartDateTime": "2026-06-30T22:00:00Z"}),
                ),
            )
            .expect("inserted");
        assert!(id.starts_with("0LQ"), "{id}");
        let calls = org.records("VoiceCall");
        assert_eq!(calls.len(), 1);
        assert_eq!(
            calls[0]["CallStartDateTime"],
            "2026-06-30T22:00:00.000+0000"
        );
        assert!(
            calls[0]["CreatedDate"].is_string(),
            "CreatedDate is filled in"
        );
        assert_eq!(org.stats().api_calls, before, "not an API call");
    }

    #[test]
    fn a_record_the_api_would_refuse_is_refused_and_leaves_nothing() {
        let org = seed();
        let bad_user = org
            .insert(
                "VoiceCall",
                &fields(json!({"UserId": "005000000000099AAA"})),
            )
            .expect_err("no such user");
        assert!(!bad_user.status_code.is_empty());
        let with_id = org
            .insert("VoiceCall", &fields(json!({"Id": "0LQ000000000001AAA"})))
            .expect_err("Id is not insertable");
        assert_eq!(with_id.status_code, "INVALID_FIELD");
        let unknown = org
            .insert("NoSuchObject", &fields(json!({})))
            .expect_err("unknown object");
        assert_eq!(unknown.status_code, "INVALID_TYPE");
        assert!(org.records("VoiceCall").is_empty());
    }

    #[test]
    fn a_user_created_now_gets_created_date_now_and_last_login_is_not_writable() {
        let org = seed();
        let before = chrono::Utc::now() - chrono::Duration::seconds(5);
        let id = org
            .insert(
                "User",
                &fields(json!({"Username": "new.agent@x.example", "LastName": "Agent"})),
            )
            .expect("inserted");
        let user = org
            .records("User")
            .into_iter()
            .find(|u| u["Id"] == id.as_str())
            .expect("stored");
        let created = user["CreatedDate"].as_str().expect("CreatedDate set");
        let created = chrono::DateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%.3f%z")
            .expect("Salesforce's dateTime form");
        assert!(created >= before, "{created}");
        assert!(user.get("LastLoginDate").is_none_or(Value::is_null));
        let refused = org
            .insert(
                "User",
                &fields(json!({"Username": "b@x.example", "LastName": "B",
                               "LastLoginDate": "2026-06-01T00:00:00Z"})),
            )
            .expect_err("read-only");
        assert_eq!(refused.status_code, "INVALID_FIELD_FOR_INSERT_UPDATE");
    }
}
