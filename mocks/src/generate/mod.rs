//! `sfsim generate`: realistic large simulated Service Cloud Voice orgs for pslwarden's scan
//! benchmark and scale tests, with an exact list of what was planted in them.
//!
//! Owns the generator (population shares; the catalog of permission set licenses, permission
//! sets, groups, profiles and contact centers; users and their assignments; voice calls; idle
//! Voice seats), the [`Expected`] summary of planted findings, and writing a fixture one record
//! a line. The catalog is in `catalog`, the deterministic draws and ids in `draw`, the voice
//! calls in `calls`, the idle plan (logins, new users, exceptions) in `idle`; this module places
//! the users and writes the result.
//!
//! Must not: validate or load fixtures (that is `fixture`'s job; the tests prove the output valid
//! by loading it into an [`Org`](crate::Org)), read the clock (the as-of day is passed in), the
//! environment or the network.
//! The same options always give the same fixture, byte for byte: one splitmix64 stream per part,
//! and only ordered collections.
//!
//! Coherence rule: every record follows the org's own logic (each permission set license
//! assignment is needed by a set the user holds, seats used never exceed seats bought), except
//! the deliberately planted cases listed in [`Expected`], so a scan's findings can be compared
//! with it exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::faults::SplitMix64;
use crate::ids;
use crate::values;

mod calls;
mod catalog;
mod draw;
mod idle;
#[cfg(test)]
mod idle_tests;

use calls::*;
use catalog::*;
use draw::*;
pub use idle::{SUPERVISOR_GROUP, SUPERVISOR_SET};

/// `--affected-fraction` when none is given: 2% of users double-consume a Voice seat.
pub const DEFAULT_AFFECTED_FRACTION: f64 = 0.02;
/// Above this the planted group would crowd out the ordinary agents the scan must not report.
pub const MAX_AFFECTED_FRACTION: f64 = 0.25;
/// Beyond this the in-memory fixture outgrows a developer machine.
pub const MAX_USERS: usize = 2_000_000;

/// The Salesforce Voice User license (Amazon Connect telephony).
pub const VOICE_PSL: &str = "ServiceCloudVoicePsl";
/// The Salesforce Voice User (Partner Telephony) license.
pub const PARTNER_PSL: &str = "ServiceCloudVoiceExternalTelephonyPsl";
/// The licensed, auto-assigned Voice permission set of pre-Spring '24 orgs.
pub const VOICE_PERMISSION_SET: &str = "SalesforceVoicePermissionSet";

/// The Amazon contact-center sets, in the order agent, supervisor, admin.
const AMAZON_SETS: [&str; 3] = [
    "ContactCenterAgent",
    "ContactCenterSupervisor",
    "ContactCenterAdmin",
];
/// The partner-telephony contact-center sets, in the same order.
const PARTNER_SETS: [&str; 3] = [
    "ContactCenterAgentExternalTelephony",
    "ContactCenterSupervisorExternalTelephony",
    "ContactCenterAdminExternalTelephony",
];

/// Population shares (of all users).
const AMAZON_SHARE: f64 = 0.40;
const PARTNER_SHARE: f64 = 0.25;
const DUAL_SHARE: f64 = 0.002;
const INACTIVE_SHARE: f64 = 0.05;

/// Separate random streams, so adding voice calls leaves the rest of the org unchanged.
const STREAM_ORG: u64 = 0x6F72_6700_0000_0001;
const STREAM_CALLS: u64 = 0x6361_6C6C_0000_0002;

/// The as-of day of [`generate`] (the library cannot read the clock; `sfsim generate` defaults
/// to today): the as-of day of `mocks/fixtures/scan-idle-voice.json` too.
pub const DEFAULT_AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(2026, 6, 30) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// The consumer key, secret and refresh token of the seed fixture's demo connected app, so the
/// same pslwarden configuration signs in to a generated org.
const DEMO_CONSUMER_KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
const DEMO_CLIENT_SECRET: &str = "demo-only-client-secret";
const DEMO_REFRESH_TOKEN: &str = "5Aep861demoOnlyRefreshToken";
/// Inlined so a generated fixture works wherever it is written.
const DEMO_JWT_PUBLIC_KEY: &str = include_str!("../../keys/demo-only-jwt-public.pem");

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Number of users, the integration user pslwarden signs in as included.
    pub users: usize,
    /// Seed of the generator: the same options give the same fixture.
    pub seed: u64,
    /// Share of ALL users planted as partner-telephony agents who were also put in an Amazon
    /// contact center (0.0..=0.25), rounded to the nearest user.
    pub affected_fraction: f64,
    /// Number of `VoiceCall` records (0: none).
    pub voice_calls: usize,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            users: 1_000,
            seed: 0,
            affected_fraction: DEFAULT_AFFECTED_FRACTION,
            voice_calls: 0,
        }
    }
}

impl GenerateOptions {
    /// Refuses options [`generate`] would have to bend.
    pub fn validate(&self) -> Result<(), GenerateError> {
        if self.users == 0 {
            return Err(GenerateError::NoUsers);
        }
        if self.users > MAX_USERS {
            return Err(GenerateError::TooManyUsers(self.users));
        }
        if !(0.0..=MAX_AFFECTED_FRACTION).contains(&self.affected_fraction) {
            return Err(GenerateError::AffectedFraction(self.affected_fraction));
        }
        Ok(())
    }
}

/// Why `sfsim generate` could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("--users must be at least 1 (the integration user pslwarden signs in as)")]
    NoUsers,
    #[error("--users {0} is more than the generator supports ({MAX_USERS}); use fewer users")]
    TooManyUsers(usize),
    #[error(
        "--affected-fraction {0} is out of range: give a share of all users between 0 and \
         {MAX_AFFECTED_FRACTION}, e.g. 0.02"
    )]
    AffectedFraction(f64),
    #[error("cannot write {}: {source} (does the directory exist and is it writable?)", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot write the fixture to standard output: {0}")]
    Stdout(#[source] io::Error),
}

/// A generated org: the fixture and what was planted in it.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The fixture, in the format of `mocks/README.md`; loads with `Org::from_fixture_str`.
    pub fixture: Value,
    /// What a correct scan of this org must find.
    pub expected: Expected,
}

