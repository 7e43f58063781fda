//! Evaluator: resolves a parsed [`Query`] against the catalog (reporting INVALID_TYPE /
//! INVALID_FIELD / INVALID_QUERY_FILTER_OPERATOR before any row is read), compiles the WHERE
//! clause into a typed filter, scans the records once, sorts only the matched ones and applies
//! OFFSET / LIMIT, answering record keys; [`RowShape`] shapes rows like the REST API, only for the
//! records a caller actually returns.
//!
//! It must not clone a record, nor mutate anything: it reads through [`DataSource`] only. The
//! scan is the hot path (400 000 assignments in a large org): per record it must not allocate,
//! re-parse or re-lowercase literals; `IN` lists and semi-joins are hash sets built once.
//!
//! How a value compares with a literal (typing, case folding, ids, dates, LIKE) is in
//! [`super::value`]; this module decides which comparison a condition compiles to.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::ast::{
    CmpOp, Cond, FieldPath, LikeTok, LitAt, Literal, Name, Query, Select, SelectItem,
};
use super::error::{SoqlError, SoqlErrorCode};
pub(crate) use super::value::like_match;
use super::value::{FieldVal, TypedVal, compare, field_val, fold, id_key};
use super::{Catalog, DataSource, ExecContext, FieldType, Record, RecordKey, Selection};

/// Salesforce refuses OFFSET above this.
const MAX_OFFSET: u64 = 2000;

pub(crate) fn select(
    query: &Query,
    catalog: &dyn Catalog,
    data: &dyn DataSource,
    ctx: &ExecContext,
) -> Result<Selection, SoqlError> {
    let cx = Compiler {
        text: &query.text,
        catalog,
        data,
        today: ctx.today,
    };
    let object = cx.object(&query.from)?;
    if query.is_aggregate() {
        return super::aggregate::select(query, &cx, &object);
    }
    let columns = match &query.select {
        Select::Count => None,
        Select::Items(items) => {
            let paths: Vec<FieldPath> = items
                .iter()
                .filter_map(|item| match item {
                    SelectItem::Field { path, .. } => Some(path.clone()),
                    SelectItem::Aggregate(_) => None,
                })
                .collect();
            Some(cx.columns(&object, &paths)?)
        }
    };
    let filter = query
        .filter
        .as_ref()
        .map(|c| cx.condition(&object, c))
        .transpose()?;
    let order: Vec<SortSpec> = query
        .order_by
        .iter()
        .map(|item| {
            let r = cx.resolve(&object, &item.field)?;
            Ok(SortSpec {
                access: r.access,
                ty: r.ty,
                descending: item.descending,
                nulls_first: item.nulls_first.unwrap_or(!item.descending),
            })
        })
        .collect::<Result<_, SoqlError>>()?;
    let offset = query.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(SoqlError::plain(
            SoqlErrorCode::NumberOutsideValidRange,
            format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
        ));
    }
    let limit = query.limit.unwrap_or(u64::MAX);
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);

    let passes = |r: &Record| filter.as_ref().is_none_or(|f| f.eval(r, data));
    let matched = candidates(filter.as_ref(), &object, data).filter(|(_, r)| passes(r));

    let Some(columns) = columns else {
        let n = matched.count();
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        return Ok(Selection::Count(n.saturating_sub(offset).min(limit)));
    };
    let shape = RowShape::new(object, columns, &ctx.api_version);

    let keys: Vec<RecordKey> = if order.is_empty() {
        // Lazy all the way: a LIMIT stops the scan as soon as it is reached.
        matched.skip(skip).take(take).map(|(key, _)| key).collect()
    } else {
        let mut keyed: Vec<(Vec<Option<SortVal>>, RecordKey)> = matched
            .map(|(key, r)| {
                let keys = order
                    .iter()
                    .map(|s| sort_val(s.access.get(r, data), s.ty))
                    .collect();
                (keys, key)
            })
            .collect();
        // `sort_by` is stable: ties keep the store's order, as they would on a real org.
        keyed.sort_by(|(a, _), (b, _)| compare_keys(&order, a, b));
        keyed
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|(_, key)| key)
            .collect()
    };
    Ok(Selection::Records { keys, shape })
}

