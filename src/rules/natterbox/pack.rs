//! The Natterbox rule pack: a TOML file an admin can read and edit (`config/rules/natterbox.toml`
//! is the one built in), parsed and checked once, when pslwarden starts.
//!
//! Owns: the pack's format and its checks. Every error names the file, the line and the rule id,
//! and says what to write instead.
//!
//! Rule kinds (licenses are the pack's own names from `[licenses]`):
//! * `implies`: `when` → `then`: holding `when` needs `then`. Fix: `"set"` (set `then`) or
//!   `"clear"` (clear `when`).
//! * `excludes`: `licenses = [a, b, ...]`: at most one of them per user.
//! * `disabled`: `license`: not to be held at all. Fix: `"clear"`.
//! * `requires_any`: `when = [a, ...]` (holding any of them) needs one of `any_of = [...]`.
//! * `requires_psl`: `when` needs a seat of one of the Salesforce licenses `psl = [...]`.
//! * `excludes_psl`: `when` and a seat of any of `psl = [...]` should not go together.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The pack built into pslwarden (the same text as `config/rules/natterbox.toml`).
pub const BUILTIN_PACK: &str = include_str!("../../../config/rules/natterbox.toml");

/// A pack that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {}{message}", rule.as_ref().map(|r| format!("rule `{r}`: ")).unwrap_or_default())]
pub struct PackError {
    /// The pack's file (or "built-in Natterbox pack").
    pub source_name: String,
    pub line: usize,
    /// The rule at fault, when there is one.
    pub rule: Option<String>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    package: Spanned<RawPackage>,
    licenses: Spanned<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    totals: RawTotals,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    namespace: Spanned<String>,
    object: Spanned<String>,
    user_field: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTotals {
    package_seats: Option<bool>,
}

/// A string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    kind: Spanned<String>,
    severity: Spanned<String>,
    explanation: Spanned<String>,
    when: Option<Spanned<OneOrMany>>,
    then: Option<Spanned<String>>,
    licenses: Option<Spanned<Vec<String>>>,
    license: Option<Spanned<String>>,
    any_of: Option<Spanned<Vec<String>>>,
    psl: Option<Spanned<Vec<String>>>,
    fix: Option<Spanned<String>>,
}

/// How much a broken rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackSeverity {
    Error,
    Warning,
    Info,
}

/// What a rule checks, with license keys resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    Implies {
        when: String,
        then: String,
    },
    Excludes {
        licenses: Vec<String>,
    },
    Disabled {
        license: String,
    },
    RequiresAny {
        when: Vec<String>,
        any_of: Vec<String>,
    },
    RequiresPsl {
        when: String,
        psl: Vec<String>,
    },
    ExcludesPsl {
        when: String,
        psl: Vec<String>,
    },
}

impl RuleKind {
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Implies { .. } => "implies",
            RuleKind::Excludes { .. } => "excludes",
            RuleKind::Disabled { .. } => "disabled",
            RuleKind::RequiresAny { .. } => "requires_any",
            RuleKind::RequiresPsl { .. } => "requires_psl",
            RuleKind::ExcludesPsl { .. } => "excludes_psl",
        }
    }
}

/// The change that repairs a broken rule: set or clear one license of the user's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixSpec {
    /// The license to change.
    pub license: String,
    /// `true` sets it, `false` clears it.
    pub value: bool,
}

/// One rule of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackRule {
    pub id: String,
    pub severity: PackSeverity,
    /// For the admin: what the rule means and why.
    pub explanation: String,
    pub kind: RuleKind,
    /// The repair, when the kind has one and the pack names it.
    pub fix: Option<FixSpec>,
}

/// A checked pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pack {
    /// Where it came from, for messages.
    pub source: String,
    /// The package's namespace prefix (`nbavs`).
    pub namespace: String,
    /// The per-user license object (`nbavs__User__c`) and its lookup to User.
    pub object: String,
    pub user_field: String,
    /// License key → checkbox field on `object`.
    pub licenses: BTreeMap<String, String>,
    pub rules: Vec<PackRule>,
    /// Compare users holding a license with the package's seats (`PackageLicense`).
    pub package_seats: bool,
}

impl Pack {
    /// The built-in pack.
    pub fn builtin() -> Pack {
        Pack::parse(BUILTIN_PACK, "built-in Natterbox pack")
            .expect("the built-in Natterbox pack is valid (a unit test checks it)")
    }

