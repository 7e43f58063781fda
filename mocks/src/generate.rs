//! `sfsim generate`: realistic large simulated Service Cloud Voice orgs for pslwarden's scan
//! benchmark and scale tests, with an exact list of what was planted in them.
//!
//! Owns the generator (population shares; the catalog of permission set licenses, permission
//! sets, groups, profiles and contact centers; users and their assignments; voice calls), the
//! [`Expected`] summary of planted findings, and writing a fixture one record a line.
//!
//! Must not: validate or load fixtures (that is `fixture`'s job; the tests prove the output valid
//! by loading it into an [`Org`](crate::Org)), read the clock, the environment or the network.
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

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::faults::SplitMix64;
use crate::ids;
use crate::values;

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

/// Monday 2026-01-05 00:00 UTC: voice calls fall in the four weeks after it.
const CALLS_EPOCH: i64 = 1_767_571_200;

/// The consumer key, secret and refresh token of the seed fixture's demo connected app, so the
/// same pslwarden configuration signs in to a generated org.
const DEMO_CONSUMER_KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
const DEMO_CLIENT_SECRET: &str = "demo-only-client-secret";
const DEMO_REFRESH_TOKEN: &str = "5Aep861demoOnlyRefreshToken";
/// Inlined so a generated fixture works wherever it is written.
const DEMO_JWT_PUBLIC_KEY: &str = include_str!("../keys/demo-only-jwt-public.pem");

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
}

/// Builds an org in memory. Options out of range are brought into range (users at least 1 and
/// at most [`MAX_USERS`], the fraction into 0..=[`MAX_AFFECTED_FRACTION`]); call
/// [`GenerateOptions::validate`] first to refuse them instead.
pub fn generate(opts: &GenerateOptions) -> Generated {
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
    let calls = if opts.voice_calls > 0 {
        let mut calls_rng = Rng::new(opts.seed ^ STREAM_CALLS);
        voice_calls(
            opts.voice_calls,
            &builder.agents,
            &catalog,
            &mut calls_rng,
            &mut ids,
        )
    } else {
        Vec::new()
    };
    builder.finish(opts.seed, users, fraction, calls, &mut rng)
}