/// The records a filter may match: through the source's index when the WHERE clause's top-level
/// AND holds `field IN (ids)` on an indexed field, else every record of the object. Either way
/// in store order, and the caller still applies the whole filter.
pub(super) fn candidates<'a>(
    filter: Option<&Filter<'_>>,
    object: &str,
    data: &'a dyn DataSource,
) -> Box<dyn Iterator<Item = (RecordKey, &'a Record)> + 'a> {
    if let Some((field, ids)) = filter.and_then(Filter::id_list)
        && let Some(hits) = data.records_with(object, field, ids)
    {
        return Box::new(hits.into_iter());
    }
    data.records(object)
}

/// Resolves names against the catalog and compiles filters, with the query text at hand for
/// positioned errors.
pub(super) struct Compiler<'c> {
    /// The query text, quoted in positioned errors.
    pub(super) text: &'c str,
    /// Names and types of objects, fields and relationships.
    pub(super) catalog: &'c dyn Catalog,
    /// Records, read by semi-joins while compiling; their ids are borrowed by the compiled
    /// filter rather than copied.
    pub(super) data: &'c dyn DataSource,
    /// Anchor of relative date literals.
    pub(super) today: NaiveDate,
}

/// How to read one field (possibly through a parent) from a record.
#[derive(Debug, Clone)]
pub(super) enum Access {
    Local {
        /// Canonical field name.
        name: String,
        /// Where the field sat in the last record that had it: records of one object list their
        /// fields in the same order, so checking that position first replaces hashing the name
        /// and probing the record's table, once per field and record of a 400 000-record scan.
        hint: Cell<usize>,
    },
    Parent {
        id_field: String,
        field: String,
    },
}

impl Access {
    fn local(name: String) -> Access {
        Access::Local {
            name,
            hint: Cell::new(0),
        }
    }

    /// The field's value, or None when it is null, absent or its parent does not resolve.
    pub(super) fn get<'a>(&self, rec: &'a Record, data: &'a dyn DataSource) -> Option<&'a Value> {
        let v = match self {
            Access::Local { name, hint } => field_at_hint(rec, name, hint)?,
            Access::Parent { id_field, field } => {
                let id = rec.get(id_field)?.as_str()?;
                data.by_id(id)?.get(field)?
            }
        };
        (!v.is_null()).then_some(v)
    }
}

/// `rec[name]`, looked for first at `hint`, then along the record (a record holds a few dozen
/// fields at most; most names differ in length, so few comparisons read a key's bytes).
fn field_at_hint<'a>(rec: &'a Record, name: &str, hint: &Cell<usize>) -> Option<&'a Value> {
    if let Some((key, value)) = rec.iter().nth(hint.get())
        && key == name
    {
        return Some(value);
    }
    let (i, (_, value)) = rec.iter().enumerate().find(|(_, (key, _))| *key == name)?;
    hint.set(i);
    Some(value)
}

/// A resolved field path.
pub(super) struct Resolved {
    /// How to read the value from a record.
    pub(super) access: Access,
    /// The field's type, deciding literal checks and comparison.
    pub(super) ty: FieldType,
    /// Canonical relationship, its id field and target object, for parent paths.
    pub(super) parent: Option<(String, String, String)>,
    /// Canonical field name (on the parent for parent paths).
    pub(super) field: String,
    /// Whether GROUP BY may name it (describe `groupable`).
    pub(super) groupable: bool,
    /// Whether aggregate functions may take it at all (describe `aggregatable`).
    pub(super) aggregatable: bool,
}

/// One entry of the output row, in SELECT order.
#[derive(Debug, Clone)]
enum Column {
    Local(String),
    Parent {
        relationship: String,
        id_field: String,
        target: String,
        fields: Vec<String>,
    },
}

impl<'c> Compiler<'c> {
    pub(super) fn err(&self, code: SoqlErrorCode, pos: usize, detail: &str) -> SoqlError {
        SoqlError::at(code, self.text, pos, detail)
    }

