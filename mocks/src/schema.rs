//! The simulated org's schema: which sObjects exist, their fields, types, parent relationships
//! and what the API may do with them (create/update/delete), for describe calls, write
//! validation and the SOQL engine (`soql::Catalog`).
//!
//! Owns the standard objects pslwarden touches (per DOMAIN.md §2) and custom objects inferred
//! from fixture records. It holds no records and applies no business rules: the store and the
//! org rules consult it.

use std::collections::BTreeMap;

use crate::soql;

/// Scalar kind of a field, as far as the simulator needs to tell values apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Id,
    Reference,
    String,
    /// A long text field: behaves as a string but describes as `textarea`.
    TextArea,
    /// A picklist: behaves as a string but describes as `picklist`.
    Picklist,
    Boolean,
    Int,
    Double,
    Date,
    DateTime,
}

impl FieldKind {
    /// The `type` a describe call reports.
    pub fn describe_type(self) -> &'static str {
        match self {
            FieldKind::Id => "id",
            FieldKind::Reference => "reference",
            FieldKind::String => "string",
            FieldKind::TextArea => "textarea",
            FieldKind::Picklist => "picklist",
            FieldKind::Boolean => "boolean",
            FieldKind::Int => "int",
            FieldKind::Double => "double",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
        }
    }

    /// Whether GROUP BY may name a field of this kind (describe `groupable`): Salesforce
    /// groups ids, references, text, picklists, booleans, integers and dates, not dateTimes,
    /// doubles or long text areas.
    pub fn groupable(self) -> bool {
        !matches!(
            self,
            FieldKind::DateTime | FieldKind::Double | FieldKind::TextArea
        )
    }

    /// The SOQL engine's view of the type.
    pub fn soql_type(self) -> soql::FieldType {
        match self {
            FieldKind::Id => soql::FieldType::Id,
            FieldKind::Reference => soql::FieldType::Reference,
            FieldKind::String | FieldKind::TextArea | FieldKind::Picklist => {
                soql::FieldType::String
            }
            FieldKind::Boolean => soql::FieldType::Boolean,
            FieldKind::Int => soql::FieldType::Int,
            FieldKind::Double => soql::FieldType::Double,
            FieldKind::Date => soql::FieldType::Date,
            FieldKind::DateTime => soql::FieldType::DateTime,
        }
    }
}

/// One field of an sObject.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// Canonical API name, e.g. `AssigneeId`.
    pub name: String,
    /// Human label for describe output.
    pub label: String,
    /// Value kind: drives validation of writes and fixture values.
    pub kind: FieldKind,
    /// Parent object(s) a reference points at (describe `referenceTo`).
    pub reference_to: Vec<String>,
    /// Relationship name for parent paths in SOQL (`Assignee` for `AssigneeId`).
    pub relationship_name: Option<String>,
    /// Whether null is allowed (describe `nillable`).
    pub nillable: bool,
    /// Whether an insert may set it; others answer `INVALID_FIELD_FOR_INSERT_UPDATE`.
    pub createable: bool,
    /// Whether an update may change it; others answer `INVALID_FIELD_FOR_INSERT_UPDATE`.
    pub updateable: bool,
    /// Inserts without it answer `REQUIRED_FIELD_MISSING`.
    pub required_on_create: bool,
}

/// One sObject type.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    /// Canonical API name, e.g. `PermissionSetAssignment`.
    pub name: String,
    /// Singular label for describe output.
    pub label: String,
    /// Plural label for describe output.
    pub label_plural: String,
    /// First three characters of its record ids; new ids are generated with it.
    pub key_prefix: String,
    /// True for `__c` objects (inferred from fixture records).
    pub custom: bool,
    /// Whether the API may insert records (POST sobjects, collections).
    pub createable: bool,
    /// Whether the API may update records (PATCH).
    pub updateable: bool,
    /// Whether the API may delete records (DELETE).
    pub deletable: bool,
    /// Setup objects cannot be mixed with non-setup objects in one DML call (`MIXED_DML_OPERATION`).
    pub setup: bool,
    /// Fields in describe order; `Id` first.
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    /// A field by name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The reference field whose relationship is `relationship` (case-insensitive).
    pub fn relationship(&self, relationship: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
        })
    }
}