/// Validates the options, generates, and writes: with `out`, the fixture to `out` and the
/// expected summary to `out` + `.expected.json`; without, the fixture to standard output and
/// the summary to standard error. Returns a one-line summary for the terminal.
pub fn generate_to(opts: &GenerateOptions, out: Option<&Path>) -> Result<String, GenerateError> {
    opts.validate()?;
    let generated = generate(opts);
    let summary = summary_line(&generated.expected);
    match out {
        Some(path) => {
            write_file(path, |w| write_fixture(&generated.fixture, w))?;
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
            write_fixture(&generated.fixture, &mut lock)
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
    format!(
        "{} users ({} inactive): {} Amazon agents, {} partner agents, {} with both, {} planted \
         double consumption ({} inactive, {} through a group), {} planted orphan PSL \
         assignments, {} voice calls",
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

/// splitmix64 with the few draws the generator needs.
struct Rng {
    /// The stream.
    inner: SplitMix64,
}

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng {
            inner: SplitMix64::new(seed),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in 0..n (0 when n is 0); the modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in lo..=hi.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi.saturating_sub(lo) + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.inner.next_f64() < p
    }

    /// An index drawn with the given weights (the last one when they are all zero).
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return weights.len().saturating_sub(1);
        }
        let mut roll = self.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if roll < w {
                return i;
            }
            roll -= w;
        }
        weights.len() - 1
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Hands out valid 18-character ids: key prefix, a fixed pod-like "Hu0", then a 9-digit base-62
/// sequence per prefix that starts at a seed-dependent offset (so orgs of different seeds do not
/// share ids), then the checksum suffix. The sim's own new ids (`…5Sim…`) cannot collide.
struct IdFactory {
    /// Next sequence number per key prefix.
    next: BTreeMap<&'static str, u64>,
    /// Where every sequence starts.
    base: u64,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl IdFactory {
    fn new(seed: u64) -> IdFactory {
        let mut mix = SplitMix64::new(seed);
        // Leaves room for 62^8 ids per prefix before the 9 digits run out.
        let base = 62u64.pow(8) + mix.next_u64() % (40 * 62u64.pow(8));
        IdFactory {
            next: BTreeMap::new(),
            base,
        }
    }

    fn next(&mut self, prefix: &'static str) -> String {
        let n = self.next.entry(prefix).or_insert(0);
        let mut id = String::with_capacity(18);
        id.push_str(prefix);
        id.push_str("Hu0");
        push_base62_9(&mut id, self.base + *n);
        *n += 1;
        let suffix = ids::checksum_suffix(&id);
        id.push_str(&suffix);
        id
    }
}

/// Appends nine base-62 digits of `n` (mod 62^9).
fn push_base62_9(out: &mut String, mut n: u64) {
    let mut digits = [b'0'; 9];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.extend(digits.iter().map(|d| char::from(*d)));
}

/// One permission set license of the catalog.
struct PslDef {
    /// Record id.
    id: String,
    /// `DeveloperName`.
    developer_name: &'static str,
    /// `MasterLabel`.
    label: &'static str,
    /// `Status`: a disabled license has no sets handed out.
    active: bool,
    /// `ExpirationDate`.
    expiration: Option<&'static str>,
}

/// One permission set of the catalog.
struct SetDef {
    /// Record id.
    id: String,
    /// `Name`.
    name: String,
    /// `Label`.
    label: String,
    /// Index into `Catalog::psls` of its `LicenseId`, if licensed.
    license: Option<usize>,
    /// Owned by a profile (`IsOwnedByProfile`): every user holds their profile's.
    profile_owned: bool,
    /// Index into `Catalog::groups` when this is a group's aggregated set.
    group: Option<usize>,
    /// `NamespacePrefix` of managed-package sets.
    namespace: Option<&'static str>,
    /// `IsCustom`: created by the admin rather than shipped by Salesforce or a package.
    custom: bool,
}

/// One permission set group of the catalog.
struct GroupDef {
    /// Record id.
    id: String,
    /// `DeveloperName`.
    developer_name: &'static str,
    /// `MasterLabel`.
    label: &'static str,
    /// Indexes into `Catalog::sets` of its components.
    members: Vec<usize>,
    /// `PermissionSetGroupComponent` ids, one per member.
    component_ids: Vec<String>,
    /// Index into `Catalog::sets` of its aggregated set (what a group assignment points at).
    aggregate: usize,
}

/// One profile (not a record: the sim has no Profile object, only `ProfileId` values).
struct ProfileDef {
    /// The `ProfileId` value.
    id: String,
    /// Index into `Catalog::sets` of its profile-owned set.
    set: usize,
}

/// Which region a contact center serves: drives users' time zones and call hours.
#[derive(Clone, Copy)]
enum Region {
    Emea,
    NorthAmerica,
    Apac,
}

impl Region {
    fn time_zones(self) -> &'static [&'static str] {
        match self {
            Region::Emea => &["Europe/London", "Europe/Berlin", "Europe/Paris"],
            Region::NorthAmerica => &["America/New_York", "America/Chicago", "America/Los_Angeles"],
            Region::Apac => &["Asia/Singapore", "Australia/Sydney", "Asia/Tokyo"],
        }
    }

    /// Hours to add to local business hours to get UTC (roughly).
    fn utc_shift_hours(self) -> i64 {
        match self {
            Region::Emea => 0,
            Region::NorthAmerica => 5,
            Region::Apac => -8,
        }
    }
}

/// One contact center of the catalog.
struct CenterDef {
    /// Record id.
    id: String,
    /// Amazon Connect (true) or partner telephony.
    amazon: bool,
    /// Where its agents sit.
    region: Region,
    /// Its queues, for `VoiceCall.QueueName`.
    queues: &'static [&'static str],
    /// Its published number, for `VoiceCall` from/to numbers.
    number: String,
    /// The record.
    record: Value,
}

/// Everything that is not per user: licenses, sets, groups, profiles, contact centers.
struct Catalog {
    /// Licenses, the two Voice ones first.
    psls: Vec<PslDef>,
    /// All permission sets.
    sets: Vec<SetDef>,
    /// Set index by `Name`.
    by_name: BTreeMap<String, usize>,
    /// Permission set groups.
    groups: Vec<GroupDef>,
    /// Group index by `DeveloperName`.
    group_by_name: BTreeMap<&'static str, usize>,
    /// Profiles by role.
    profiles: BTreeMap<&'static str, ProfileDef>,
    /// Contact centers.
    centers: Vec<CenterDef>,
    /// Indexes into `centers` of the Amazon Connect ones, in `AMAZON_CENTER_WEIGHTS` order.
    amazon_centers: Vec<usize>,
    /// Indexes into `centers` of the partner ones, in `PARTNER_CENTER_WEIGHTS` order.
    partner_centers: Vec<usize>,
    /// Weights of `OTHER_PROFILES`, drawn once per ordinary user.
    other_profile_weights: Vec<u32>,
    /// Licensed sets of the non-Voice licenses, for ordinary users.
    other_licensed: Vec<usize>,
    /// Their weights (their license's popularity).
    other_licensed_weights: Vec<u32>,
    /// Unlicensed custom sets, for everyone.
    custom_pool: Vec<usize>,
}

/// A non-Voice permission set license of the catalog and its licensed sets.
struct OtherPsl {
    /// `DeveloperName`.
    developer_name: &'static str,
    /// `MasterLabel`.
    label: &'static str,
    /// How often ordinary users get one of its sets (0: bought, unused).
    weight: u32,
    /// `Status` Active (or Disabled: nobody is given its sets).
    active: bool,
    /// `ExpirationDate`.
    expiration: Option<&'static str>,
    /// Its licensed sets: (`Name`, `Label`).
    sets: &'static [(&'static str, &'static str)],
    /// `NamespacePrefix` of its sets (managed packages).
    namespace: Option<&'static str>,
}

/// Shorthand for the table below: an active, non-expiring, unnamespaced license.
const fn psl(
    developer_name: &'static str,
    label: &'static str,
    weight: u32,
    sets: &'static [(&'static str, &'static str)],
) -> OtherPsl {
    OtherPsl {
        developer_name,
        label,
        weight,
        active: true,
        expiration: None,
        sets,
        namespace: None,
    }
}

impl OtherPsl {
    const fn expires(self, date: &'static str) -> OtherPsl {
        OtherPsl {
            expiration: Some(date),
            ..self
        }
    }
    const fn disabled(self) -> OtherPsl {
        OtherPsl {
            active: false,
            ..self
        }
    }
    const fn namespace(self, namespace: &'static str) -> OtherPsl {
        OtherPsl {
            namespace: Some(namespace),
            ..self
        }
    }
}

#[rustfmt::skip]
const OTHER_PSLS: &[OtherPsl] = &[
    psl("SalesConsoleUser", "Sales Console User", 40,
        &[("Sales_Console_Access", "Sales Console Access"),
          ("Sales_Console_Power_User", "Sales Console Power User")]),
    psl("KnowledgeUserPsl", "Knowledge User", 35,
        &[("Knowledge_Reader", "Knowledge Reader"), ("Knowledge_Author", "Knowledge Author"),
          ("Knowledge_Publisher", "Knowledge Publisher")]),
    psl("LiveAgentUserPsl", "Chat User", 20,
        &[("Chat_Agent", "Chat Agent"), ("Chat_Supervisor", "Chat Supervisor")]),
    psl("SalesforceMessagingUserPsl", "Messaging User", 18,
        &[("Messaging_Agent", "Messaging Agent")]).expires("2027-03-31"),
    psl("DigitalEngagementPsl", "Digital Engagement User", 10,
        &[("Digital_Engagement_Agent", "Digital Engagement Agent")]).expires("2027-03-31"),
    psl("ServiceCloudEinsteinPsl", "Service Cloud Einstein", 12,
        &[("Einstein_Case_Classification", "Einstein Case Classification"),
          ("Einstein_Reply_Recommendations", "Einstein Reply Recommendations")])
        .expires("2026-12-31"),
    psl("EinsteinAnalyticsPlusPsl", "CRM Analytics Plus", 8,
        &[("CRM_Analytics_Plus_User", "CRM Analytics Plus User"),
          ("CRM_Analytics_Plus_Admin", "CRM Analytics Plus Admin")]).expires("2027-06-30"),
    psl("EinsteinAnalyticsGrowthPsl", "CRM Analytics Growth", 6,
        &[("CRM_Analytics_Growth_User", "CRM Analytics Growth User")]).expires("2027-06-30"),
    psl("SalesEngagementPsl", "Sales Engagement", 15,
        &[("Sales_Engagement_User", "Sales Engagement User"),
          ("Sales_Engagement_Cadence_Creator", "Sales Engagement Cadence Creator")]),
    psl("EinsteinActivityCapturePsl", "Einstein Activity Capture", 14,
        &[("Einstein_Activity_Capture_Standard", "Einstein Activity Capture Standard")]),
    psl("SalesforceCPQ_CPQStandardPerm", "Salesforce CPQ License", 9,
        &[("SteelBrickCPQUser", "Salesforce CPQ User"), ("SteelBrickCPQAdmin", "Salesforce CPQ Admin")])
        .expires("2026-10-31").namespace("SBQQ"),
    psl("FieldServiceStandardPsl", "Field Service Standard", 7,
        &[("Field_Service_Dispatcher", "Field Service Dispatcher"),
          ("Field_Service_Resource", "Field Service Resource")]),
    psl("FieldServiceMobilePsl", "Field Service Mobile", 5,
        &[("Field_Service_Mobile_User", "Field Service Mobile User")]),
    psl("SurveyCreatorPsl", "Salesforce Surveys Creator", 4, &[("Survey_Creator", "Survey Creator")]),
    psl("EinsteinBotsPsl", "Einstein Bots", 2, &[("Bot_Builder", "Bot Builder")]),
    psl("WorkforceEngagementPsl", "Workforce Engagement Management", 6,
        &[("WEM_Planner", "WEM Planner"), ("WEM_Agent", "WEM Agent")]).expires("2027-01-31"),
    psl("ConversationInsightsPsl", "Conversation Insights", 5,
        &[("Conversation_Insights_User", "Conversation Insights User")]),
    psl("EinsteinForSalesPsl", "Einstein for Sales", 3,
        &[("Einstein_Sales_Email", "Einstein Sales Email")]).expires("2026-09-30"),
    psl("IdentityConnect", "Identity Connect", 3, &[("Identity_Connect_User", "Identity Connect User")]),
    psl("SalesforceSchedulerPsl", "Salesforce Scheduler", 2,
        &[("Scheduler_Resource", "Scheduler Resource")]),
    // Bought and never used; and one switched off.
    psl("OrderManagementPsl", "Order Management", 0, &[("Order_Manager", "Order Manager")])
        .expires("2027-12-31"),
    psl("EventMonitoringAnalyticsPsl", "Event Monitoring Analytics", 0,
        &[("Event_Monitoring_Viewer", "Event Monitoring Viewer")]).expires("2025-06-30").disabled(),
];

/// Subjects and actions of the unlicensed custom sets (`Case_Edit`...).
#[rustfmt::skip]
const CUSTOM_SUBJECTS: &[&str] = &[
    "Account", "Contact", "Lead", "Opportunity", "Case", "Quote", "Contract", "Order", "Campaign",
    "Knowledge", "Report", "Dashboard", "Entitlement", "WorkOrder", "Asset", "Product",
    "PriceBook", "Task", "Event", "Survey", "LiveChat", "Messaging", "EmailTemplate", "Macro",
    "QuickText", "VoiceCall",
];
const CUSTOM_ACTIONS: &[&str] = &["Read", "Edit", "Manage", "Export", "Admin"];

/// Profiles by role: (key, profile name).
const PROFILES: &[(&str, &str)] = &[
    ("integration", "Integration User"),
    ("admin", "System Administrator"),
    ("cc_agent", "Custom: Contact Center Agent"),
    ("cc_supervisor", "Custom: Contact Center Supervisor"),
    ("sales", "Custom: Sales Rep"),
    ("sales_manager", "Custom: Sales Manager"),
    ("service", "Custom: Service Agent"),
    ("service_manager", "Custom: Support Manager"),
    ("marketing", "Custom: Marketing User"),
    ("field", "Custom: Field Service"),
    ("standard", "Standard User"),
    ("read_only", "Read Only"),
];
/// Profiles of ordinary users, with weights.
const OTHER_PROFILES: &[(&str, u32)] = &[
    ("sales", 30),
    ("sales_manager", 5),
    ("service", 25),
    ("service_manager", 4),
    ("marketing", 8),
    ("field", 6),
    ("standard", 15),
    ("read_only", 5),
    ("admin", 2),
];

/// Groups: DeveloperName, label, component set names.
#[rustfmt::skip]
const GROUPS: &[(&str, &str, &[&str])] = &[
    ("SCV_Amazon_Agent", "SCV Amazon Agent",
     &["ContactCenterAgent", "Service_Console_Users", "Omni_Channel_Agent"]),
    ("SCV_Amazon_Supervisor", "SCV Amazon Supervisor",
     &["ContactCenterSupervisor", "ContactCenterAgent", "Service_Console_Users", "Report_Read"]),
    // The one that hands out the licensed Voice set: no Amazon set in it.
    ("SCV_Voice_Access", "SCV Voice Access",
     &[VOICE_PERMISSION_SET, "Service_Console_Users", "VoiceCall_Read"]),
    ("SCV_Partner_Agent", "SCV Partner Telephony Agent",
     &["ContactCenterAgentExternalTelephony", "Service_Console_Users", "Natterbox_User"]),
    ("Sales_Core", "Sales Core",
     &["Account_Edit", "Opportunity_Edit", "Lead_Edit", "Sales_Console_Access"]),
    ("Service_Core", "Service Core", &["Case_Edit", "Knowledge_Read", "Knowledge_Reader"]),
    ("Read_Only_Basics", "Read Only Basics", &["Account_Read", "Contact_Read", "Report_Read"]),
];

/// A contact center of the catalog, before it gets an id.
struct CenterSpec {
    /// `Name`.
    name: &'static str,
    /// `InternalName`.
    internal: &'static str,
    /// Amazon Connect (true) or partner telephony.
    amazon: bool,
    /// Where its agents sit.
    region: Region,
    /// Its queues.
    queues: &'static [&'static str],
    /// `reqVendorInfoApiName` of a partner center.
    vendor: Option<&'static str>,
}