/// What was planted in a generated org: the answers a scan is checked against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// The options that produced the org, so a saved summary can be traced back to them.
    pub seed: u64,
    /// Number of users (integration user included).
    pub users: usize,
    /// The `--affected-fraction` used.
    pub affected_fraction: f64,
    /// Users who must get exactly one `scv-double-consumption` finding each (sorted).
    pub double_consumption_user_ids: Vec<String>,
    /// The inactive ones among them (sorted).
    pub double_consumption_inactive_user_ids: Vec<String>,
    /// The ones who hold the Voice permission set through a permission set group (sorted).
    pub double_consumption_via_group_user_ids: Vec<String>,
    /// `PermissionSetLicenseAssign` ids that no set the user holds needs (sorted): `orphan-psl`.
    pub orphan_psl_assignment_ids: Vec<String>,
    /// The ones among them whose user is inactive (sorted; reported separately).
    pub orphan_psl_assignment_ids_inactive: Vec<String>,
    /// With `--voice-calls`: active holders of a seat of either Voice license who took no call
    /// in the 60 days before the as-of day, were created before that and are not exempt by the
    /// set `Contact_Center_Supervisor` or the group `Voice_Supervisors` (sorted): what the
    /// `idle-voice-seat` rule reports with `after_days = 60` and those exceptions.
    #[serde(default)]
    pub idle_voice_seat_user_ids: Vec<String>,
    /// With `--voice-calls`: inactive holders of a seat of either Voice license (sorted).
    #[serde(default)]
    pub idle_voice_seat_deactivated_user_ids: Vec<String>,
    /// Those of `idle_voice_seat_user_ids` who logged in within the 30 days before the as-of day
    /// (sorted): not idle when the rule also asks for no login in 30 days.
    #[serde(default)]
    pub idle_voice_seat_recent_login_user_ids: Vec<String>,
    /// The as-of day the calls, logins and creation dates count back from (with `--voice-calls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    /// Seats per permission set license, in fixture order.
    pub psl_counts: Vec<PslCount>,
    /// How the users and records break down, for the benchmark's report.
    pub population: Population,
}

/// Seats of one permission set license in a generated org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PslCount {
    /// `PermissionSetLicense.DeveloperName`.
    pub developer_name: String,
    /// `PermissionSetLicense.Id`.
    pub id: String,
    /// `TotalLicenses`: always at least `used`.
    pub total: u64,
    /// Assignments of it in the fixture (the sim's `UsedLicenses`).
    pub used: u64,
    /// Of `used`, planted orphans.
    pub orphans: u64,
    /// Of `used`, held by double-consuming users (only on the Voice license): the seats a fix
    /// recovers.
    pub double_consumption: u64,
}

/// Counts of a generated org, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Population {
    /// All users.
    pub users: usize,
    /// Users with `IsActive` false.
    pub inactive_users: usize,
    /// Amazon Connect agents (Amazon contact-center set, Voice license): not findings.
    pub amazon_agents: usize,
    /// Partner-telephony agents (partner set and license) left in partner centers: not findings.
    pub partner_agents: usize,
    /// Users holding both an Amazon and a partner set (need both seats): not findings.
    pub dual_agents: usize,
    /// Planted double consumption (partner agents also put in an Amazon center): findings.
    pub double_consumption: usize,
    /// Users without contact-center sets (the integration user included).
    pub other_users: usize,
    /// `PermissionSet` records (profile-owned and group-aggregate ones included).
    pub permission_sets: usize,
    /// `PermissionSetGroup` records.
    pub permission_set_groups: usize,
    /// `PermissionSetLicense` records.
    pub permission_set_licenses: usize,
    /// `CallCenter` records.
    pub call_centers: usize,
    /// `PermissionSetAssignment` records (profile-owned ones included).
    pub permission_set_assignments: usize,
    /// `PermissionSetLicenseAssign` records.
    pub license_assignments: usize,
    /// `VoiceCall` records.
    pub voice_calls: usize,
    /// Voice-seat holders exempt from the idle rule by the supervisor set or group.
    #[serde(default)]
    pub idle_voice_seat_exceptions: usize,
}

/// [`generate_as_of`] on [`DEFAULT_AS_OF`].
pub fn generate(opts: &GenerateOptions) -> Generated {
    generate_as_of(opts, DEFAULT_AS_OF)
}

/// Builds an org in memory; with voice calls, they and the idle plan count back from `as_of`.
/// Options out of range are brought into range (users at least 1 and at most [`MAX_USERS`], the
/// fraction into 0..=[`MAX_AFFECTED_FRACTION`]); call [`GenerateOptions::validate`] first to
/// refuse them instead.
pub fn generate_as_of(opts: &GenerateOptions, as_of: NaiveDate) -> Generated {
    let (mut generated, calls) = build(opts, as_of);
    if let Some(calls) = calls
        && let Some(slot) = generated.fixture.get_mut("VoiceCall")
    {
        *slot = Value::Array(calls.records().collect());
    }
    generated
}

