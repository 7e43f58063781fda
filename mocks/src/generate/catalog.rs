//! The catalog of a generated org: permission set licenses, user licenses, permission sets,
//! groups, profiles and contact centers, and their records.
//!
//! Must not: decide who holds what (`OrgBuilder` in the parent module does).

use super::*;

/// One permission set license of the catalog.
pub(super) struct PslDef {
    /// Record id.
    pub(super) id: String,
    /// `DeveloperName`.
    pub(super) developer_name: &'static str,
    /// `MasterLabel`.
    pub(super) label: &'static str,
    /// `Status`: a disabled license has no sets handed out.
    pub(super) active: bool,
    /// `ExpirationDate`.
    pub(super) expiration: Option<&'static str>,
}

/// One permission set of the catalog.
pub(super) struct SetDef {
    /// Record id.
    pub(super) id: String,
    /// `Name`.
    pub(super) name: String,
    /// `Label`.
    pub(super) label: String,
    /// Index into `Catalog::psls` of its `LicenseId`, if licensed.
    pub(super) license: Option<usize>,
    /// Owned by a profile (`IsOwnedByProfile`): every user holds their profile's.
    pub(super) profile_owned: bool,
    /// Index into `Catalog::groups` when this is a group's aggregated set.
    pub(super) group: Option<usize>,
    /// `NamespacePrefix` of managed-package sets.
    pub(super) namespace: Option<&'static str>,
    /// `IsCustom`: created by the admin rather than shipped by Salesforce or a package.
    pub(super) custom: bool,
}

/// One permission set group of the catalog.
pub(super) struct GroupDef {
    /// Record id.
    pub(super) id: String,
    /// `DeveloperName`.
    pub(super) developer_name: &'static str,
    /// `MasterLabel`.
    pub(super) label: &'static str,
    /// Indexes into `Catalog::sets` of its components.
    pub(super) members: Vec<usize>,
    /// `PermissionSetGroupComponent` ids, one per member.
    pub(super) component_ids: Vec<String>,
    /// Index into `Catalog::sets` of its aggregated set (what a group assignment points at).
    pub(super) aggregate: usize,
}

/// One profile (not a record: the sim has no Profile object, only `ProfileId` values).
pub(super) struct ProfileDef {
    /// The `ProfileId` value.
    pub(super) id: String,
    /// Index into `Catalog::sets` of its profile-owned set.
    pub(super) set: usize,
    /// Index into `USER_LICENSES` of the user license the profile (and its set) is tied to.
    pub(super) user_license: usize,
}

/// Which region a contact center serves: drives users' time zones and call hours.
#[derive(Clone, Copy)]
pub(super) enum Region {
    Emea,
    NorthAmerica,
    Apac,
}

impl Region {
    pub(super) fn time_zones(self) -> &'static [&'static str] {
        match self {
            Region::Emea => &["Europe/London", "Europe/Berlin", "Europe/Paris"],
            Region::NorthAmerica => &["America/New_York", "America/Chicago", "America/Los_Angeles"],
            Region::Apac => &["Asia/Singapore", "Australia/Sydney", "Asia/Tokyo"],
        }
    }

    /// Hours to add to local business hours to get UTC (roughly).
    pub(super) fn utc_shift_hours(self) -> i64 {
        match self {
            Region::Emea => 0,
            Region::NorthAmerica => 5,
            Region::Apac => -8,
        }
    }
}

/// One contact center of the catalog.
pub(super) struct CenterDef {
    /// Record id.
    pub(super) id: String,
    /// Amazon Connect (true) or partner telephony.
    pub(super) amazon: bool,
    /// Where its agents sit.
    pub(super) region: Region,
    /// Its queues, for `VoiceCall.QueueName`.
    pub(super) queues: &'static [&'static str],
    /// Its published number, for `VoiceCall` from/to numbers.
    pub(super) number: String,
    /// The record.
    pub(super) record: Value,
}