#[rustfmt::skip]
const CENTERS: &[CenterSpec] = &[
    CenterSpec { name: "Amazon Connect - EMEA", internal: "AmazonConnectEMEA", amazon: true,
                 region: Region::Emea, queues: &["EMEA Support", "EMEA Billing", "EMEA Sales"],
                 vendor: None },
    CenterSpec { name: "Amazon Connect - North America", internal: "AmazonConnectNA", amazon: true,
                 region: Region::NorthAmerica,
                 queues: &["NA Support", "NA Billing", "NA Sales", "NA Priority"], vendor: None },
    CenterSpec { name: "Amazon Connect - APAC", internal: "AmazonConnectAPAC", amazon: true,
                 region: Region::Apac, queues: &["APAC Support", "APAC Sales"], vendor: None },
    CenterSpec { name: "Natterbox Contact Center", internal: "NatterboxCC", amazon: false,
                 region: Region::Emea, queues: &["Natterbox Support", "Natterbox Sales"],
                 vendor: Some("NatterboxVendorInfo") },
    CenterSpec { name: "Vonage Contact Center", internal: "VonageCC", amazon: false,
                 region: Region::NorthAmerica, queues: &["Vonage Support", "Vonage Renewals"],
                 vendor: Some("VonageVendorInfo") },
    CenterSpec { name: "Five9 Partner Telephony", internal: "Five9CC", amazon: false,
                 region: Region::Apac, queues: &["Five9 Support"], vendor: Some("Five9VendorInfo") },
];
/// How agents spread over the Amazon centers and over the partner centers.
const AMAZON_CENTER_WEIGHTS: &[u32] = &[45, 40, 15];
const PARTNER_CENTER_WEIGHTS: &[u32] = &[50, 35, 15];