/// All sObjects of one org.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Objects keyed by lowercased API name, for case-insensitive lookup.
    objects: BTreeMap<String, ObjectDef>,
}

impl Default for Schema {
    fn default() -> Self {
        Self::standard()
    }
}

impl Schema {
    /// The standard objects only.
    pub fn standard() -> Schema {
        let mut schema = Schema {
            objects: BTreeMap::new(),
        };
        for object in standard_objects() {
            schema.add(object);
        }
        schema
    }

    /// Adds (or replaces) an object definition.
    pub fn add(&mut self, object: ObjectDef) {
        self.objects
            .insert(object.name.to_ascii_lowercase(), object);
    }

    /// Gives fields of a standard `object` this org's own names, or drops them (`None`), for
    /// orgs whose objects differ from the reference (a field renamed or not there at all).
    pub fn rename_fields(
        &mut self,
        object: &str,
        renames: &BTreeMap<String, Option<String>>,
    ) -> Result<(), String> {
        let def = self
            .objects
            .get_mut(&object.to_ascii_lowercase())
            .ok_or_else(|| format!("no object {object}"))?;
        for (from, to) in renames {
            let Some(at) = def
                .fields
                .iter()
                .position(|f| f.name == *from && f.name != "Id")
            else {
                return Err(format!("{object} has no field {from} to rename or drop"));
            };
            match to {
                None => {
                    def.fields.remove(at);
                }
                Some(to) => {
                    let valid = to.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && to.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid || def.field(to).is_some() {
                        return Err(format!("{to:?} is not a free field API name on {object}"));
                    }
                    def.fields[at].name = to.clone();
                    def.fields[at].label = label_for(to);
                }
            }
        }
        Ok(())
    }

    /// An object by name, case-insensitively.
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.objects.get(&name.to_ascii_lowercase())
    }

    /// All objects, ordered by name.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectDef> {
        self.objects.values()
    }

    /// The standard object whose ids start with `prefix`, used to guess the target of a custom
    /// reference field whose values point at records the fixture does not contain.
    pub fn object_for_prefix(&self, prefix: &str) -> Option<&ObjectDef> {
        self.objects.values().find(|o| o.key_prefix == prefix)
    }
}

impl soql::Catalog for Schema {
    fn object(&self, name: &str) -> Option<String> {
        Schema::object(self, name).map(|o| o.name.clone())
    }

    fn field(&self, object: &str, field: &str) -> Option<soql::FieldInfo> {
        let def = Schema::object(self, object)?.field(field)?;
        Some(soql::FieldInfo {
            name: def.name.clone(),
            ty: def.kind.soql_type(),
            groupable: def.kind.groupable(),
            aggregatable: def.kind != FieldKind::TextArea,
        })
    }

    fn relationship(&self, object: &str, relationship: &str) -> Option<soql::RelationshipInfo> {
        let def = Schema::object(self, object)?.relationship(relationship)?;
        let target = def.reference_to.first()?;
        let target = Schema::object(self, target)?;
        Some(soql::RelationshipInfo {
            name: def.relationship_name.clone()?,
            id_field: def.name.clone(),
            target: target.name.clone(),
        })
    }
}

/// Shorthand constructor used by the standard object table below.
struct F {
    /// The definition being built.
    def: FieldDef,
}