/// The org with its `VoiceCall` list left empty, and the calls as drafts to be written there.
fn build(opts: &GenerateOptions, as_of: NaiveDate) -> (Generated, Option<Calls>) {
    let users = opts.users.clamp(1, MAX_USERS);
    let fraction = if opts.affected_fraction.is_nan() {
        0.0
    } else {
        opts.affected_fraction.clamp(0.0, MAX_AFFECTED_FRACTION)
    };
    let mut rng = Rng::new(opts.seed ^ STREAM_ORG);
    let mut ids = IdFactory::new(opts.seed);
    let catalog = Catalog::build(&mut ids, &mut rng, opts.seed);
    let mut builder = OrgBuilder::new(&catalog, opts.seed);
    builder.users(users, fraction, &mut rng, &mut ids);
    if opts.voice_calls == 0 {
        return (
            builder.finish(opts.seed, users, fraction, Vec::new(), &mut rng),
            None,
        );
    }
    let mut idle_rng = Rng::new(opts.seed ^ idle::STREAM_IDLE);
    let plan = idle::plan(&builder.seat_holders, as_of, &mut idle_rng);
    let mut calls_rng = Rng::new(opts.seed ^ STREAM_CALLS);
    let calls = voice_calls(
        opts.voice_calls,
        &builder.agents,
        &catalog,
        &mut calls_rng,
        &mut ids,
        &plan,
    );
    let holders = std::mem::take(&mut builder.seat_holders);
    let mut generated = builder.finish(opts.seed, users, fraction, Vec::new(), &mut rng);
    let planted = idle::apply(
        &mut generated.fixture,
        &plan,
        &holders,
        &calls.in_period,
        &mut idle_rng,
        &mut ids,
    );
    let expected = &mut generated.expected;
    expected.idle_voice_seat_user_ids = planted.idle;
    expected.idle_voice_seat_deactivated_user_ids = planted.deactivated;
    expected.idle_voice_seat_recent_login_user_ids = planted.recent_login;
    expected.as_of = Some(as_of);
    let count = |object: &str| {
        generated
            .fixture
            .get(object)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    expected.population.permission_sets = count("PermissionSet");
    expected.population.permission_set_groups = count("PermissionSetGroup");
    expected.population.permission_set_assignments = count("PermissionSetAssignment");
    expected.population.idle_voice_seat_exceptions = planted.exempt;
    expected.population.voice_calls = calls.len();
    (generated, Some(calls))
}

/// [`generate_to_as_of`] on [`DEFAULT_AS_OF`].
pub fn generate_to(opts: &GenerateOptions, out: Option<&Path>) -> Result<String, GenerateError> {
    generate_to_as_of(opts, DEFAULT_AS_OF, out)
}

/// Validates the options, generates, and writes: with `out`, the fixture to `out` and the
/// expected summary to `out` + `.expected.json`; without, the fixture to standard output and
/// the summary to standard error. Returns a one-line summary for the terminal.
pub fn generate_to_as_of(
    opts: &GenerateOptions,
    as_of: NaiveDate,
    out: Option<&Path>,
) -> Result<String, GenerateError> {
    opts.validate()?;
    // The calls stay drafts until written: one record at a time, never all as JSON at once.
    let (generated, calls) = build(opts, as_of);
    let calls = calls.as_ref();
    let summary = summary_line(&generated.expected);
    match out {
        Some(path) => {
            write_file(path, |w| write_fixture_with(&generated.fixture, calls, w))?;
            let mut expected_path = path.as_os_str().to_owned();
            expected_path.push(".expected.json");
            let expected_path = PathBuf::from(expected_path);
            write_file(&expected_path, |w| {
                serde_json::to_writer_pretty(&mut *w, &generated.expected)?;
                w.write_all(b"\n")
            })?;
            Ok(format!(
                "wrote {} and {}: {summary}",
                path.display(),
                expected_path.display()
            ))
        }
        None => {
            let stdout = io::stdout();
            let mut lock = BufWriter::new(stdout.lock());
            write_fixture_with(&generated.fixture, calls, &mut lock)
                .and_then(|()| lock.flush())
                .map_err(GenerateError::Stdout)?;
            // The summary goes to stderr so stdout stays a clean fixture for redirection.
            let mut stderr = io::stderr().lock();
            let _ = serde_json::to_writer_pretty(&mut stderr, &generated.expected);
            let _ = writeln!(stderr);
            Ok(summary)
        }
    }
}

fn write_file(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<std::fs::File>) -> io::Result<()>,
) -> Result<(), GenerateError> {
    let wrap = |source| GenerateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(wrap)?;
    let mut writer = BufWriter::new(file);
    body(&mut writer).map_err(wrap)?;
    writer.flush().map_err(wrap)
}

fn summary_line(expected: &Expected) -> String {
    let p = &expected.population;
    let idle = match expected.as_of {
        Some(day) => format!(
            "; as of {day}: {} idle Voice seats ({} logged in within 30 days), {} deactivated, \
             {} exempt",
            expected.idle_voice_seat_user_ids.len(),
            expected.idle_voice_seat_recent_login_user_ids.len(),
            expected.idle_voice_seat_deactivated_user_ids.len(),
            p.idle_voice_seat_exceptions
        ),
        None => String::new(),
    };
    format!(
        "{} users ({} inactive): {} Amazon agents, {} partner agents, {} with both, {} planted \
         double consumption ({} inactive, {} through a group), {} planted orphan PSL \
         assignments, {} voice calls{idle}",
        p.users,
        p.inactive_users,
        p.amazon_agents,
        p.partner_agents,
        p.dual_agents,
        p.double_consumption,
        expected.double_consumption_inactive_user_ids.len(),
        expected.double_consumption_via_group_user_ids.len(),
        expected.orphan_psl_assignment_ids.len(),
        p.voice_calls
    )
}

/// Writes a fixture as one JSON object with one record a line: compact enough for 100 000
/// users, and still readable and diffable.
pub fn write_fixture(fixture: &Value, out: &mut impl Write) -> io::Result<()> {
    write_fixture_with(fixture, None, out)
}

/// [`write_fixture`], with the `VoiceCall` records taken from `calls` when given (the
/// fixture's own list is then empty).
fn write_fixture_with(
    fixture: &Value,
    calls: Option<&Calls>,
    out: &mut impl Write,
) -> io::Result<()> {
    // Each value is serialized into this buffer first: serde_json's writer instantiated for a
    // `Vec<u8>` is its own (optimised) copy, several times faster in debug builds than one
    // instantiated here for an arbitrary writer.
    let mut scratch: Vec<u8> = Vec::with_capacity(4096);
    let mut put = |out: &mut dyn Write, value: &Value| -> io::Result<()> {
        scratch.clear();
        serde_json::to_writer(&mut scratch, value)?;
        out.write_all(&scratch)
    };
    let Value::Object(root) = fixture else {
        put(out, fixture)?;
        return out.write_all(b"\n");
    };
    out.write_all(b"{")?;
    for (i, (key, value)) in root.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        put(out, &Value::String(key.clone()))?;
        out.write_all(b": ")?;
        if let (Some(calls), "VoiceCall") = (calls, key.as_str())
            && calls.len() > 0
        {
            out.write_all(b"[")?;
            for (j, call) in calls.records().enumerate() {
                out.write_all(if j == 0 { b"\n  " } else { b",\n  " })?;
                put(out, &call)?;
            }
            out.write_all(b"\n]")?;
            continue;
        }
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.write_all(b"[")?;
                for (j, item) in items.iter().enumerate() {
                    out.write_all(if j == 0 { b"\n  " } else { b",\n  " })?;
                    put(out, item)?;
                }
                out.write_all(b"\n]")?;
            }
            other => put(out, other)?,
        }
    }
    out.write_all(b"\n}\n")
}

/// A record from its fields, without the null ones. Built directly rather than with `json!`,
/// which copies every value: this is the generator's hot path.
fn record<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (name, value) in fields {
        if !value.is_null() {
            map.insert(name.to_string(), value);
        }
    }
    Value::Object(map)
}

/// Drops null fields: absent means null in the fixture format, and it keeps 100 000-user
/// fixtures smaller.
fn strip_nulls(record: &mut Value) {
    if let Value::Object(map) = record {
        map.retain(|_, v| !v.is_null());
    }
}

/// What each user is, decided before any record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The user pslwarden signs in as.
    Integration,
    /// An Amazon Connect agent.
    Amazon,
    /// A partner-telephony agent.
    Partner,
    /// A partner agent also put in an Amazon center: the planted finding.
    Affected {
        inactive: bool,
        voice_via_group: bool,
    },
    /// Holds both an Amazon and a partner set.
    Dual,
    /// No contact-center set.
    Other,
}