impl Catalog {
    fn build(ids: &mut IdFactory, rng: &mut Rng, seed: u64) -> Catalog {
        let mut psls = vec![
            PslDef {
                id: ids.next("0PL"),
                developer_name: VOICE_PSL,
                label: "Salesforce Voice User",
                active: true,
                expiration: Some("2027-06-30"),
            },
            PslDef {
                id: ids.next("0PL"),
                developer_name: PARTNER_PSL,
                label: "Salesforce Voice User (Partner Telephony)",
                active: true,
                expiration: Some("2027-06-30"),
            },
        ];
        let mut sets: Vec<SetDef> = Vec::new();
        let add_set = |sets: &mut Vec<SetDef>, set: SetDef| {
            sets.push(set);
            sets.len() - 1
        };
        let standard = |id: String, name: &str, label: &str, license: Option<usize>| SetDef {
            id,
            name: name.to_string(),
            label: label.to_string(),
            license,
            profile_owned: false,
            group: None,
            namespace: None,
            custom: false,
        };
        let voice_labels = [
            "Contact Center Agent",
            "Contact Center Supervisor",
            "Contact Center Admin",
        ];
        for (name, label) in AMAZON_SETS.iter().zip(voice_labels) {
            add_set(&mut sets, standard(ids.next("0PS"), name, label, Some(0)));
        }
        for (name, label) in PARTNER_SETS.iter().zip(voice_labels) {
            let label = format!("{label} (Partner Telephony)");
            add_set(&mut sets, standard(ids.next("0PS"), name, &label, Some(1)));
        }
        add_set(
            &mut sets,
            standard(
                ids.next("0PS"),
                VOICE_PERMISSION_SET,
                "Salesforce Voice Permission Set",
                Some(0),
            ),
        );

        let mut other_licensed = Vec::new();
        let mut other_licensed_weights = Vec::new();
        for other in OTHER_PSLS {
            psls.push(PslDef {
                id: ids.next("0PL"),
                developer_name: other.developer_name,
                label: other.label,
                active: other.active,
                expiration: other.expiration,
            });
            let psl = psls.len() - 1;
            for (name, set_label) in other.sets {
                let mut set = standard(ids.next("0PS"), name, set_label, Some(psl));
                set.namespace = other.namespace;
                let index = add_set(&mut sets, set);
                if other.active && other.weight > 0 {
                    other_licensed.push(index);
                    other_licensed_weights.push(other.weight);
                }
            }
        }

        let mut custom_pool = Vec::new();
        let mut custom = |sets: &mut Vec<SetDef>, name: &str, namespace: Option<&'static str>| {
            let set = SetDef {
                id: ids.next("0PS"),
                name: name.to_string(),
                label: name.replace('_', " "),
                license: None,
                profile_owned: false,
                group: None,
                namespace,
                custom: namespace.is_none(),
            };
            add_set(sets, set)
        };
        for name in [
            "Service_Console_Users",
            "Omni_Channel_Agent",
            "Omni_Channel_Supervisor",
        ] {
            custom_pool.push(custom(&mut sets, name, None));
        }
        for subject in CUSTOM_SUBJECTS {
            for action in CUSTOM_ACTIONS {
                let name = format!("{subject}_{action}");
                custom_pool.push(custom(&mut sets, &name, None));
            }
        }
        // Natterbox's managed package ships its own (unlicensed) sets.
        for name in ["Natterbox_User", "Natterbox_Admin"] {
            custom(&mut sets, name, Some("nbavs"));
        }