impl F {
    fn new(name: &str, kind: FieldKind) -> F {
        F {
            def: FieldDef {
                name: name.to_string(),
                label: label_for(name),
                kind,
                reference_to: Vec::new(),
                relationship_name: None,
                nillable: true,
                createable: true,
                updateable: true,
                required_on_create: false,
            },
        }
    }
    fn id() -> FieldDef {
        F::new("Id", FieldKind::Id).not_nillable().read_only().def
    }
    fn string(name: &str) -> F {
        F::new(name, FieldKind::String)
    }
    fn boolean(name: &str) -> F {
        F::new(name, FieldKind::Boolean).not_nillable()
    }
    fn reference(name: &str, to: &str, relationship: Option<&str>) -> F {
        let mut f = F::new(name, FieldKind::Reference);
        f.def.reference_to = vec![to.to_string()];
        f.def.relationship_name = relationship.map(str::to_string);
        f
    }
    fn not_nillable(mut self) -> F {
        self.def.nillable = false;
        self
    }
    fn read_only(mut self) -> F {
        self.def.createable = false;
        self.def.updateable = false;
        self
    }
    fn create_only(mut self) -> F {
        self.def.updateable = false;
        self
    }
    fn required(mut self) -> F {
        self.def.required_on_create = true;
        self.def.nillable = false;
        self
    }
}

impl From<F> for FieldDef {
    fn from(f: F) -> FieldDef {
        f.def
    }
}

/// "CallCenterId" → "Call Center ID": good enough labels for describe output.
fn label_for(name: &str) -> String {
    let base = name.strip_suffix("__c").unwrap_or(name);
    let mut label = String::new();
    let chars: Vec<char> = base.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && prev_lower {
            label.push(' ');
        }
        label.push(if *c == '_' { ' ' } else { *c });
    }
    if let Some(stripped) = label.strip_suffix(" Id") {
        return format!("{stripped} ID");
    }
    label
}

/// The object-level facts of a standard object, mirroring `ObjectDef`'s fields of the same
/// meaning (`create` = `createable`...), kept terse for the table below.
struct ObjectSpec {
    /// API name.
    name: &'static str,
    /// Singular label.
    label: &'static str,
    /// Plural label.
    plural: &'static str,
    /// Id key prefix.
    prefix: &'static str,
    /// API may insert.
    create: bool,
    /// API may update.
    update: bool,
    /// API may delete.
    delete: bool,
    /// A setup object (no mixing with non-setup objects in one DML call).
    setup: bool,
}

fn object(spec: ObjectSpec, fields: Vec<FieldDef>) -> ObjectDef {
    let mut all = vec![F::id()];
    all.extend(fields);
    ObjectDef {
        name: spec.name.to_string(),
        label: spec.label.to_string(),
        label_plural: spec.plural.to_string(),
        key_prefix: spec.prefix.to_string(),
        custom: false,
        createable: spec.create,
        updateable: spec.update,
        deletable: spec.delete,
        setup: spec.setup,
        fields: all,
    }
}