/// An active agent placed in a contact center, who can take voice calls.
struct Agent {
    /// User id.
    id: String,
    /// Index into `Catalog::centers`.
    center: usize,
}

/// Accumulates the per-user records.
struct OrgBuilder<'a> {
    /// Licenses, sets, groups, centers.
    catalog: &'a Catalog,
    /// Domain of usernames and emails.
    domain: String,
    /// `User` records.
    users: Vec<Value>,
    /// Username of the integration user, for `_org`.
    integration_username: String,
    /// `PermissionSetAssignment` records.
    assignments: Vec<Value>,
    /// `PermissionSetLicenseAssign` records.
    license_assignments: Vec<Value>,
    /// Seats used per license (index into `Catalog::psls`).
    used: Vec<u64>,
    /// Planted orphans per license.
    orphans_per_psl: Vec<u64>,
    /// Double-consumed Voice seats.
    double_consumed: u64,
    /// Agents who can take calls.
    agents: Vec<Agent>,
    /// Holders of a seat of either Voice license, in user order (for the idle plan).
    seat_holders: Vec<idle::SeatHolder>,
    /// Planted and counted facts, filled as users are built.
    expected: Expected,
}

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Mia",
    "Mateo",
    "Isabella",
    "Levi",
    "Charlotte",
    "Asher",
    "Harper",
    "James",
    "Evelyn",
    "Leo",
    "Aisha",
    "Ravi",
    "Mei",
    "Kenji",
    "Fatima",
    "Omar",
    "Ingrid",
    "Lars",
    "Chloe",
    "Hugo",
    "Priya",
    "Arjun",
    "Yuki",
    "Hana",
    "Diego",
    "Lucia",
    "Sven",
    "Freya",
    "Kwame",
    "Ama",
    "Nina",
    "Tomas",
];
#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
    "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright",
    "Patel", "Singh", "Kim", "Nguyen", "Chen", "Tanaka", "Muller", "Schmidt", "Dubois", "Rossi",
    "Silva", "Okafor", "Mensah", "Larsen", "Novak", "Kowalski",
];