        let mut profiles = BTreeMap::new();
        for (key, name) in PROFILES {
            let id = ids.next("00e");
            let id15 = id[..15].to_string();
            let set = add_set(
                &mut sets,
                SetDef {
                    id: ids.next("0PS"),
                    name: format!("X{id15}"),
                    label: format!("{id15} ({name})"),
                    license: None,
                    profile_owned: true,
                    group: None,
                    namespace: None,
                    custom: false,
                },
            );
            profiles.insert(*key, ProfileDef { id, set });
        }

        let by_name: BTreeMap<String, usize> = sets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let mut groups = Vec::new();
        let mut group_by_name = BTreeMap::new();
        for (dev, label, members) in GROUPS {
            let id = ids.next("0PG");
            let members: Vec<usize> = members
                .iter()
                .map(|name| {
                    *by_name
                        .get(*name)
                        .expect("every group component is a set of the catalog")
                })
                .collect();
            let aggregate = add_set(
                &mut sets,
                SetDef {
                    id: ids.next("0PS"),
                    name: format!("X{}", &id[..15]),
                    label: format!("{label} (group)"),
                    license: None,
                    profile_owned: false,
                    group: Some(groups.len()),
                    namespace: None,
                    custom: false,
                },
            );
            group_by_name.insert(*dev, groups.len());
            let component_ids = members.iter().map(|_| ids.next("0PM")).collect();
            groups.push(GroupDef {
                id,
                developer_name: dev,
                label,
                members,
                component_ids,
                aggregate,
            });
        }
        let by_name = sets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();