/// Everything that is not per user: licenses, sets, groups, profiles, contact centers.
pub(super) struct Catalog {
    /// Licenses, the two Voice ones first.
    pub(super) psls: Vec<PslDef>,
    /// All permission sets.
    pub(super) sets: Vec<SetDef>,
    /// Set index by `Name`.
    pub(super) by_name: BTreeMap<String, usize>,
    /// Permission set groups.
    pub(super) groups: Vec<GroupDef>,
    /// Group index by `DeveloperName`.
    pub(super) group_by_name: BTreeMap<&'static str, usize>,
    /// Profiles by role.
    pub(super) profiles: BTreeMap<&'static str, ProfileDef>,
    /// `UserLicense` ids, parallel to `USER_LICENSES`.
    pub(super) user_licenses: Vec<String>,
    /// Contact centers.
    pub(super) centers: Vec<CenterDef>,
    /// Indexes into `centers` of the Amazon Connect ones, in `AMAZON_CENTER_WEIGHTS` order.
    pub(super) amazon_centers: Vec<usize>,
    /// Indexes into `centers` of the partner ones, in `PARTNER_CENTER_WEIGHTS` order.
    pub(super) partner_centers: Vec<usize>,
    /// Weights of `OTHER_PROFILES`, drawn once per ordinary user.
    pub(super) other_profile_weights: Vec<u32>,
    /// Licensed sets of the non-Voice licenses, for ordinary users.
    pub(super) other_licensed: Vec<usize>,
    /// Their weights (their license's popularity).
    pub(super) other_licensed_weights: Vec<u32>,
    /// Unlicensed custom sets, for everyone.
    pub(super) custom_pool: Vec<usize>,
}

/// A non-Voice permission set license of the catalog and its licensed sets.
pub(super) struct OtherPsl {
    /// `DeveloperName`.
    pub(super) developer_name: &'static str,
    /// `MasterLabel`.
    pub(super) label: &'static str,
    /// How often ordinary users get one of its sets (0: bought, unused).
    pub(super) weight: u32,
    /// `Status` Active (or Disabled: nobody is given its sets).
    pub(super) active: bool,
    /// `ExpirationDate`.
    pub(super) expiration: Option<&'static str>,
    /// Its licensed sets: (`Name`, `Label`).
    pub(super) sets: &'static [(&'static str, &'static str)],
    /// `NamespacePrefix` of its sets (managed packages).
    pub(super) namespace: Option<&'static str>,
}

/// Shorthand for the table below: an active, non-expiring, unnamespaced license.
pub(super) const fn psl(
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
    pub(super) const fn expires(self, date: &'static str) -> OtherPsl {
        OtherPsl {
            expiration: Some(date),
            ..self
        }
    }
    pub(super) const fn disabled(self) -> OtherPsl {
        OtherPsl {
            active: false,
            ..self
        }
    }
    pub(super) const fn namespace(self, namespace: &'static str) -> OtherPsl {
        OtherPsl {
            namespace: Some(namespace),
            ..self
        }
    }
}