    /// The Salesforce licenses the pack's rules look at.
    pub fn psls(&self) -> BTreeSet<String> {
        self.rules
            .iter()
            .flat_map(|r| match &r.kind {
                RuleKind::RequiresPsl { psl, .. } | RuleKind::ExcludesPsl { psl, .. } => {
                    psl.clone()
                }
                _ => Vec::new(),
            })
            .collect()
    }

    /// The rule named `id`.
    pub fn rule(&self, id: &str) -> Option<&PackRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Parses and checks pack text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Pack, PackError> {
        let err = |span: Range<usize>, rule: Option<&str>, message: String| PackError {
            source_name: source.to_string(),
            line: line_of(text, span.start),
            rule: rule.map(str::to_string),
            message,
        };
        let raw: RawPack = toml::from_str(text).map_err(|e| PackError {
            source_name: source.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            rule: None,
            message: e.message().trim_end().to_string(),
        })?;
        let package = raw.package.get_ref();
        let api_name = |v: &Spanned<String>, what: &str| -> Result<String, PackError> {
            let s = v.get_ref().trim();
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Ok(s.to_string())
            } else {
                Err(err(
                    v.span(),
                    None,
                    format!("`{s}` is not an API name ({what}): letters, digits and _"),
                ))
            }
        };
        let namespace = api_name(&package.namespace, "package.namespace")?;
        let object = api_name(&package.object, "package.object")?;
        let user_field = api_name(&package.user_field, "package.user_field")?;
        let mut licenses = BTreeMap::new();
        for (key, field) in raw.licenses.get_ref() {
            licenses.insert(key.clone(), api_name(field, &format!("licenses.{key}"))?);
        }
        if licenses.is_empty() {
            return Err(err(
                raw.licenses.span(),
                None,
                "[licenses] names no license: map each license key to its checkbox field".into(),
            ));
        }
        let mut rules: Vec<PackRule> = Vec::new();
        for spanned in &raw.rule {
            let r = spanned.get_ref();
            let id = r.id.get_ref().trim().to_string();
            let rule_err = |span: Range<usize>, message: String| err(span, Some(&id), message);
            if id.is_empty() {
                return Err(err(r.id.span(), None, "a rule needs an `id`".into()));
            }
            if rules.iter().any(|x| x.id == id) {
                return Err(rule_err(
                    r.id.span(),
                    "another rule has this id: ids must be unique".into(),
                ));
            }
            let known = |name: &str, span: Range<usize>| -> Result<String, PackError> {
                let name = name.trim();
                if licenses.contains_key(name) {
                    Ok(name.to_string())
                } else {
                    Err(rule_err(
                        span,
                        format!(
                            "unknown license `{name}`: the pack's licenses are {}",
                            licenses.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            };
            let severity = match r.severity.get_ref().trim() {
                "error" => PackSeverity::Error,
                "warning" => PackSeverity::Warning,
                "info" => PackSeverity::Info,
                other => {
                    return Err(rule_err(
                        r.severity.span(),
                        format!("unknown severity `{other}`: use error, warning or info"),
                    ));
                }
            };
            // The keys each kind takes; any other present key is an error naming it.
            let present: Vec<(&str, Range<usize>)> = [
                ("when", r.when.as_ref().map(Spanned::span)),
                ("then", r.then.as_ref().map(Spanned::span)),
                ("licenses", r.licenses.as_ref().map(Spanned::span)),
                ("license", r.license.as_ref().map(Spanned::span)),
                ("any_of", r.any_of.as_ref().map(Spanned::span)),
                ("psl", r.psl.as_ref().map(Spanned::span)),
                ("fix", r.fix.as_ref().map(Spanned::span)),
            ]
            .into_iter()
            .filter_map(|(k, s)| s.map(|s| (k, s)))
            .collect();
            let kind_name = r.kind.get_ref().trim();
            let allowed: &[&str] = match kind_name {
                "implies" => &["when", "then", "fix"],
                "excludes" => &["licenses"],
                "disabled" => &["license", "fix"],
                "requires_any" => &["when", "any_of"],
                "requires_psl" | "excludes_psl" => &["when", "psl"],
                other => {
                    return Err(rule_err(
                        r.kind.span(),
                        format!(
                            "unknown kind `{other}`: use implies, excludes, disabled, \
                             requires_any, requires_psl or excludes_psl"
                        ),
                    ));
                }
            };
            if let Some((k, span)) = present.iter().find(|(k, _)| !allowed.contains(k)) {
                return Err(rule_err(
                    span.clone(),
                    format!(
                        "`{k}` does not belong to kind `{kind_name}`, which takes: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            let need =
                |k: &str| rule_err(spanned.span(), format!("kind `{kind_name}` needs `{k}`"));
            let when_list = |r: &RawRule| -> Result<(Vec<String>, Range<usize>), PackError> {
                let w = r.when.as_ref().ok_or_else(|| need("when"))?;
                let span = w.span();
                let names = match w.get_ref() {
                    OneOrMany::One(s) => vec![s.clone()],
                    OneOrMany::Many(v) => v.clone(),
                };
                let names = names
                    .iter()
                    .map(|n| known(n, span.clone()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((names, span))
            };
            let one_when = |r: &RawRule| -> Result<String, PackError> {
                let (names, span) = when_list(r)?;
                match names.as_slice() {
                    [one] => Ok(one.clone()),
                    _ => Err(rule_err(
                        span,
                        format!("kind `{kind_name}` takes one license in `when`"),
                    )),
                }
            };
            let psls = |r: &RawRule| -> Result<Vec<String>, PackError> {
                let p = r.psl.as_ref().ok_or_else(|| need("psl"))?;
                let names: Vec<String> = p.get_ref().iter().map(|s| s.trim().to_string()).collect();
                if names.is_empty() || names.iter().any(String::is_empty) {
                    return Err(rule_err(
                        p.span(),
                        "`psl` lists the DeveloperNames of Salesforce licenses, at least one"
                            .into(),
                    ));
                }
                Ok(names)
            };
            let self_ref = |span: Range<usize>, license: &str| {
                rule_err(
                    span,
                    format!(
                        "the rule references license `{license}` on both sides, so it says \
                         nothing: name two different licenses"
                    ),
                )
            };
            let kind = match kind_name {
                "implies" => {
                    let when = one_when(r)?;
                    let then_raw = r.then.as_ref().ok_or_else(|| need("then"))?;
                    let then = known(then_raw.get_ref(), then_raw.span())?;
                    if when == then {
                        return Err(self_ref(then_raw.span(), &then));
                    }
                    RuleKind::Implies { when, then }
                }
                "excludes" => {
                    let l = r.licenses.as_ref().ok_or_else(|| need("licenses"))?;
                    let names = l
                        .get_ref()
                        .iter()
                        .map(|n| known(n, l.span()))
                        .collect::<Result<Vec<_>, _>>()?;
                    let distinct: BTreeSet<&String> = names.iter().collect();
                    if distinct.len() != names.len() {
                        let dup = names
                            .iter()
                            .find(|n| names.iter().filter(|m| m == n).count() > 1)
                            .cloned()
                            .unwrap_or_default();
                        return Err(self_ref(l.span(), &dup));
                    }
                    if names.len() < 2 {
                        return Err(rule_err(
                            l.span(),
                            "`licenses` needs at least two licenses that exclude each other".into(),
                        ));
                    }
                    RuleKind::Excludes { licenses: names }
                }
                "disabled" => {
                    let l = r.license.as_ref().ok_or_else(|| need("license"))?;
                    RuleKind::Disabled {
                        license: known(l.get_ref(), l.span())?,
                    }
                }
                "requires_any" => {
                    let (when, when_span) = when_list(r)?;
                    let a = r.any_of.as_ref().ok_or_else(|| need("any_of"))?;
                    let any_of = a
                        .get_ref()
                        .iter()
                        .map(|n| known(n, a.span()))
                        .collect::<Result<Vec<_>, _>>()?;
                    if any_of.is_empty() {
                        return Err(rule_err(a.span(), "`any_of` is empty".into()));
                    }
                    if let Some(both) = when.iter().find(|w| any_of.contains(w)) {
                        return Err(self_ref(when_span, both));
                    }
                    RuleKind::RequiresAny { when, any_of }
                }
                "requires_psl" => RuleKind::RequiresPsl {
                    when: one_when(r)?,
                    psl: psls(r)?,
                },
                _ => RuleKind::ExcludesPsl {
                    when: one_when(r)?,
                    psl: psls(r)?,
                },
            };
            let fix = match (&r.fix, &kind) {
                (None, _) => None,
                (Some(f), RuleKind::Implies { when, then }) => match f.get_ref().trim() {
                    "set" => Some(FixSpec {
                        license: then.clone(),
                        value: true,
                    }),
                    "clear" => Some(FixSpec {
                        license: when.clone(),
                        value: false,
                    }),
                    other => {
                        return Err(rule_err(
                            f.span(),
                            format!(
                                "unknown fix `{other}`: \"set\" gives the user `then`, \"clear\" \
                                 takes `when` away"
                            ),
                        ));
                    }
                },
                (Some(f), RuleKind::Disabled { license }) => match f.get_ref().trim() {
                    "clear" => Some(FixSpec {
                        license: license.clone(),
                        value: false,
                    }),
                    other => {
                        return Err(rule_err(
                            f.span(),
                            format!(
                                "unknown fix `{other}`: a disabled license can only be \"clear\"ed"
                            ),
                        ));
                    }
                },
                (Some(f), _) => {
                    return Err(rule_err(f.span(), format!("kind `{kind_name}` has no fix")));
                }
            };
            rules.push(PackRule {
                id,
                severity,
                explanation: r.explanation.get_ref().trim().to_string(),
                kind,
                fix,
            });
        }
        Ok(Pack {
            source: source.to_string(),
            namespace,
            object,
            user_field,
            licenses,
            rules,
            package_seats: raw.totals.package_seats.unwrap_or(true),
        })
    }
}

/// 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at.min(text.len()))
        .map(|s| s.matches('\n').count() + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_pack_is_valid_and_holds_natterboxs_rules() {
        let pack = Pack::builtin();
        assert_eq!(pack.object, "nbavs__User__c");
        let kinds: Vec<&str> = pack.rules.iter().map(|r| r.kind.name()).collect();
        for kind in [
            "implies",
            "excludes",
            "disabled",
            "requires_any",
            "requires_psl",
            "excludes_psl",
        ] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }
        assert!(
            pack.psls()
                .contains("ServiceCloudVoiceExternalTelephonyPsl")
        );
    }

    fn with_rule(rule: &str) -> String {
        format!(
            "[package]\nnamespace = \"nbavs\"\nobject = \"nbavs__User__c\"\nuser_field = \"nbavs__User__c\"\n\
             [licenses]\ncti = \"nbavs__CTI__c\"\nfreedom = \"nbavs__Freedom__c\"\n\n[[rule]]\n{rule}"
        )
    }

    #[test]
    fn an_unknown_kind_names_file_line_and_rule() {
        let text = with_rule(
            "id = \"r1\"\nkind = \"forbids\"\nseverity = \"error\"\nexplanation = \"x\"\n",
        );
        let e = Pack::parse(&text, "pack.toml").unwrap_err();
        assert_eq!((e.line, e.rule.as_deref()), (11, Some("r1")));
        assert!(
            e.to_string()
                .starts_with("pack.toml:11: rule `r1`: unknown kind `forbids`"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_field_names_its_line() {
        let text = with_rule(
            "id = \"r1\"\nkind = \"disabled\"\nlicense = \"cti\"\nseverity = \"error\"\nexplanation = \"x\"\ncolour = \"red\"\n",
        );
        let e = Pack::parse(&text, "pack.toml").unwrap_err();
        assert_eq!(e.line, 15, "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
        // A known key on the wrong kind names the rule too.
        let text = with_rule(
            "id = \"r2\"\nkind = \"disabled\"\nlicense = \"cti\"\nthen = \"freedom\"\nseverity = \"error\"\nexplanation = \"x\"\n",
        );
        let e = Pack::parse(&text, "pack.toml").unwrap_err();
        assert_eq!((e.line, e.rule.as_deref()), (13, Some("r2")), "{e}");
    }

    #[test]
    fn a_rule_that_references_itself_is_refused() {
        let text = with_rule(
            "id = \"loop\"\nkind = \"implies\"\nwhen = \"cti\"\nthen = \"cti\"\nseverity = \"error\"\nexplanation = \"x\"\n",
        );
        let e = Pack::parse(&text, "pack.toml").unwrap_err();
        assert_eq!((e.line, e.rule.as_deref()), (13, Some("loop")), "{e}");
        assert!(e.message.contains("on both sides"), "{e}");
        let text = with_rule(
            "id = \"twice\"\nkind = \"excludes\"\nlicenses = [\"cti\", \"cti\"]\nseverity = \"error\"\nexplanation = \"x\"\n",
        );
        assert!(
            Pack::parse(&text, "p")
                .unwrap_err()
                .message
                .contains("on both sides")
        );
    }

    #[test]
    fn an_unknown_license_lists_the_known_ones() {
        let text = with_rule(
            "id = \"r\"\nkind = \"disabled\"\nlicense = \"pci\"\nseverity = \"warning\"\nexplanation = \"x\"\n",
        );
        let e = Pack::parse(&text, "p").unwrap_err();
        assert!(
            e.message.contains("unknown license `pci`") && e.message.contains("cti, freedom"),
            "{e}"
        );
    }
}