        let slug = format!("scv-{seed:x}");
        let centers = CENTERS
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let id = ids.next("04v");
                let (adapter, settings) = if spec.amazon {
                    let url = format!(
                        "https://{slug}-{}.my.connect.aws",
                        spec.internal.to_ascii_lowercase()
                    );
                    let settings = json!({"reqGeneralInfo": {
                        "reqInternalName": spec.internal,
                        "reqDisplayName": spec.name,
                        "reqAdapterUrl": url,
                        "reqCallCenterType": "SCVOOTBTelephony",
                        "reqTelephonyProvider": "AMAZON_CONNECT",
                    }});
                    (Value::String(url), settings)
                } else {
                    let settings = json!({"reqGeneralInfo": {
                        "reqInternalName": spec.internal,
                        "reqDisplayName": spec.name,
                        "reqVendorInfoApiName": spec.vendor,
                        "reqCallCenterType": "SCVPartnerTelephony",
                    }});
                    (Value::Null, settings)
                };
                let mut record = json!({
                    "Id": id,
                    "Name": spec.name,
                    "InternalName": spec.internal,
                    "AdapterUrl": adapter,
                    "Version": 4,
                    "CustomSettings": settings.to_string(),
                });
                strip_nulls(&mut record);
                CenterDef {
                    id,
                    amazon: spec.amazon,
                    region: spec.region,
                    queues: spec.queues,
                    number: format!("+1800555{:04}", 1000 + i * 111 + rng.below(100)),
                    record,
                }
            })
            .collect();

        let centers: Vec<CenterDef> = centers;
        let of_kind = |amazon: bool| -> Vec<usize> {
            (0..centers.len())
                .filter(|i| centers[*i].amazon == amazon)
                .collect()
        };
        Catalog {
            psls,
            sets,
            by_name,
            groups,
            group_by_name,
            profiles,
            amazon_centers: of_kind(true),
            partner_centers: of_kind(false),
            other_profile_weights: OTHER_PROFILES.iter().map(|(_, w)| *w).collect(),
            centers,
            other_licensed,
            other_licensed_weights,
            custom_pool,
        }
    }

    fn set(&self, name: &str) -> usize {
        *self
            .by_name
            .get(name)
            .expect("the generator only names sets of its own catalog")
    }

    fn group(&self, name: &str) -> usize {
        *self
            .group_by_name
            .get(name)
            .expect("the generator only names groups of its own catalog")
    }

    /// The integration profile's `ObjectPermissions`: read on `VoiceCall` (for `usage`). Its id
    /// is derived from the profile set's, so the fixture stays deterministic.
    fn object_permission_records(&self) -> Vec<Value> {
        let set = &self.sets[self.profile("integration").set];
        let id15 = format!("110{}", &set.id[3..15]);
        let id = format!("{id15}{}", crate::ids::checksum_suffix(&id15));
        vec![json!({
            "Id": id, "ParentId": set.id, "SobjectType": "VoiceCall",
            "PermissionsRead": true, "PermissionsCreate": false,
            "PermissionsEdit": false, "PermissionsDelete": false,
        })]
    }

    fn profile(&self, key: &str) -> &ProfileDef {
        self.profiles
            .get(key)
            .expect("the generator only names profiles of its own catalog")
    }

    fn psl_records(&self, totals: &[u64]) -> Vec<Value> {
        self.psls
            .iter()
            .zip(totals)
            .map(|(psl, total)| {
                json!({
                    "Id": psl.id,
                    "DeveloperName": psl.developer_name,
                    "MasterLabel": psl.label,
                    "TotalLicenses": total,
                    "Status": if psl.active { "Active" } else { "Disabled" },
                    "ExpirationDate": psl.expiration,
                })
            })
            .collect()
    }

    fn set_records(&self) -> Vec<Value> {
        // Profile-owned sets carry their profile's id and user permissions: every profile has
        // API Enabled; the integration user's profile also what pslwarden needs (see
        // mocks/README.md, Permissions).
        let profile_of: BTreeMap<usize, (&str, &str)> = self
            .profiles
            .iter()
            .map(|(key, p)| (p.set, (*key, p.id.as_str())))
            .collect();
        self.sets
            .iter()
            .enumerate()
            .map(|(index, set)| {
                let kind = if set.profile_owned {
                    "Profile"
                } else if set.group.is_some() {
                    "Group"
                } else {
                    "Regular"
                };
                let mut record = json!({
                    "Id": set.id,
                    "Name": set.name,
                    "Label": set.label,
                    "LicenseId": set.license.map(|l| self.psls[l].id.clone()),
                    "IsOwnedByProfile": set.profile_owned,
                    "PermissionSetGroupId": set.group.map(|g| self.groups[g].id.clone()),
                    "NamespacePrefix": set.namespace,
                    "IsCustom": set.custom,
                    "Type": kind,
                });
                if let Some((key, profile_id)) = profile_of.get(&index) {
                    let integration = *key == "integration";
                    record["ProfileId"] = json!(profile_id);
                    record["PermissionsApiEnabled"] = json!(true);
                    for permission in [
                        "PermissionsViewSetup",
                        "PermissionsAssignPermissionSets",
                        "PermissionsManageUsers",
                    ] {
                        record[permission] = json!(integration);
                    }
                }
                strip_nulls(&mut record);
                record
            })
            .collect()
    }

    /// `PermissionSetGroup` and `PermissionSetGroupComponent` records.
    fn group_records(&self) -> (Vec<Value>, Vec<Value>) {
        let mut groups = Vec::new();
        let mut components = Vec::new();
        for group in &self.groups {
            groups.push(json!({
                "Id": group.id,
                "DeveloperName": group.developer_name,
                "MasterLabel": group.label,
                "Status": "Updated",
            }));
            for (member, component_id) in group.members.iter().zip(&group.component_ids) {
                components.push(json!({
                    "Id": component_id,
                    "PermissionSetGroupId": group.id,
                    "PermissionSetId": self.sets[*member].id,
                }));
            }
        }
        (groups, components)
    }
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
        root.insert("User".into(), Value::Array(self.users));
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