#[rustfmt::skip]
pub(super) const OTHER_PSLS: &[OtherPsl] = &[
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
pub(super) const CUSTOM_SUBJECTS: &[&str] = &[
    "Account", "Contact", "Lead", "Opportunity", "Case", "Quote", "Contract", "Order", "Campaign",
    "Knowledge", "Report", "Dashboard", "Entitlement", "WorkOrder", "Asset", "Product",
    "PriceBook", "Task", "Event", "Survey", "LiveChat", "Messaging", "EmailTemplate", "Macro",
    "QuickText", "VoiceCall",
];
pub(super) const CUSTOM_ACTIONS: &[&str] = &["Read", "Edit", "Manage", "Export", "Admin"];

/// User licenses: (`Name`, `LicenseDefinitionKey`). A profile-owned set's `LicenseId` names its
/// profile's user license, as in a real org, so a scan meets sets tied to a `UserLicense` and must
/// not take them for permission set licenses.
pub(super) const USER_LICENSES: &[(&str, &str)] =
    &[("Salesforce", "SFDC"), ("Salesforce Platform", "AUL")];
/// Profiles on the Salesforce Platform user license; every other profile is on Salesforce.
pub(super) const PLATFORM_PROFILES: &[&str] = &["marketing"];

/// Profiles by role: (key, profile name).
pub(super) const PROFILES: &[(&str, &str)] = &[
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
pub(super) const OTHER_PROFILES: &[(&str, u32)] = &[
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
pub(super) const GROUPS: &[(&str, &str, &[&str])] = &[
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
pub(super) struct CenterSpec {
    /// `Name`.
    pub(super) name: &'static str,
    /// `InternalName`.
    pub(super) internal: &'static str,
    /// Amazon Connect (true) or partner telephony.
    pub(super) amazon: bool,
    /// Where its agents sit.
    pub(super) region: Region,
    /// Its queues.
    pub(super) queues: &'static [&'static str],
    /// `reqVendorInfoApiName` of a partner center.
    pub(super) vendor: Option<&'static str>,
}

#[rustfmt::skip]
pub(super) const CENTERS: &[CenterSpec] = &[
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
pub(super) const AMAZON_CENTER_WEIGHTS: &[u32] = &[45, 40, 15];
pub(super) const PARTNER_CENTER_WEIGHTS: &[u32] = &[50, 35, 15];

impl Catalog {
    pub(super) fn build(ids: &mut IdFactory, rng: &mut Rng, seed: u64) -> Catalog {
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
            let user_license = usize::from(PLATFORM_PROFILES.contains(key));
            profiles.insert(
                *key,
                ProfileDef {
                    id,
                    set,
                    user_license,
                },
            );
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
        // Their own prefix's counter: no other id of the fixture moves.
        let user_licenses = USER_LICENSES.iter().map(|_| ids.next("100")).collect();
        Catalog {
            psls,
            sets,
            by_name,
            groups,
            group_by_name,
            profiles,
            user_licenses,
            amazon_centers: of_kind(true),
            partner_centers: of_kind(false),
            other_profile_weights: OTHER_PROFILES.iter().map(|(_, w)| *w).collect(),
            centers,
            other_licensed,
            other_licensed_weights,
            custom_pool,
        }
    }

    pub(super) fn set(&self, name: &str) -> usize {
        *self
            .by_name
            .get(name)
            .expect("the generator only names sets of its own catalog")
    }

    pub(super) fn group(&self, name: &str) -> usize {
        *self
            .group_by_name
            .get(name)
            .expect("the generator only names groups of its own catalog")
    }

    /// The integration profile's `ObjectPermissions`: read on `VoiceCall` (for `usage`). Its id
    /// is derived from the profile set's, so the fixture stays deterministic.
    pub(super) fn object_permission_records(&self) -> Vec<Value> {
        let set = &self.sets[self.profile("integration").set];
        let id15 = format!("110{}", &set.id[3..15]);
        let id = format!("{id15}{}", crate::ids::checksum_suffix(&id15));
        vec![json!({
            "Id": id, "ParentId": set.id, "SobjectType": "VoiceCall",
            "PermissionsRead": true, "PermissionsCreate": false,
            "PermissionsEdit": false, "PermissionsDelete": false,
        })]
    }

    pub(super) fn profile(&self, key: &str) -> &ProfileDef {
        self.profiles
            .get(key)
            .expect("the generator only names profiles of its own catalog")
    }

    pub(super) fn psl_records(&self, totals: &[u64]) -> Vec<Value> {
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

    /// `UserLicense` records; used counts the active users of the profiles on each.
    pub(super) fn user_license_records(&self, users: &[Value]) -> Vec<Value> {
        let mut used = vec![0u64; USER_LICENSES.len()];
        for user in users.iter().filter(|u| u["IsActive"] != false) {
            if let Some(profile) = self
                .profiles
                .values()
                .find(|p| user["ProfileId"].as_str() == Some(p.id.as_str()))
            {
                used[profile.user_license] += 1;
            }
        }
        USER_LICENSES
            .iter()
            .zip(&self.user_licenses)
            .zip(used)
            .map(|(((name, key), id), used)| {
                json!({
                    "Id": id,
                    "Name": name,
                    "MasterLabel": name,
                    "LicenseDefinitionKey": key,
                    "TotalLicenses": used + 25 + used / 10,
                    "UsedLicenses": used,
                    "Status": "Active",
                })
            })
            .collect()
    }

    pub(super) fn set_records(&self) -> Vec<Value> {
        // Profile-owned sets carry their profile's id and user permissions: every profile has
        // API Enabled; the integration user's profile also what pslwarden needs (see
        // mocks/README.md, Permissions).
        let profile_of: BTreeMap<usize, (&str, &str)> = self
            .profiles
            .iter()
            .map(|(key, p)| (p.set, (*key, p.id.as_str())))
            .collect();
        let user_license_of_set: BTreeMap<usize, &str> = self
            .profiles
            .values()
            .map(|p| (p.set, self.user_licenses[p.user_license].as_str()))
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
                    "LicenseId": set
                        .license
                        .map(|l| self.psls[l].id.clone())
                        .or_else(|| user_license_of_set.get(&index).map(|id| id.to_string())),
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
    pub(super) fn group_records(&self) -> (Vec<Value>, Vec<Value>) {
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