/// Standard objects and fields, per DOMAIN.md §2 plus what describe and SOQL need.
fn standard_objects() -> Vec<ObjectDef> {
    use FieldKind as K;
    vec![
        object(
            ObjectSpec {
                name: "User",
                label: "User",
                plural: "Users",
                prefix: "005",
                create: true,
                update: true,
                delete: false,
                setup: true,
            },
            vec![
                F::string("Username").required().into(),
                F::string("Name").read_only().into(),
                F::string("FirstName").into(),
                F::string("LastName").required().into(),
                F::string("Email").into(),
                F::string("Alias").into(),
                F::boolean("IsActive").into(),
                F::reference("ProfileId", "Profile", None).into(),
                F::reference("CallCenterId", "CallCenter", Some("CallCenter")).into(),
                F::new("TimeZoneSidKey", K::Picklist).into(),
                F::new("UserType", K::Picklist).read_only().into(),
                // Object Reference (User): set by Salesforce at each login; null for a user
                // who never logged in.
                F::new("LastLoginDate", K::DateTime).read_only().into(),
                F::new("CreatedDate", K::DateTime)
                    .read_only()
                    .not_nillable()
                    .into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "PermissionSet",
                label: "Permission Set",
                plural: "Permission Sets",
                prefix: "0PS",
                create: true,
                update: true,
                delete: true,
                setup: true,
            },
            vec![
                F::string("Name").required().into(),
                F::string("Label").required().into(),
                F::string("Description").into(),
                // Either kind of license (Object Reference, PermissionSet.LicenseId): a
                // permission set license or the user license the set is tied to.
                {
                    let mut f = F::reference("LicenseId", "PermissionSetLicense", Some("License"))
                        .create_only();
                    f.def.reference_to.push("UserLicense".to_string());
                    f.into()
                },
                F::boolean("IsOwnedByProfile").read_only().into(),
                F::reference(
                    "PermissionSetGroupId",
                    "PermissionSetGroup",
                    Some("PermissionSetGroup"),
                )
                .read_only()
                .into(),
                F::string("NamespacePrefix").read_only().into(),
                F::boolean("IsCustom").read_only().into(),
                F::new("Type", K::Picklist).read_only().into(),
                F::reference("ProfileId", "Profile", Some("Profile"))
                    .read_only()
                    .into(),
            ]
            .into_iter()
            .chain(
                crate::permissions::USER_PERMISSIONS
                    .iter()
                    .map(|p| F::boolean(p).into()),
            )
            .collect(),
        ),
        object(
            ObjectSpec {
                name: "ObjectPermissions",
                label: "Object Permissions",
                plural: "Object Permissions",
                prefix: "110",
                create: true,
                update: true,
                delete: true,
                setup: true,
            },
            [
                F::reference("ParentId", "PermissionSet", Some("Parent"))
                    .required()
                    .create_only()
                    .into(),
                F::string("SobjectType").required().create_only().into(),
            ]
            .into_iter()
            .chain(
                crate::permissions::OBJECT_PERMISSIONS
                    .iter()
                    .map(|p| F::boolean(p).into()),
            )
            .collect(),
        ),
        object(
            ObjectSpec {
                name: "FieldPermissions",
                label: "Field Permissions",
                plural: "Field Permissions",
                prefix: "01k",
                create: true,
                update: true,
                delete: true,
                setup: true,
            },
            vec![
                F::reference("ParentId", "PermissionSet", Some("Parent"))
                    .required()
                    .create_only()
                    .into(),
                F::string("SobjectType").required().create_only().into(),
                F::string("Field").required().create_only().into(),
                F::boolean("PermissionsRead").into(),
                F::boolean("PermissionsEdit").into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "UserPermissionAccess",
                label: "User Permission Access",
                plural: "User Permission Access",
                prefix: "0up",
                create: false,
                update: false,
                delete: false,
                setup: true,
            },
            crate::permissions::USER_PERMISSIONS
                .iter()
                .map(|p| F::boolean(p).read_only().into())
                .collect(),
        ),
        object(
            ObjectSpec {
                name: "PermissionSetAssignment",
                label: "Permission Set Assignment",
                plural: "Permission Set Assignments",
                prefix: "0Pa",
                create: true,
                // Object Reference: update() is supported; only ExpirationDate can change.
                update: true,
                delete: true,
                setup: true,
            },
            vec![
                F::reference("AssigneeId", "User", Some("Assignee"))
                    .required()
                    .create_only()
                    .into(),
                F::reference("PermissionSetId", "PermissionSet", Some("PermissionSet"))
                    .create_only()
                    .into(),
                F::reference(
                    "PermissionSetGroupId",
                    "PermissionSetGroup",
                    Some("PermissionSetGroup"),
                )
                .create_only()
                .into(),
                F::boolean("IsActive").read_only().into(),
                // A dateTime, settable on create and update (API 52.0+).
                F::new("ExpirationDate", K::DateTime).into(),
                F::new("SystemModstamp", K::DateTime)
                    .read_only()
                    .not_nillable()
                    .into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "PermissionSetLicense",
                label: "Permission Set License",
                plural: "Permission Set Licenses",
                prefix: "0PL",
                create: false,
                update: false,
                delete: false,
                setup: true,
            },
            vec![
                F::string("DeveloperName").read_only().into(),
                F::string("MasterLabel").read_only().into(),
                F::new("TotalLicenses", K::Int).read_only().into(),
                F::new("UsedLicenses", K::Int).read_only().into(),
                F::new("Status", K::Picklist).read_only().into(),
                F::new("ExpirationDate", K::Date).read_only().into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "PermissionSetLicenseAssign",
                label: "Permission Set License Assignment",
                plural: "Permission Set License Assignments",
                prefix: "2LA",
                create: true,
                update: false,
                delete: true,
                setup: true,
            },
            vec![
                F::reference("AssigneeId", "User", Some("Assignee"))
                    .required()
                    .create_only()
                    .into(),
                F::reference(
                    "PermissionSetLicenseId",
                    "PermissionSetLicense",
                    Some("PermissionSetLicense"),
                )
                .required()
                .create_only()
                .into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "UserLicense",
                label: "User License",
                plural: "User Licenses",
                prefix: "100",
                create: false,
                update: false,
                delete: false,
                setup: true,
            },
            vec![
                F::string("Name").read_only().into(),
                F::string("MasterLabel").read_only().into(),
                F::string("LicenseDefinitionKey").read_only().into(),
                F::new("TotalLicenses", K::Int).read_only().into(),
                F::new("UsedLicenses", K::Int).read_only().into(),
                F::new("Status", K::Picklist).read_only().into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "PermissionSetGroup",
                label: "Permission Set Group",
                plural: "Permission Set Groups",
                prefix: "0PG",
                create: true,
                update: true,
                delete: true,
                setup: true,
            },
            vec![
                F::string("DeveloperName").required().into(),
                F::string("MasterLabel").required().into(),
                F::string("Description").into(),
                F::new("Status", K::Picklist).read_only().into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "PermissionSetGroupComponent",
                label: "Permission Set Group Component",
                plural: "Permission Set Group Components",
                prefix: "0PM",
                create: true,
                update: false,
                delete: true,
                setup: true,
            },
            vec![
                F::reference(
                    "PermissionSetGroupId",
                    "PermissionSetGroup",
                    Some("PermissionSetGroup"),
                )
                .required()
                .create_only()
                .into(),
                F::reference("PermissionSetId", "PermissionSet", Some("PermissionSet"))
                    .required()
                    .create_only()
                    .into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "CallCenter",
                label: "Call Center",
                plural: "Call Centers",
                prefix: "04v",
                create: false,
                update: false,
                delete: false,
                setup: true,
            },
            vec![
                F::string("Name").read_only().into(),
                F::string("InternalName").read_only().into(),
                F::string("AdapterUrl").read_only().into(),
                F::new("CustomSettings", K::TextArea).read_only().into(),
                F::new("Version", K::Double).read_only().into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "CallCenterRoutingMap",
                label: "Call Center Routing Map",
                plural: "Call Center Routing Maps",
                prefix: "0hn",
                create: true,
                update: true,
                delete: true,
                setup: false,
            },
            vec![
                F::reference("CallCenterId", "CallCenter", Some("CallCenter"))
                    .required()
                    .into(),
                {
                    let mut f = F::reference("ReferenceRecordId", "User", None).required();
                    f.def.reference_to.push("Group".to_string());
                    f.into()
                },
                F::string("ExternalId").into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "VoiceCall",
                label: "Voice Call",
                plural: "Voice Calls",
                prefix: "0LQ",
                create: true,
                update: true,
                delete: true,
                setup: false,
            },
            vec![
                F::new("CallType", K::Picklist).into(),
                F::new("CallDurationInSeconds", K::Int).into(),
                F::new("CallStartDateTime", K::DateTime).into(),
                F::new("CallEndDateTime", K::DateTime).into(),
                F::reference("PreviousCallId", "VoiceCall", Some("PreviousCall")).into(),
                F::reference("NextCallId", "VoiceCall", Some("NextCall")).into(),
                F::string("QueueName").into(),
                F::reference("CallCenterId", "CallCenter", Some("CallCenter")).into(),
                F::reference("UserId", "User", Some("User")).into(),
                F::string("VendorCallKey").into(),
                F::new("CallDisposition", K::Picklist).into(),
                F::string("FromPhoneNumber").into(),
                F::string("ToPhoneNumber").into(),
                F::new("CreatedDate", K::DateTime)
                    .read_only()
                    .not_nillable()
                    .into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "PackageLicense",
                label: "Package License",
                plural: "Package Licenses",
                prefix: "050",
                create: false,
                update: false,
                delete: false,
                setup: true,
            },
            vec![
                F::string("NamespacePrefix").read_only().into(),
                F::new("AllowedLicenses", K::Int).read_only().into(),
                F::new("UsedLicenses", K::Int).read_only().into(),
                F::new("Status", K::Picklist).read_only().into(),
                F::new("ExpirationDate", K::DateTime).read_only().into(),
                F::boolean("IsProvisioned").read_only().into(),
            ],
        ),
        object(
            ObjectSpec {
                name: "Organization",
                label: "Organization",
                plural: "Organizations",
                prefix: "00D",
                create: false,
                update: false,
                delete: false,
                setup: true,
            },
            vec![
                F::string("Name").read_only().into(),
                F::boolean("IsSandbox").read_only().into(),
                F::new("OrganizationType", K::Picklist).read_only().into(),
                F::string("InstanceName").read_only().into(),
            ],
        ),
    ]
}