impl<'a> OrgBuilder<'a> {
    fn new(catalog: &'a Catalog, seed: u64) -> OrgBuilder<'a> {
        let domain = format!("scv-scale-{seed:x}.example.com");
        OrgBuilder {
            catalog,
            integration_username: format!("pslwarden.integration@{domain}"),
            domain,
            users: Vec::new(),
            assignments: Vec::new(),
            license_assignments: Vec::new(),
            used: vec![0; catalog.psls.len()],
            orphans_per_psl: vec![0; catalog.psls.len()],
            double_consumed: 0,
            agents: Vec::new(),
            seat_holders: Vec::new(),
            expected: Expected::default(),
        }
    }

    /// Decides every user's role, then writes each user and their assignments.
    fn users(&mut self, count: usize, fraction: f64, rng: &mut Rng, ids: &mut IdFactory) {
        let roles = plan_roles(count, fraction, rng);
        let orphan_users = plan_orphans(&roles, rng);
        for (index, role) in roles.iter().enumerate() {
            let orphan = orphan_users.contains(&index);
            self.user(index, *role, orphan, rng, ids);
        }
    }

    fn user(&mut self, index: usize, role: Role, orphan: bool, rng: &mut Rng, ids: &mut IdFactory) {
        let catalog = self.catalog;
        let id = ids.next("005");
        let active = match role {
            Role::Integration => true,
            Role::Affected { inactive, .. } => !inactive,
            _ => !rng.chance(INACTIVE_SHARE),
        };
        // Which contact-center set: 0 agent, 1 supervisor, 2 admin.
        let contact_set = |rng: &mut Rng| rng.weighted(&[85, 10, 5]);
        let mut direct: BTreeSet<usize> = BTreeSet::new();
        let mut groups: BTreeSet<usize> = BTreeSet::new();
        let mut center: Option<usize> = None;
        let profile_key;
        match role {
            Role::Integration => profile_key = "integration",
            Role::Amazon => {
                let kind = contact_set(rng);
                profile_key = ["cc_agent", "cc_supervisor", "admin"][kind];
                let via_group = match kind {
                    0 => rng.chance(0.2).then(|| catalog.group("SCV_Amazon_Agent")),
                    1 => rng
                        .chance(0.3)
                        .then(|| catalog.group("SCV_Amazon_Supervisor")),
                    _ => None,
                };
                match via_group {
                    Some(group) => groups.insert(group),
                    None => direct.insert(catalog.set(AMAZON_SETS[kind])),
                };
                // A few agents are licensed but not yet placed in a contact center.
                if rng.chance(0.95) {
                    center = Some(catalog.amazon_centers[rng.weighted(AMAZON_CENTER_WEIGHTS)]);
                    if rng.chance(0.1) {
                        groups.insert(catalog.group("SCV_Voice_Access"));
                    } else {
                        direct.insert(catalog.set(VOICE_PERMISSION_SET));
                    }
                }
            }
            Role::Partner | Role::Affected { .. } => {
                let kind = contact_set(rng);
                profile_key = ["cc_agent", "cc_supervisor", "admin"][kind];
                if kind == 0 && rng.chance(0.15) {
                    groups.insert(catalog.group("SCV_Partner_Agent"));
                } else {
                    direct.insert(catalog.set(PARTNER_SETS[kind]));
                }
                if rng.chance(0.6) {
                    direct.insert(catalog.set("Natterbox_User"));
                }
                if let Role::Affected {
                    inactive,
                    voice_via_group,
                } = role
                {
                    // Moved into an Amazon center, which auto-assigned the Voice set.
                    center = Some(catalog.amazon_centers[rng.weighted(AMAZON_CENTER_WEIGHTS)]);
                    if voice_via_group {
                        groups.insert(catalog.group("SCV_Voice_Access"));
                        self.expected
                            .double_consumption_via_group_user_ids
                            .push(id.clone());
                    } else {
                        direct.insert(catalog.set(VOICE_PERMISSION_SET));
                    }
                    if inactive {
                        self.expected
                            .double_consumption_inactive_user_ids
                            .push(id.clone());
                    }
                    self.expected.double_consumption_user_ids.push(id.clone());
                    self.double_consumed += 1;
                } else if rng.chance(0.95) {
                    center = Some(catalog.partner_centers[rng.weighted(PARTNER_CENTER_WEIGHTS)]);
                }
            }
            Role::Dual => {
                let kind = rng.weighted(&[80, 20]);
                profile_key = ["cc_agent", "cc_supervisor"][kind];
                direct.insert(catalog.set(AMAZON_SETS[kind]));
                direct.insert(catalog.set(PARTNER_SETS[kind]));
                center = Some(catalog.amazon_centers[rng.weighted(AMAZON_CENTER_WEIGHTS)]);
                direct.insert(catalog.set(VOICE_PERMISSION_SET));
            }
            Role::Other => {
                profile_key = OTHER_PROFILES[rng.weighted(&catalog.other_profile_weights)].0;
            }
        }

        if role != Role::Integration {
            self.extras(role, profile_key, &mut direct, &mut groups, rng);
        }

        let region = center.map_or_else(
            || [Region::Emea, Region::NorthAmerica, Region::Apac][rng.weighted(&[40, 45, 15])],
            |c| catalog.centers[c].region,
        );
        let zones = region.time_zones();
        let zone = zones[rng.below(zones.len())];
        let (first, last) = (
            FIRST_NAMES[rng.below(FIRST_NAMES.len())],
            LAST_NAMES[rng.below(LAST_NAMES.len())],
        );
        let username = if role == Role::Integration {
            self.integration_username.clone()
        } else {
            format!(
                "{}.{}{index}@{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                self.domain
            )
        };
        let (first, last) = if role == Role::Integration {
            ("pslwarden", "Integration")
        } else {
            (first, last)
        };
        let alias: String = first
            .chars()
            .take(1)
            .chain(last.chars().take(4))
            .collect::<String>()
            .to_ascii_lowercase();
        let profile = catalog.profile(profile_key);
        let user = record([
            ("Id", id.clone().into()),
            ("Username", username.clone().into()),
            ("FirstName", first.into()),
            ("LastName", last.into()),
            ("Email", username.into()),
            ("Alias", alias.into()),
            ("IsActive", active.into()),
            ("ProfileId", profile.id.clone().into()),
            (
                "CallCenterId",
                center.map(|c| catalog.centers[c].id.clone()).into(),
            ),
            ("TimeZoneSidKey", zone.into()),
        ]);
        self.users.push(user);
        let population = &mut self.expected.population;
        population.users += 1;
        population.inactive_users += usize::from(!active);
        match role {
            Role::Integration | Role::Other => population.other_users += 1,
            Role::Amazon => population.amazon_agents += 1,
            Role::Partner => population.partner_agents += 1,
            Role::Affected { .. } => population.double_consumption += 1,
            Role::Dual => population.dual_agents += 1,
        }
        if let (Some(center), true) = (center, active) {
            self.agents.push(Agent {
                id: id.clone(),
                center,
            });
        }

        // Salesforce lists the profile's own set among a user's assignments.
        self.assignment(ids, &id, catalog.sets[profile.set].id.clone(), None);
        for set in &direct {
            self.assignment(ids, &id, catalog.sets[*set].id.clone(), None);
        }
        for group in &groups {
            let group = &catalog.groups[*group];
            self.assignment(
                ids,
                &id,
                catalog.sets[group.aggregate].id.clone(),
                Some(group.id.clone()),
            );
        }

        let mut needed: BTreeSet<usize> = direct
            .iter()
            .filter_map(|s| catalog.sets[*s].license)
            .collect();
        for group in &groups {
            needed.extend(
                catalog.groups[*group]
                    .members
                    .iter()
                    .filter_map(|s| catalog.sets[*s].license),
            );
        }
        let orphan_psl = if orphan {
            let candidates: Vec<usize> = (2..catalog.psls.len())
                .filter(|p| catalog.psls[*p].active && !needed.contains(p))
                .collect();
            (!candidates.is_empty()).then(|| candidates[rng.below(candidates.len())])
        } else {
            None
        };
        let mut seats: Vec<usize> = needed.iter().copied().collect();
        seats.extend(orphan_psl);
        seats.sort_unstable();
        // The two Voice licenses come first in the catalog.
        if seats.iter().any(|p| *p < 2) {
            self.seat_holders.push(idle::SeatHolder {
                id: id.clone(),
                active,
            });
        }
        for psl in seats {
            let seat_id = ids.next("2LA");
            self.license_assignments.push(record([
                ("Id", seat_id.clone().into()),
                ("AssigneeId", id.clone().into()),
                (
                    "PermissionSetLicenseId",
                    catalog.psls[psl].id.clone().into(),
                ),
            ]));
            self.used[psl] += 1;
            if Some(psl) == orphan_psl {
                self.orphans_per_psl[psl] += 1;
                self.expected
                    .orphan_psl_assignment_ids
                    .push(seat_id.clone());
                if !active {
                    self.expected
                        .orphan_psl_assignment_ids_inactive
                        .push(seat_id);
                }
            }
        }
    }

    /// Everyday sets and groups besides the contact-center ones.
    fn extras(
        &self,
        role: Role,
        profile_key: &str,
        direct: &mut BTreeSet<usize>,
        groups: &mut BTreeSet<usize>,
        rng: &mut Rng,
    ) {
        let catalog = self.catalog;
        let agent = role != Role::Other;
        let licensed_count = if agent {
            rng.weighted(&[50, 40, 10])
        } else {
            rng.weighted(&[35, 40, 20, 5])
        };
        for _ in 0..licensed_count {
            let pick = catalog.other_licensed[rng.weighted(&catalog.other_licensed_weights)];
            direct.insert(pick);
        }
        for _ in 0..rng.weighted(&[30, 45, 25]) {
            direct.insert(catalog.custom_pool[rng.below(catalog.custom_pool.len())]);
        }
        if agent {
            direct.insert(catalog.set("Service_Console_Users"));
        }
        if rng.chance(0.15) {
            let group = match (agent, profile_key) {
                (true, _) => ["Service_Core", "Read_Only_Basics"][rng.below(2)],
                (false, "sales" | "sales_manager") => "Sales_Core",
                (false, "service" | "service_manager") => "Service_Core",
                _ => "Read_Only_Basics",
            };
            groups.insert(catalog.group(group));
        }
    }

    fn assignment(&mut self, ids: &mut IdFactory, user: &str, set: String, group: Option<String>) {
        self.assignments.push(record([
            ("Id", ids.next("0Pa").into()),
            ("AssigneeId", user.into()),
            ("PermissionSetId", set.into()),
            ("PermissionSetGroupId", group.into()),
        ]));
    }

    fn finish(
        mut self,
        seed: u64,
        users: usize,
        fraction: f64,
        calls: Vec<Value>,
        rng: &mut Rng,
    ) -> Generated {
        let catalog = self.catalog;
        // Every license keeps some free seats: used never exceeds total.
        let totals: Vec<u64> = self
            .used
            .iter()
            .zip(&catalog.psls)
            .map(|(used, psl)| {
                if !psl.active {
                    0
                } else if *used == 0 {
                    rng.between(10, 60)
                } else {
                    used + 2 + used / 20 + rng.between(0, used / 50 + 5)
                }
            })
            .collect();
        let (groups, components) = catalog.group_records();

        let mut expected = std::mem::take(&mut self.expected);
        expected.seed = seed;
        expected.users = users;
        expected.affected_fraction = fraction;
        expected.double_consumption_user_ids.sort();
        expected.double_consumption_inactive_user_ids.sort();
        expected.double_consumption_via_group_user_ids.sort();
        expected.orphan_psl_assignment_ids.sort();
        expected.orphan_psl_assignment_ids_inactive.sort();
        expected.psl_counts = catalog
            .psls
            .iter()
            .enumerate()
            .map(|(i, psl)| PslCount {
                developer_name: psl.developer_name.to_string(),
                id: psl.id.clone(),
                total: totals[i],
                used: self.used[i],
                orphans: self.orphans_per_psl[i],
                double_consumption: if i == 0 { self.double_consumed } else { 0 },
            })
            .collect();
        let pop = &mut expected.population;
        pop.permission_sets = catalog.sets.len();
        pop.permission_set_groups = catalog.groups.len();
        pop.permission_set_licenses = catalog.psls.len();
        pop.call_centers = catalog.centers.len();
        pop.permission_set_assignments = self.assignments.len();
        pop.license_assignments = self.license_assignments.len();
        pop.voice_calls = calls.len();

        let mut root = Map::new();
        root.insert("_org".into(), self.org_section(seed, users));
        let user_licenses = catalog.user_license_records(&self.users);
        root.insert("User".into(), Value::Array(self.users));
        root.insert("UserLicense".into(), Value::Array(user_licenses));
        root.insert("PermissionSet".into(), Value::Array(catalog.set_records()));
        root.insert(
            "ObjectPermissions".into(),
            Value::Array(catalog.object_permission_records()),
        );
        root.insert(
            "PermissionSetLicense".into(),
            Value::Array(catalog.psl_records(&totals)),
        );
        root.insert(
            "PermissionSetAssignment".into(),
            Value::Array(self.assignments),
        );
        root.insert(
            "PermissionSetLicenseAssign".into(),
            Value::Array(self.license_assignments),
        );
        root.insert("PermissionSetGroup".into(), Value::Array(groups));
        root.insert(
            "PermissionSetGroupComponent".into(),
            Value::Array(components),
        );
        root.insert(
            "CallCenter".into(),
            Value::Array(catalog.centers.iter().map(|c| c.record.clone()).collect()),
        );
        root.insert("VoiceCall".into(), Value::Array(calls));
        Generated {
            fixture: Value::Object(root),
            expected,
        }
    }

    fn org_section(&self, seed: u64, users: usize) -> Value {
        let mut org_ids = IdFactory::new(seed ^ 0x00D0_00D0);
        let user = &self.integration_username;
        json!({
            "organization_id": org_ids.next("00D"),
            "name": format!("Generated SCV org ({users} users, seed {seed})"),
            "is_sandbox": false,
            "organization_type": "Enterprise Edition",
            // Enterprise Edition: 100 000 a day plus 1 000 per user license.
            "daily_api_limit": 100_000u64.saturating_add(1_000u64.saturating_mul(users as u64)),
            "session_timeout_seconds": 7200,
            "integration_user": user,
            "voice_auto_assign": {"enabled": true, "permission_set": VOICE_PERMISSION_SET},
            "auto_remove_psl_on_unassign": true,
            "connected_app": {
                "consumer_key": DEMO_CONSUMER_KEY,
                "client_secret": DEMO_CLIENT_SECRET,
                "jwt_public_key": DEMO_JWT_PUBLIC_KEY,
                "refresh_tokens": {DEMO_REFRESH_TOKEN: user},
                "client_credentials_user": user,
            },
        })
    }
}

/// Every user's role, the integration user first and the others shuffled so that ids say
/// nothing about roles.
fn plan_roles(count: usize, fraction: f64, rng: &mut Rng) -> Vec<Role> {
    let share = |s: f64| (count as f64 * s).round() as usize;
    let mut left = count.saturating_sub(1);
    let mut take = |n: usize| {
        let n = n.min(left);
        left -= n;
        n
    };
    let affected = take(share(fraction));
    let dual = take(if count >= 50 {
        share(DUAL_SHARE).max(1)
    } else {
        0
    });
    let amazon = take(share(AMAZON_SHARE));
    let partner = take(share(PARTNER_SHARE));
    let other = take(usize::MAX);

    let inactive_affected = match affected {
        0..=2 => 0,
        n => (n / 10).max(1),
    };
    let via_group_affected = match affected {
        0..=1 => 0,
        n => (n / 5).max(1),
    };
    let mut roles = Vec::with_capacity(count);
    for j in 0..affected {
        roles.push(Role::Affected {
            inactive: j < inactive_affected,
            voice_via_group: j >= affected - via_group_affected,
        });
    }
    roles.extend(std::iter::repeat_n(Role::Dual, dual));
    roles.extend(std::iter::repeat_n(Role::Amazon, amazon));
    roles.extend(std::iter::repeat_n(Role::Partner, partner));
    roles.extend(std::iter::repeat_n(Role::Other, other));
    rng.shuffle(&mut roles);
    roles.insert(0, Role::Integration);
    roles.truncate(count);
    roles
}

/// Indexes of the users who get a planted orphan license assignment: about one in a thousand,
/// at least three in orgs of ten users or more; never the integration user.
fn plan_orphans(roles: &[Role], rng: &mut Rng) -> BTreeSet<usize> {
    let count = roles.len();
    let wanted = if count >= 10 {
        (count / 1000).max(3)
    } else {
        0
    };
    let mut candidates: Vec<usize> = (1..count).collect();
    rng.shuffle(&mut candidates);
    candidates.into_iter().take(wanted).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Org;
    use std::collections::{BTreeMap, BTreeSet};

    fn small(seed: u64) -> GenerateOptions {
        GenerateOptions {
            users: 2_000,
            seed,
            affected_fraction: 0.02,
            voice_calls: 0,
        }
    }

    fn records<'a>(fixture: &'a Value, object: &str) -> &'a [Value] {
        fixture
            .get(object)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn text<'a>(record: &'a Value, field: &str) -> Option<&'a str> {
        record.get(field).and_then(Value::as_str)
    }

    fn load(generated: &Generated) -> Org {
        let mut json = Vec::new();
        write_fixture(&generated.fixture, &mut json).expect("writing to memory");
        let json = String::from_utf8(json).expect("JSON is UTF-8");
        Org::from_fixture_str(&json, Path::new(".")).expect("the generated fixture is valid")
    }

    /// Recounts DOMAIN.md §1 and the orphan definition straight from the records, without the
    /// generator's own bookkeeping.
    struct Recount {
        double_consumption: Vec<String>,
        orphans: Vec<String>,
        used: BTreeMap<String, u64>,
    }

    fn recount(fixture: &Value) -> Recount {
        let psl_by_name: BTreeMap<&str, &str> = records(fixture, "PermissionSetLicense")
            .iter()
            .filter_map(|r| Some((text(r, "DeveloperName")?, text(r, "Id")?)))
            .collect();
        let voice_psl = psl_by_name[VOICE_PSL];
        let partner_psl = psl_by_name[PARTNER_PSL];
        let license_of: BTreeMap<&str, &str> = records(fixture, "PermissionSet")
            .iter()
            .filter_map(|r| Some((text(r, "Id")?, text(r, "LicenseId")?)))
            .collect();
        let set_named = |name: &str| {
            records(fixture, "PermissionSet")
                .iter()
                .find(|r| text(r, "Name") == Some(name))
                .and_then(|r| text(r, "Id"))
                .expect("the set exists")
        };
        let voice_set = set_named(VOICE_PERMISSION_SET);
        let amazon_sets: BTreeSet<&str> = AMAZON_SETS
            .iter()
            .map(|n| set_named(n))
            .filter(|id| license_of.get(id) == Some(&voice_psl))
            .collect();
        let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in records(fixture, "PermissionSetGroupComponent") {
            members
                .entry(text(c, "PermissionSetGroupId").expect("group"))
                .or_default()
                .push(text(c, "PermissionSetId").expect("set"));
        }
        let mut held: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for a in records(fixture, "PermissionSetAssignment") {
            let user = held
                .entry(text(a, "AssigneeId").expect("assignee"))
                .or_default();
            user.extend(text(a, "PermissionSetId"));
            if let Some(group) = text(a, "PermissionSetGroupId") {
                user.extend(members.get(group).into_iter().flatten());
            }
        }
        let mut seats: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut used: BTreeMap<String, u64> = BTreeMap::new();
        let mut orphans = Vec::new();
        let name_of: BTreeMap<&str, &str> = psl_by_name.iter().map(|(n, id)| (*id, *n)).collect();
        for s in records(fixture, "PermissionSetLicenseAssign") {
            let user = text(s, "AssigneeId").expect("assignee");
            let psl = text(s, "PermissionSetLicenseId").expect("license");
            seats.entry(user).or_default().insert(psl);
            *used.entry(name_of[psl].to_string()).or_default() += 1;
            let needed = held
                .get(user)
                .into_iter()
                .flatten()
                .any(|set| license_of.get(set) == Some(&psl));
            if !needed {
                orphans.push(text(s, "Id").expect("id").to_string());
            }
        }
        let mut double_consumption: Vec<String> = records(fixture, "User")
            .iter()
            .filter_map(|u| text(u, "Id"))
            .filter(|user| {
                let sets = held.get(user).cloned().unwrap_or_default();
                let licenses = seats.get(user).cloned().unwrap_or_default();
                sets.contains(voice_set)
                    && licenses.contains(partner_psl)
                    && licenses.contains(voice_psl)
                    && sets.is_disjoint(&amazon_sets)
            })
            .map(str::to_string)
            .collect();
        double_consumption.sort();
        orphans.sort();
        Recount {
            double_consumption,
            orphans,
            used,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_org_and_another_seed_another() {
        let a = generate(&small(7));
        let b = generate(&small(7));
        assert_eq!(a.fixture, b.fixture);
        assert_eq!(a.expected, b.expected);
        let c = generate(&small(8));
        assert_ne!(a.fixture, c.fixture);
    }

    #[test]
    fn the_generated_org_loads_in_the_simulator() {
        let generated = generate(&GenerateOptions {
            voice_calls: 500,
            ..small(1)
        });
        let org = load(&generated);
        assert_eq!(org.records("User").len(), 2_000);
        assert_eq!(org.records("VoiceCall").len(), 500);
        let settings = org.settings();
        assert!(settings.voice_auto_assign.enabled);
        assert!(settings.integration_user.is_some());
    }

    #[test]
    fn seats_used_match_the_summary_and_stay_within_totals() {
        let generated = generate(&small(2));
        let org = load(&generated);
        assert!(generated.expected.psl_counts.len() >= 20);
        for count in &generated.expected.psl_counts {
            let used = org.used_licenses(&count.developer_name);
            let total = org.total_licenses(&count.developer_name);
            assert_eq!(used, Some(count.used), "{}", count.developer_name);
            assert_eq!(total, Some(count.total), "{}", count.developer_name);
            assert!(count.used <= count.total, "{count:?}");
        }
    }

    #[test]
    fn planted_findings_match_a_recount_of_the_records() {
        let generated = generate(&small(3));
        let expected = &generated.expected;
        let recount = recount(&generated.fixture);
        assert_eq!(
            recount.double_consumption,
            expected.double_consumption_user_ids
        );
        assert_eq!(recount.orphans, expected.orphan_psl_assignment_ids);
        for count in &expected.psl_counts {
            let used = recount
                .used
                .get(&count.developer_name)
                .copied()
                .unwrap_or(0);
            assert_eq!(used, count.used, "{}", count.developer_name);
        }
        // 2% of 2 000, some inactive, some through the group; a few orphans.
        assert_eq!(expected.double_consumption_user_ids.len(), 40);
        assert!(!expected.double_consumption_inactive_user_ids.is_empty());
        assert!(!expected.double_consumption_via_group_user_ids.is_empty());
        assert!(!expected.orphan_psl_assignment_ids.is_empty());
    }

    #[test]
    fn users_with_both_amazon_and_partner_sets_hold_both_seats_and_are_not_planted() {
        let generated = generate(&small(4));
        let fixture = &generated.fixture;
        let id_of = |name: &str| {
            records(fixture, "PermissionSet")
                .iter()
                .find(|r| text(r, "Name") == Some(name))
                .and_then(|r| text(r, "Id"))
                .expect("catalog set")
                .to_string()
        };
        let amazon: BTreeSet<String> = AMAZON_SETS.iter().map(|n| id_of(n)).collect();
        let partner: BTreeSet<String> = PARTNER_SETS.iter().map(|n| id_of(n)).collect();
        let mut direct: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for a in records(fixture, "PermissionSetAssignment") {
            if let (Some(user), Some(set)) = (text(a, "AssigneeId"), text(a, "PermissionSetId")) {
                direct.entry(user).or_default().insert(set.to_string());
            }
        }
        let voice_licenses: Vec<&str> = generated.expected.psl_counts[..2]
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        let mut voice_seats: BTreeMap<&str, usize> = BTreeMap::new();
        for seat in records(fixture, "PermissionSetLicenseAssign") {
            let psl = text(seat, "PermissionSetLicenseId").unwrap_or_default();
            if voice_licenses.contains(&psl) {
                *voice_seats
                    .entry(text(seat, "AssigneeId").unwrap_or_default())
                    .or_default() += 1;
            }
        }
        let dual: Vec<&str> = direct
            .iter()
            .filter(|(_, sets)| !sets.is_disjoint(&amazon) && !sets.is_disjoint(&partner))
            .map(|(user, _)| *user)
            .collect();
        assert_eq!(dual.len(), generated.expected.population.dual_agents);
        assert!(!dual.is_empty());
        for user in dual {
            assert_eq!(
                voice_seats.get(user),
                Some(&2),
                "{user} needs both Voice seats"
            );
            assert!(
                !generated
                    .expected
                    .double_consumption_user_ids
                    .iter()
                    .any(|id| id == user)
            );
        }
    }

    #[test]
    fn the_voice_set_is_the_only_other_set_on_the_voice_license() {
        // So a scan can find it without configuration (DOMAIN.md §1).
        let generated = generate(&small(5));
        let voice_psl = &generated.expected.psl_counts[0];
        assert_eq!(voice_psl.developer_name, VOICE_PSL);
        let mut on_voice: Vec<&str> = records(&generated.fixture, "PermissionSet")
            .iter()
            .filter(|r| text(r, "LicenseId") == Some(voice_psl.id.as_str()))
            .filter_map(|r| text(r, "Name"))
            .filter(|name| !AMAZON_SETS.contains(name))
            .collect();
        on_voice.sort_unstable();
        assert_eq!(on_voice, vec![VOICE_PERMISSION_SET]);
    }

    #[test]
    fn profile_sets_are_tied_to_user_licenses_not_psls() {
        let generated = generate(&small(5));
        let user_licenses: BTreeSet<&str> = records(&generated.fixture, "UserLicense")
            .iter()
            .filter_map(|r| text(r, "Id"))
            .collect();
        assert_eq!(user_licenses.len(), USER_LICENSES.len());
        let profile_sets: Vec<&Value> = records(&generated.fixture, "PermissionSet")
            .iter()
            .filter(|r| r["IsOwnedByProfile"] == true)
            .collect();
        assert_eq!(profile_sets.len(), PROFILES.len());
        for set in profile_sets {
            let license = text(set, "LicenseId").expect("a profile set has a license");
            assert!(user_licenses.contains(license), "{set}");
        }
    }

    #[test]
    fn voice_calls_do_not_change_the_rest_of_the_org() {
        let without = generate(&small(6));
        let with = generate(&GenerateOptions {
            voice_calls: 100,
            ..small(6)
        });
        // Seats and the planted findings are exactly the same.
        assert_eq!(
            records(&without.fixture, "PermissionSetLicenseAssign"),
            records(&with.fixture, "PermissionSetLicenseAssign")
        );
        let (a, b) = (&without.expected, &with.expected);
        assert_eq!(a.double_consumption_user_ids, b.double_consumption_user_ids);
        assert_eq!(
            a.double_consumption_inactive_user_ids,
            b.double_consumption_inactive_user_ids
        );
        assert_eq!(
            a.double_consumption_via_group_user_ids,
            b.double_consumption_via_group_user_ids
        );
        assert_eq!(a.orphan_psl_assignment_ids, b.orphan_psl_assignment_ids);
        assert_eq!(
            a.orphan_psl_assignment_ids_inactive,
            b.orphan_psl_assignment_ids_inactive
        );
        assert_eq!(a.psl_counts, b.psl_counts);
        let recounted = recount(&with.fixture);
        assert_eq!(recounted.double_consumption, b.double_consumption_user_ids);
        assert_eq!(recounted.orphans, b.orphan_psl_assignment_ids);
        // Users keep every field but gain their login and creation dates; the assignments
        // before the exceptions' are the same records.
        let strip = |users: &[Value]| -> Vec<Value> {
            users
                .iter()
                .map(|u| {
                    let mut u = u.clone();
                    if let Value::Object(m) = &mut u {
                        m.remove("LastLoginDate");
                        m.remove("CreatedDate");
                    }
                    u
                })
                .collect()
        };
        assert_eq!(
            strip(records(&without.fixture, "User")),
            strip(records(&with.fixture, "User"))
        );
        let before = records(&without.fixture, "PermissionSetAssignment");
        assert_eq!(
            before,
            &records(&with.fixture, "PermissionSetAssignment")[..before.len()]
        );
        assert_eq!(records(&with.fixture, "VoiceCall").len(), 100);
        // Without voice calls, nothing about idle seats is planted or listed.
        assert!(a.idle_voice_seat_user_ids.is_empty() && a.as_of.is_none());
        assert!(
            records(&without.fixture, "User")
                .iter()
                .all(|u| u.get("LastLoginDate").is_none())
        );
    }

    #[test]
    fn out_of_range_options_are_refused_with_the_flag_named() {
        let bad = GenerateOptions {
            affected_fraction: 0.5,
            ..small(1)
        };
        let err = bad.validate().expect_err("0.5 is out of range");
        assert!(err.to_string().contains("--affected-fraction 0.5"), "{err}");
        let none = GenerateOptions {
            users: 0,
            ..small(1)
        };
        assert!(matches!(none.validate(), Err(GenerateError::NoUsers)));
    }

    #[test]
    fn out_writes_the_fixture_and_the_expected_summary_beside_it() {
        let dir = std::env::temp_dir().join(format!("sfsim-generate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("org.json");
        let opts = GenerateOptions {
            users: 50,
            ..small(9)
        };
        generate_to(&opts, Some(&out)).expect("written");
        let org = Org::from_fixture_file(&out).expect("the written fixture loads");
        assert_eq!(org.records("User").len(), 50);
        let summary = std::fs::read_to_string(dir.join("org.json.expected.json")).expect("summary");
        let summary: Expected = serde_json::from_str(&summary).expect("summary is JSON");
        assert_eq!(summary, generate(&opts).expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tiny_orgs_still_load() {
        for users in [1, 2, 5, 49] {
            let generated = generate(&GenerateOptions { users, ..small(10) });
            let org = load(&generated);
            assert_eq!(org.records("User").len(), users);
            assert_eq!(
                recount(&generated.fixture).double_consumption,
                generated.expected.double_consumption_user_ids
            );
        }
    }
}