/// One call before it becomes a record.
struct CallDraft {
    /// Record id.
    id: String,
    /// `CallType`.
    call_type: &'static str,
    /// Start, in seconds since the Unix epoch.
    start: i64,
    /// `CallDurationInSeconds`.
    duration: i64,
    /// Index into `Catalog::centers`.
    center: usize,
    /// `UserId`: none for calls abandoned in the IVR or queue.
    user: Option<String>,
    /// `QueueName`.
    queue: Option<&'static str>,
    /// The customer's number.
    customer: String,
    /// `PreviousCallId`.
    previous: Option<String>,
    /// `NextCallId`.
    next: Option<String>,
}

/// `count` voice calls over four weeks, spread over the agents in contact centers. Transfers and
/// consults chain to an earlier inbound call of the same center (`PreviousCallId`/`NextCallId`).
fn voice_calls(
    count: usize,
    agents: &[Agent],
    catalog: &Catalog,
    rng: &mut Rng,
    ids: &mut IdFactory,
) -> Vec<Value> {
    const TYPES: [&str; 6] = [
        "Inbound",
        "Outbound",
        "Transfer",
        "Callback",
        "Consult",
        "InternalCall",
    ];
    const TYPE_WEIGHTS: [u32; 6] = [55, 25, 6, 5, 5, 4];
    let mut drafts: Vec<CallDraft> = Vec::with_capacity(count);
    // Per center, the last answered inbound call still free to chain a transfer or consult to.
    let mut chainable: Vec<Option<usize>> = vec![None; catalog.centers.len()];
    for _ in 0..count {
        let (center, agent) = if agents.is_empty() {
            (rng.below(catalog.centers.len()), None)
        } else {
            let agent = &agents[rng.below(agents.len())];
            (agent.center, Some(agent.id.clone()))
        };
        let def = &catalog.centers[center];
        let call_type = TYPES[rng.weighted(&TYPE_WEIGHTS)];
        let mut day = rng.between(0, 27) as i64;
        // Weekends carry about a third of a weekday's volume.
        if day % 7 >= 5 && rng.chance(0.7) {
            day -= rng.between(1, 4) as i64;
        }
        let local = rng.between(8 * 3600, 18 * 3600) as i64;
        let mut start = CALLS_EPOCH + day * 86_400 + local + def.region.utc_shift_hours() * 3600;
        let abandoned = call_type == "Inbound" && rng.chance(0.06);
        let duration = match call_type {
            "Inbound" if abandoned => rng.between(10, 120),
            // IVR, then queue, then talk.
            "Inbound" => rng.between(20, 180) + rng.between(0, 600) + rng.between(60, 1200),
            "Outbound" | "Callback" => rng.between(20, 900),
            "Transfer" => rng.between(60, 900),
            "Consult" => rng.between(30, 400),
            _ => rng.between(20, 300),
        } as i64;
        let queue = match call_type {
            "Inbound" | "Transfer" | "Callback" => Some(def.queues[rng.below(def.queues.len())]),
            _ => None,
        };
        let mut previous = None;
        if matches!(call_type, "Transfer" | "Consult")
            && let Some(prev) = chainable[center].take()
        {
            let prev_draft = &drafts[prev];
            start = prev_draft.start + prev_draft.duration / 2;
            previous = Some(prev);
        }
        let draft = CallDraft {
            id: ids.next("0LQ"),
            call_type,
            start,
            duration,
            center,
            user: if abandoned { None } else { agent },
            queue,
            customer: format!("+1555{:07}", rng.below(10_000_000)),
            previous: None,
            next: None,
        };
        drafts.push(draft);
        let this = drafts.len() - 1;
        if let Some(prev) = previous {
            let prev_id = drafts[prev].id.clone();
            let this_id = drafts[this].id.clone();
            drafts[prev].next = Some(this_id);
            drafts[this].previous = Some(prev_id);
        }
        if call_type == "Inbound" && !abandoned {
            chainable[center] = Some(this);
        }
    }

    drafts
        .into_iter()
        .map(|call| {
            let def = &catalog.centers[call.center];
            let (from, to) = match call.call_type {
                "Outbound" | "Callback" => (def.number.clone(), Some(call.customer.clone())),
                // Agent to agent inside the contact center: no outside number is dialled.
                "InternalCall" | "Consult" => (def.number.clone(), None),
                _ => (call.customer.clone(), Some(def.number.clone())),
            };
            let vendor_key = vendor_key(&call.id);
            record([
                ("Id", call.id.into()),
                ("CallType", call.call_type.into()),
                ("CallDurationInSeconds", call.duration.into()),
                ("CallStartDateTime", datetime(call.start).into()),
                (
                    "CallEndDateTime",
                    datetime(call.start + call.duration).into(),
                ),
                ("PreviousCallId", call.previous.into()),
                ("NextCallId", call.next.into()),
                ("QueueName", call.queue.into()),
                ("CallCenterId", def.id.clone().into()),
                ("UserId", call.user.into()),
                ("VendorCallKey", vendor_key.into()),
                ("FromPhoneNumber", from.into()),
                ("ToPhoneNumber", to.into()),
            ])
        })
        .collect()
}

/// Salesforce's datetime form for epoch seconds.
fn datetime(secs: i64) -> String {
    let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    values::format_datetime(dt)
}

/// A UUID-shaped contact id derived from the call id (Amazon Connect contact ids are UUIDs).
fn vendor_key(call_id: &str) -> String {
    let mut mix = SplitMix64::new(call_id.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    }));
    let (a, b) = (mix.next_u64(), mix.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0x0FFF,
        0x8000 | (b >> 48) & 0x3FFF,
        b & 0xFFFF_FFFF_FFFF
    )
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
    fn voice_calls_do_not_change_the_rest_of_the_org() {
        let without = generate(&small(6));
        let with = generate(&GenerateOptions {
            voice_calls: 100,
            ..small(6)
        });
        for object in [
            "User",
            "PermissionSetAssignment",
            "PermissionSetLicenseAssign",
        ] {
            assert_eq!(
                records(&without.fixture, object),
                records(&with.fixture, object)
            );
        }
        assert_eq!(records(&with.fixture, "VoiceCall").len(), 100);
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