/// A custom object shell (fields are added by fixture inference).
pub fn custom_object(name: &str, key_prefix: &str) -> ObjectDef {
    let base = name.strip_suffix("__c").unwrap_or(name);
    let base = base.rsplit("__").next().unwrap_or(base);
    let label = label_for(base);
    ObjectDef {
        name: name.to_string(),
        label: label.clone(),
        label_plural: format!("{label}s"),
        key_prefix: key_prefix.to_string(),
        custom: true,
        createable: true,
        updateable: true,
        deletable: true,
        setup: false,
        fields: vec![F::id()],
    }
}

/// A custom field of the given kind (all custom fields are nillable, createable, updateable).
pub fn custom_field(name: &str, kind: FieldKind, reference_to: Option<&str>) -> FieldDef {
    let mut f = F::new(name, kind);
    if let Some(target) = reference_to {
        f.def.reference_to = vec![target.to_string()];
        f.def.relationship_name = name.strip_suffix("__c").map(|base| format!("{base}__r"));
    }
    f.def
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::Catalog;

    #[test]
    fn lookups_are_case_insensitive_and_canonical() {
        let schema = Schema::standard();
        assert_eq!(
            Catalog::object(&schema, "permissionsetassignment").as_deref(),
            Some("PermissionSetAssignment")
        );
        let field =
            Catalog::field(&schema, "PermissionSetAssignment", "assigneeid").map(|f| f.name);
        assert_eq!(field.as_deref(), Some("AssigneeId"));
    }

    #[test]
    fn parent_relationships_resolve_to_their_target() {
        let schema = Schema::standard();
        let rel = Catalog::relationship(&schema, "PermissionSet", "license")
            .map(|r| (r.name, r.id_field, r.target));
        assert_eq!(
            rel,
            Some((
                "License".into(),
                "LicenseId".into(),
                "PermissionSetLicense".into()
            ))
        );
        assert!(Catalog::relationship(&schema, "User", "Profile").is_none());
    }

    #[test]
    fn custom_reference_fields_get_an_r_relationship() {
        let field = custom_field("nbavs__User__c", FieldKind::Reference, Some("User"));
        assert_eq!(field.relationship_name.as_deref(), Some("nbavs__User__r"));
    }

    #[test]
    fn labels_read_like_salesforce() {
        assert_eq!(label_for("CallCenterId"), "Call Center ID");
        assert_eq!(label_for("TotalLicenses"), "Total Licenses");
    }
}