    fn object(&self, name: &Name) -> Result<String, SoqlError> {
        self.catalog.object(&name.text).ok_or_else(|| {
            self.err(
                SoqlErrorCode::InvalidType,
                name.pos,
                &format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom \
                     object, be sure to append the '__c' after the entity name. Please reference \
                     your WSDL or the describe call for the appropriate names.",
                    name.text
                ),
            )
        })
    }

    fn no_such_column(&self, path: &FieldPath, field: &str, object: &str) -> SoqlError {
        self.err(
            SoqlErrorCode::InvalidField,
            path.pos,
            &format!(
                "No such column '{field}' on entity '{object}'. If you are attempting to use a \
                 custom field, be sure to append the '__c' after the custom field name. Please \
                 reference your WSDL or the describe call for the appropriate names."
            ),
        )
    }

    pub(super) fn resolve(&self, object: &str, path: &FieldPath) -> Result<Resolved, SoqlError> {
        match path.segments.as_slice() {
            [field] => {
                let info = self
                    .catalog
                    .field(object, field)
                    .ok_or_else(|| self.no_such_column(path, field, object))?;
                Ok(Resolved {
                    access: Access::local(info.name.clone()),
                    ty: info.ty,
                    parent: None,
                    field: info.name,
                    groupable: info.groupable,
                    aggregatable: info.aggregatable,
                })
            }
            [rel, field] => {
                let rel_info = self.catalog.relationship(object, rel).ok_or_else(|| {
                    self.err(
                        SoqlErrorCode::InvalidField,
                        path.pos,
                        &format!(
                            "Didn't understand relationship '{rel}' in field path. If you are \
                             attempting to use a custom relationship, be sure to append the \
                             '__r' after the custom relationship name. Please reference your \
                             WSDL or the describe call for the appropriate names."
                        ),
                    )
                })?;
                let info = self
                    .catalog
                    .field(&rel_info.target, field)
                    .ok_or_else(|| self.no_such_column(path, field, &rel_info.target))?;
                Ok(Resolved {
                    access: Access::Parent {
                        id_field: rel_info.id_field.clone(),
                        field: info.name.clone(),
                    },
                    ty: info.ty,
                    parent: Some((rel_info.name, rel_info.id_field, rel_info.target)),
                    field: info.name,
                    groupable: info.groupable,
                    aggregatable: info.aggregatable,
                })
            }
            _ => Err(self.err(
                SoqlErrorCode::MalformedQuery,
                path.pos,
                &format!(
                    "The field path '{}' crosses more than one relationship; sfsim, the \
                     Salesforce simulator, supports only one-level parent paths such as \
                     'Assignee.Username'.",
                    path.display()
                ),
            )),
        }
    }

    /// Resolves the SELECT list, merging fields of one parent into one nested column placed
    /// where that parent is first named.
    fn columns(&self, object: &str, paths: &[FieldPath]) -> Result<Vec<Column>, SoqlError> {
        let mut columns: Vec<Column> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for path in paths {
            let r = self.resolve(object, path)?;
            let key = match &r.parent {
                None => r.field.to_ascii_lowercase(),
                Some((rel, _, _)) => format!("{}.{}", rel, r.field).to_ascii_lowercase(),
            };
            if !seen.insert(key) {
                return Err(self.err(
                    SoqlErrorCode::MalformedQuery,
                    path.pos,
                    &format!("duplicate field selected: {}", path.display()),
                ));
            }
            match r.parent {
                None => columns.push(Column::Local(r.field)),
                Some((rel, id_field, target)) => {
                    let existing = columns.iter_mut().find_map(|c| match c {
                        Column::Parent {
                            relationship,
                            fields,
                            ..
                        } if *relationship == rel => Some(fields),
                        _ => None,
                    });
                    match existing {
                        Some(fields) => fields.push(r.field),
                        None => columns.push(Column::Parent {
                            relationship: rel,
                            id_field,
                            target,
                            fields: vec![r.field],
                        }),
                    }
                }
            }
        }
        Ok(columns)
    }

    pub(super) fn condition(&self, object: &str, cond: &'c Cond) -> Result<Filter<'c>, SoqlError> {
        Ok(match cond {
            Cond::And(parts) => Filter::All(
                parts
                    .iter()
                    .map(|c| self.condition(object, c))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Or(parts) => Filter::Any(
                parts
                    .iter()
                    .map(|c| self.condition(object, c))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Not(inner) => Filter::Not(Box::new(self.condition(object, inner)?)),
            Cond::Compare { field, op, value } => self.compare(object, field, *op, value)?,
            Cond::In {
                field,
                negated,
                values,
            } => {
                let r = self.resolve(object, field)?;
                let mut items = Vec::with_capacity(values.len());
                let mut has_null = false;
                for v in values {
                    match self.typed(&r, field, v)? {
                        Some(t) => items.push(t),
                        None => has_null = true,
                    }
                }
                negate(
                    *negated,
                    Filter::Test {
                        access: r.access,
                        ty: r.ty,
                        test: in_test(r.ty, items, has_null),
                    },
                )
            }
            Cond::Like { field, pattern } => {
                let r = self.resolve(object, field)?;
                if r.ty != FieldType::String {
                    return Err(self.bad_operator(field, r.ty));
                }
                Filter::Test {
                    access: r.access,
                    ty: r.ty,
                    test: Test::Like(pattern),
                }
            }
            Cond::SemiJoin {
                field,
                negated,
                sub,
            } => {
                let r = self.resolve(object, field)?;
                if !is_id_type(r.ty) {
                    return Err(self.err(
                        SoqlErrorCode::MalformedQuery,
                        field.pos,
                        &format!(
                            "Semi join sub-selects are only allowed on Id or reference fields; \
                             '{}' is neither",
                            field.display()
                        ),
                    ));
                }
                let sub_object = self.object(&sub.from)?;
                let sub_field = self.resolve(&sub_object, &sub.field)?;
                if !is_id_type(sub_field.ty) {
                    return Err(self.err(
                        SoqlErrorCode::MalformedQuery,
                        sub.field.pos,
                        &format!(
                            "A semi join sub-select must select an Id or reference field; '{}' \
                             is neither",
                            sub.field.display()
                        ),
                    ));
                }
                let sub_filter = sub
                    .filter
                    .as_ref()
                    .map(|c| self.condition(&sub_object, c))
                    .transpose()?;
                // The inner query runs once; the outer filter then tests set membership. The
                // set borrows the ids from the records instead of copying them.
                let data = self.data;
                let ids: HashSet<&'c str> = data
                    .records(&sub_object)
                    .filter(|(_, rec)| sub_filter.as_ref().is_none_or(|f| f.eval(rec, data)))
                    .filter_map(|(_, rec)| sub_field.access.get(rec, data)?.as_str())
                    .map(id_key)
                    .collect();
                negate(
                    *negated,
                    Filter::Test {
                        access: r.access,
                        ty: r.ty,
                        // A record whose field is null is not in the inner query's ids.
                        test: Test::IdIn {
                            ids,
                            has_null: false,
                        },
                    },
                )
            }
        })
    }

    fn compare(
        &self,
        object: &str,
        field: &FieldPath,
        op: CmpOp,
        value: &'c LitAt,
    ) -> Result<Filter<'c>, SoqlError> {
        let r = self.resolve(object, field)?;
        let ordering_op = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        if r.ty == FieldType::Boolean && ordering_op {
            return Err(self.bad_operator(field, r.ty));
        }
        let typed = self.typed(&r, field, value)?;
        let test = match (typed, op) {
            (Some(lit), op) => Test::Cmp { op, lit },
            (None, CmpOp::Eq) => Test::IsNull,
            (None, CmpOp::Ne) => Test::NotNull,
            // Ordering against null matches nothing.
            (None, _) => Test::Never,
        };
        Ok(Filter::Test {
            access: r.access,
            ty: r.ty,
            test,
        })
    }

    fn bad_operator(&self, field: &FieldPath, ty: FieldType) -> SoqlError {
        self.err(
            SoqlErrorCode::InvalidQueryFilterOperator,
            field.pos,
            &format!("invalid operator on {} field", type_word(ty)),
        )
    }

    /// Checks a literal against the field's type and converts it; None stands for null.
    fn typed(
        &self,
        r: &Resolved,
        field: &FieldPath,
        value: &'c LitAt,
    ) -> Result<Option<TypedVal<'c>>, SoqlError> {
        let mismatch = |quoted: bool| {
            self.err(
                SoqlErrorCode::InvalidField,
                value.pos,
                &format!(
                    "value of filter criterion for field '{}' must be of type {} and should {}be \
                     enclosed in quotes",
                    field.display(),
                    type_word(r.ty),
                    if quoted { "" } else { "not " }
                ),
            )
        };
        if value.lit == Literal::Null {
            // Booleans are never null on Salesforce: `= null` means `= false`.
            return Ok((r.ty == FieldType::Boolean).then_some(TypedVal::Bool(false)));
        }
        Ok(Some(match r.ty {
            FieldType::String => match &value.lit {
                // Salesforce stores empty strings as null.
                Literal::Str(s) if s.is_empty() => return Ok(None),
                Literal::Str(s) => TypedVal::Str(fold(s).into_owned()),
                _ => return Err(mismatch(true)),
            },
            FieldType::Id | FieldType::Reference => match &value.lit {
                Literal::Str(s) if s.is_empty() => return Ok(None),
                Literal::Str(s) if is_valid_id(s) => TypedVal::Id(id_key(s)),
                Literal::Str(s) => {
                    return Err(self.err(
                        SoqlErrorCode::InvalidQueryFilterOperator,
                        value.pos,
                        &format!("invalid ID field: {s}"),
                    ));
                }
                _ => return Err(mismatch(true)),
            },
            FieldType::Boolean => match value.lit {
                Literal::Bool(b) => TypedVal::Bool(b),
                _ => return Err(mismatch(false)),
            },
            FieldType::Int | FieldType::Double => match value.lit {
                Literal::Number(n) => TypedVal::Num(n),
                _ => return Err(mismatch(false)),
            },
            FieldType::Date => match &value.lit {
                Literal::Date(d) => TypedVal::Days(*d, *d),
                Literal::Relative(rel) => {
                    let (a, b) = rel.range(self.today);
                    TypedVal::Days(a, b)
                }
                _ => return Err(mismatch(false)),
            },
            FieldType::DateTime => match &value.lit {
                Literal::DateTime(dt) => TypedVal::Instant(dt.with_timezone(&Utc)),
                Literal::Relative(rel) => {
                    let (a, b) = rel.range(self.today);
                    TypedVal::Days(a, b)
                }
                _ => return Err(mismatch(false)),
            },
        }))
    }
}

fn negate(negated: bool, f: Filter<'_>) -> Filter<'_> {
    if negated { Filter::Not(Box::new(f)) } else { f }
}

fn is_id_type(ty: FieldType) -> bool {
    matches!(ty, FieldType::Id | FieldType::Reference)
}

/// Salesforce's name for a type in filter error messages.
fn type_word(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Id => "id",
        FieldType::Reference => "reference",
        FieldType::String => "string",
        FieldType::Boolean => "boolean",
        FieldType::Int => "int",
        FieldType::Double => "double",
        FieldType::Date => "date",
        FieldType::DateTime => "dateTime",
    }
}

fn is_valid_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `IN` on a field of `ty`: a hash set for ids and text (one lookup per record instead of one
/// comparison per listed value), a list for the rest (numbers, dates: short lists, no hashing).
/// `items` were typed for `ty`, so the sets lose nothing.
fn in_test(ty: FieldType, items: Vec<TypedVal<'_>>, has_null: bool) -> Test<'_> {
    if is_id_type(ty) {
        let ids = items
            .into_iter()
            .filter_map(|t| match t {
                TypedVal::Id(id) => Some(id),
                _ => None,
            })
            .collect();
        Test::IdIn { ids, has_null }
    } else if ty == FieldType::String {
        let values = items
            .into_iter()
            .filter_map(|t| match t {
                TypedVal::Str(s) => Some(s),
                _ => None,
            })
            .collect();
        Test::TextIn { values, has_null }
    } else {
        Test::In { items, has_null }
    }
}

/// A compiled WHERE clause; `'q` is the life of the query text and of the records it borrows ids
/// from.
pub(super) enum Filter<'q> {
    All(Vec<Filter<'q>>),
    Any(Vec<Filter<'q>>),
    Not(Box<Filter<'q>>),
    Test {
        access: Access,
        ty: FieldType,
        test: Test<'q>,
    },
}

/// A test on one field value.
pub(super) enum Test<'q> {
    IsNull,
    NotNull,
    Never,
    Cmp {
        op: CmpOp,
        lit: TypedVal<'q>,
    },
    /// `IN (...)` on a type without a hash set (numbers, dates, booleans).
    In {
        items: Vec<TypedVal<'q>>,
        has_null: bool,
    },
    /// `IN (...)` on an id or reference field, and semi-joins: 15-character ids.
    IdIn {
        ids: HashSet<&'q str>,
        has_null: bool,
    },
    /// `IN (...)` on a text field: the values folded to lower case.
    TextIn {
        values: HashSet<String>,
        has_null: bool,
    },
    Like(&'q [LikeTok]),
}

impl Filter<'_> {
    /// A local id field and the ids every matching record must hold in it: an `IN (...)` (or
    /// semi-join) without null at the top level of the filter or of its top-level AND.
    fn id_list(&self) -> Option<(&str, &HashSet<&str>)> {
        match self {
            Filter::All(parts) => parts.iter().find_map(Filter::id_list),
            Filter::Test {
                access: Access::Local { name, .. },
                test:
                    Test::IdIn {
                        ids,
                        has_null: false,
                    },
                ..
            } => Some((name.as_str(), ids)),
            _ => None,
        }
    }

    pub(super) fn eval(&self, rec: &Record, data: &dyn DataSource) -> bool {
        match self {
            Filter::All(parts) => parts.iter().all(|f| f.eval(rec, data)),
            Filter::Any(parts) => parts.iter().any(|f| f.eval(rec, data)),
            Filter::Not(inner) => !inner.eval(rec, data),
            Filter::Test { access, ty, test } => {
                let raw = access.get(rec, data);
                let value = field_val(raw, *ty);
                match test {
                    Test::IsNull => value.is_none(),
                    Test::NotNull => value.is_some(),
                    Test::Never => false,
                    Test::Cmp { op, lit } => {
                        let Some(v) = value else {
                            // A null value differs from every non-null literal.
                            return *op == CmpOp::Ne;
                        };
                        let ord = compare(&v, lit);
                        match op {
                            CmpOp::Eq => ord == Some(Ordering::Equal),
                            CmpOp::Ne => ord != Some(Ordering::Equal),
                            CmpOp::Lt => ord == Some(Ordering::Less),
                            CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                            CmpOp::Gt => ord == Some(Ordering::Greater),
                            CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                        }
                    }
                    Test::In { items, has_null } => match value {
                        None => *has_null,
                        Some(v) => items
                            .iter()
                            .any(|l| compare(&v, l) == Some(Ordering::Equal)),
                    },
                    Test::IdIn { ids, has_null } => match value {
                        None => *has_null,
                        Some(FieldVal::Id(id)) => ids.contains(id_key(id)),
                        Some(_) => false,
                    },
                    Test::TextIn { values, has_null } => match value {
                        None => *has_null,
                        Some(FieldVal::Str(s)) => values.contains(fold(&s).as_ref()),
                        Some(_) => false,
                    },
                    Test::Like(pattern) => match value {
                        Some(FieldVal::Str(s)) => like_match(&s, pattern),
                        _ => false,
                    },
                }
            }
        }
    }
}

/// One compiled ORDER BY item.
pub(super) struct SortSpec {
    /// How to read the sort value.
    pub(super) access: Access,
    /// How to interpret it (text sorts case-insensitively, dates chronologically).
    pub(super) ty: FieldType,
    /// DESC reverses the order of non-null values only.
    pub(super) descending: bool,
    /// Where nulls go, already defaulted from the direction.
    pub(super) nulls_first: bool,
}

/// A sort key extracted once per matched record.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub(super) enum SortVal {
    /// Lowercased, since Salesforce sorts text case-insensitively.
    Str(String),
    Bool(bool),
    Num(f64),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

pub(super) fn sort_val(v: Option<&Value>, ty: FieldType) -> Option<SortVal> {
    Some(match field_val(v, ty)? {
        FieldVal::Str(s) => SortVal::Str(s.to_lowercase()),
        FieldVal::Id(s) => SortVal::Str(s.to_string()),
        FieldVal::Bool(b) => SortVal::Bool(b),
        FieldVal::Num(n) => SortVal::Num(n),
        FieldVal::Date(d) => SortVal::Date(d),
        FieldVal::Instant(t) => SortVal::Instant(t),
    })
}

pub(super) fn compare_keys(
    specs: &[SortSpec],
    a: &[Option<SortVal>],
    b: &[Option<SortVal>],
) -> Ordering {
    for (spec, (x, y)) in specs.iter().zip(a.iter().zip(b.iter())) {
        let ord = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => {
                if spec.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (Some(_), None) => {
                if spec.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(y).unwrap_or(Ordering::Equal);
                if spec.descending { o.reverse() } else { o }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The compiled SELECT list of a query: turns a matched record into the row the REST API returns.
/// Built once per query and kept by a query cursor, so a page shapes only its own records.
#[derive(Debug, Clone)]
pub struct RowShape {
    /// Canonical sObject name, the `attributes.type` of every row.
    object: String,
    /// `attributes.url` up to the record id, built once instead of formatted per row.
    url_prefix: String,
    /// The selected fields and parents, in SELECT order.
    columns: Vec<Column>,
    /// `attributes.url` prefixes of each parent column's target, parallel to `columns`.
    parent_urls: Vec<Option<String>>,
}

impl RowShape {
    fn new(object: String, columns: Vec<Column>, api_version: &str) -> RowShape {
        let url_prefix = |o: &str| format!("/services/data/v{api_version}/sobjects/{o}/");
        let parent_urls = columns
            .iter()
            .map(|c| match c {
                Column::Local(_) => None,
                Column::Parent { target, .. } => Some(url_prefix(target)),
            })
            .collect();
        RowShape {
            url_prefix: url_prefix(&object),
            object,
            columns,
            parent_urls,
        }
    }

    /// A matched record as the REST API returns it: `attributes`, then the selected fields in
    /// order, parent fields nested under their relationship (null when the parent does not
    /// resolve to a live record).
    pub fn row(&self, rec: &Record, data: &dyn DataSource) -> Value {
        let mut row = Map::with_capacity(self.columns.len() + 1);
        row.insert(
            "attributes".into(),
            attributes(&self.object, &self.url_prefix, rec),
        );
        for (col, parent_url) in self.columns.iter().zip(&self.parent_urls) {
            match col {
                Column::Local(name) => {
                    row.insert(name.clone(), rec.get(name).cloned().unwrap_or(Value::Null));
                }
                Column::Parent {
                    relationship,
                    id_field,
                    target,
                    fields,
                } => {
                    let parent = rec
                        .get(id_field)
                        .and_then(Value::as_str)
                        .and_then(|pid| data.by_id(pid));
                    let nested = match parent {
                        None => Value::Null,
                        Some(p) => {
                            let mut m = Map::with_capacity(fields.len() + 1);
                            let url = parent_url.as_deref().unwrap_or_default();
                            m.insert("attributes".into(), attributes(target, url, p));
                            for f in fields {
                                m.insert(f.clone(), p.get(f).cloned().unwrap_or(Value::Null));
                            }
                            Value::Object(m)
                        }
                    };
                    row.insert(relationship.clone(), nested);
                }
            }
        }
        Value::Object(row)
    }

    /// The rows of the records `keys` name, in order. A key whose record no longer exists at all
    /// (its insert was rolled back after the query ran) is skipped: there is nothing to show.
    pub fn rows(&self, keys: &[RecordKey], data: &dyn DataSource) -> Vec<Value> {
        keys.iter()
            .filter_map(|key| data.by_key(*key))
            .map(|rec| self.row(rec, data))
            .collect()
    }
}

/// The `attributes` object of a row: its type and the record's URL.
fn attributes(object: &str, url_prefix: &str, rec: &Record) -> Value {
    let id = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut url = String::with_capacity(url_prefix.len() + id.len());
    url.push_str(url_prefix);
    url.push_str(id);
    let mut attrs = Map::with_capacity(2);
    attrs.insert("type".into(), Value::String(object.to_string()));
    attrs.insert("url".into(), Value::String(url));
    Value::Object(attrs)
}
