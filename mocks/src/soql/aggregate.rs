//! Aggregate queries: GROUP BY and the aggregate functions (`COUNT(Id)`, `COUNT(field)`,
//! `COUNT_DISTINCT`, `MIN`, `MAX`, `SUM`, `AVG`), answered as `AggregateResult` rows the way the
//! REST API shapes them: `attributes` holds only `"type": "AggregateResult"` (no `url`), grouped
//! fields keep their field name (a parent path's too: `User.Username` answers `Username`), and
//! each aggregate is under its alias or, without one, `expr0`, `expr1`... counting only the
//! aggregates without an alias.
//!
//! It owns Salesforce's rules for these queries (SOQL and SOSL Reference, "Aggregate Functions",
//! "Support for Field Types in Aggregate Functions", "GROUP BY", "Considerations for GROUP BY"):
//! a selected field must be grouped or aggregated, a field must be groupable to be grouped, an
//! aggregate takes only the field types the reference lists, ORDER BY names grouped fields only,
//! and an aggregate function with LIMIT needs GROUP BY. Paging (the no-queryMore rule) is the
//! HTTP layer's. It reuses the evaluator's name resolution and compiled filters and must not
//! clone records: the scan over a million `VoiceCall` rows allocates only for the rows that
//! pass the WHERE clause.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Number, Value};

use super::ast::{AggFn, AggregateCall, FieldPath, Query, Select, SelectItem};
use super::error::{SoqlError, SoqlErrorCode};
use super::eval::{Access, Compiler, SortSpec, SortVal, candidates, compare_keys, sort_val};
use super::value::{fold, id_key};
use super::{FieldType, Record, Selection};

/// Salesforce refuses OFFSET above this (as for any query).
const MAX_OFFSET: u64 = 2000;

/// One grouped field, resolved.
struct GroupField {
    /// How to read it from a record.
    access: Access,
    /// Its type: decides how values are told apart (ids by their 15-character form, text
    /// case-insensitively) and how groups sort.
    ty: FieldType,
    /// Canonical `Relationship.Field` (or `Field`), lowercased: what a SELECT or ORDER BY
    /// item must match to count as grouped.
    key: String,
}

/// One output column, in SELECT order.
enum Column {
    /// A grouped field: its index in the GROUP BY list and the key it answers under.
    Grouped { index: usize, name: String },
    /// An aggregate: its index in the accumulators and the key it answers under.
    Aggregate { index: usize, name: String },
}

/// One compiled aggregate function.
struct Agg {
    /// Which function.
    func: AggFn,
    /// Its field; None for `COUNT()`, which counts rows.
    access: Option<Access>,
    /// The field's type (for MIN/MAX order and SUM's integer answers).
    ty: FieldType,
}

/// The running value of one aggregate in one group.
enum Acc {
    /// COUNT(): rows; COUNT(field): non-null values.
    Count(u64),
    /// COUNT_DISTINCT: the distinct non-null values, normalised like group keys.
    Distinct(HashSet<String>),
    /// MIN / MAX: the best value so far, with its sort key.
    Best(Option<(SortVal, Value)>),
    /// SUM / AVG: the total and how many non-null values made it.
    Sum { total: f64, n: u64 },
}

/// One group: the first record's values of the grouped fields, and its accumulators.
struct Group {
    /// The grouped fields' values as stored (null for a null group).
    values: Vec<Value>,
    /// One accumulator per aggregate, in SELECT order.
    accs: Vec<Acc>,
}

pub(super) fn select(
    query: &Query,
    cx: &Compiler<'_>,
    object: &str,
) -> Result<Selection, SoqlError> {
    let items = match &query.select {
        Select::Items(items) => items,
        // The parser refuses COUNT() with GROUP BY, and a lone COUNT() is not an aggregate query.
        Select::Count => return Ok(Selection::Aggregate(Vec::new())),
    };
    let groups = query
        .group_by
        .iter()
        .map(|path| group_field(cx, object, path))
        .collect::<Result<Vec<_>, _>>()?;
    let (columns, aggs) = columns(cx, object, items, &groups)?;
    let order = order(cx, object, query, &groups)?;
    if query.group_by.is_empty()
        && let Some(limit) = query.limit
    {
        let at = query.text.to_ascii_uppercase().rfind("LIMIT").unwrap_or(0);
        return Err(cx.err(
            SoqlErrorCode::MalformedQuery,
            at,
            &format!(
                "LIMIT {limit} with an aggregate function needs a GROUP BY clause (SOQL and SOSL \
                 Reference, Considerations for GROUP BY)"
            ),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(SoqlError::plain(
            SoqlErrorCode::NumberOutsideValidRange,
            format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
        ));
    }
    let filter = query
        .filter
        .as_ref()
        .map(|c| cx.condition(object, c))
        .transpose()?;

    let data = cx.data;
    let mut index: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let mut found: Vec<Group> = Vec::new();
    for (_, rec) in candidates(filter.as_ref(), object, data) {
        if !filter.as_ref().is_none_or(|f| f.eval(rec, data)) {
            continue;
        }
        let key: Vec<Option<String>> = groups
            .iter()
            .map(|g| group_key(g.access.get(rec, data), g.ty))
            .collect();
        let at = match index.get(&key) {
            Some(&at) => at,
            None => {
                found.push(Group {
                    values: groups
                        .iter()
                        .map(|g| g.access.get(rec, data).cloned().unwrap_or(Value::Null))
                        .collect(),
                    accs: aggs.iter().map(start).collect(),
                });
                index.insert(key, found.len() - 1);
                found.len() - 1
            }
        };
        for (acc, agg) in found[at].accs.iter_mut().zip(&aggs) {
            add(acc, agg, rec, data);
        }
    }
    if groups.is_empty() && found.is_empty() {
        // Without GROUP BY there is always exactly one row: COUNT 0, MAX null...
        found.push(Group {
            values: Vec::new(),
            accs: aggs.iter().map(start).collect(),
        });
    }
    if !order.is_empty() {
        let mut keyed: Vec<(Vec<Option<SortVal>>, Group)> = found
            .into_iter()
            .map(|g| {
                let keys = order
                    .iter()
                    .map(|(i, spec)| sort_val(Some(&g.values[*i]), spec.ty))
                    .collect();
                (keys, g)
            })
            .collect();
        let specs: Vec<SortSpec> = order.into_iter().map(|(_, s)| s).collect();
        keyed.sort_by(|(a, _), (b, _)| compare_keys(&specs, a, b));
        found = keyed.into_iter().map(|(_, g)| g).collect();
    }
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let rows = found
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|g| row(&columns, &aggs, g))
        .collect();
    Ok(Selection::Aggregate(rows))
}

/// The canonical key of a path, to tell whether a SELECT or ORDER BY item names a grouped field.
fn path_key(cx: &Compiler<'_>, object: &str, path: &FieldPath) -> Result<String, SoqlError> {
    let r = cx.resolve(object, path)?;
    Ok(match &r.parent {
        None => r.field.to_ascii_lowercase(),
        Some((rel, _, _)) => format!("{rel}.{}", r.field).to_ascii_lowercase(),
    })
}

fn group_field(cx: &Compiler<'_>, object: &str, path: &FieldPath) -> Result<GroupField, SoqlError> {
    let r = cx.resolve(object, path)?;
    if !r.groupable {
        return Err(cx.err(
            SoqlErrorCode::MalformedQuery,
            path.pos,
            &format!("field '{}' can not be grouped in a query call", r.field),
        ));
    }
    let key = path_key(cx, object, path)?;
    Ok(GroupField {
        access: r.access,
        ty: r.ty,
        key,
    })
}

/// The output columns and the compiled aggregates, checking that every plain field is grouped
/// and every aggregate takes its field's type.
fn columns(
    cx: &Compiler<'_>,
    object: &str,
    items: &[SelectItem],
    groups: &[GroupField],
) -> Result<(Vec<Column>, Vec<Agg>), SoqlError> {
    let mut columns = Vec::with_capacity(items.len());
    let mut aggs = Vec::new();
    let mut unnamed = 0usize;
    for item in items {
        match item {
            SelectItem::Field { path, alias } => {
                let key = path_key(cx, object, path)?;
                let Some(index) = groups.iter().position(|g| g.key == key) else {
                    return Err(cx.err(
                        SoqlErrorCode::MalformedQuery,
                        path.pos,
                        &format!("Field must be grouped or aggregated: {}", path.display()),
                    ));
                };
                let name = match alias {
                    Some(a) => a.text.clone(),
                    None => cx.resolve(object, path)?.field,
                };
                columns.push(Column::Grouped { index, name });
            }
            SelectItem::Aggregate(call) => {
                let name = match &call.alias {
                    Some(a) => a.text.clone(),
                    None => {
                        unnamed += 1;
                        format!("expr{}", unnamed - 1)
                    }
                };
                columns.push(Column::Aggregate {
                    index: aggs.len(),
                    name,
                });
                aggs.push(compile_agg(cx, object, call)?);
            }
        }
    }
    Ok((columns, aggs))
}

/// Whether `func` takes a field of `ty` ("Support for Field Types in Aggregate Functions"):
/// none takes a boolean; AVG and SUM only numbers; COUNT, COUNT_DISTINCT, MIN and MAX also
/// ids, references, text, dates and dateTimes.
fn supports(func: AggFn, ty: FieldType) -> bool {
    match ty {
        FieldType::Boolean => false,
        FieldType::Int | FieldType::Double => true,
        FieldType::Id
        | FieldType::Reference
        | FieldType::String
        | FieldType::Date
        | FieldType::DateTime => !matches!(func, AggFn::Avg | AggFn::Sum),
    }
}

fn compile_agg(cx: &Compiler<'_>, object: &str, call: &AggregateCall) -> Result<Agg, SoqlError> {
    let Some(path) = &call.arg else {
        return Ok(Agg {
            func: call.func,
            access: None,
            ty: FieldType::Id,
        });
    };
    let r = cx.resolve(object, path)?;
    if !r.aggregatable || !supports(call.func, r.ty) {
        return Err(cx.err(
            SoqlErrorCode::MalformedQuery,
            path.pos,
            &format!(
                "field {} does not support aggregate operator {}",
                r.field,
                call.func.name()
            ),
        ));
    }
    Ok(Agg {
        func: call.func,
        access: Some(r.access),
        ty: r.ty,
    })
}

/// ORDER BY of an aggregate query: each item must be a grouped field; answers the grouped
/// field's index with its sort spec.
fn order(
    cx: &Compiler<'_>,
    object: &str,
    query: &Query,
    groups: &[GroupField],
) -> Result<Vec<(usize, SortSpec)>, SoqlError> {
    query
        .order_by
        .iter()
        .map(|item| {
            let key = path_key(cx, object, &item.field)?;
            let Some(index) = groups.iter().position(|g| g.key == key) else {
                return Err(cx.err(
                    SoqlErrorCode::MalformedQuery,
                    item.field.pos,
                    &format!(
                        "Ordered field must be grouped or aggregated: {}",
                        item.field.display()
                    ),
                ));
            };
            let r = cx.resolve(object, &item.field)?;
            Ok((
                index,
                SortSpec {
                    access: r.access,
                    ty: r.ty,
                    descending: item.descending,
                    nulls_first: item.nulls_first.unwrap_or(!item.descending),
                },
            ))
        })
        .collect()
}

/// How a grouped value is told apart: ids by their 15-character form, text case-insensitively
/// (empty text is null, as Salesforce stores it), booleans never null.
fn group_key(v: Option<&Value>, ty: FieldType) -> Option<String> {
    if ty == FieldType::Boolean {
        return Some(v.and_then(Value::as_bool).unwrap_or(false).to_string());
    }
    let v = v?;
    match (ty, v) {
        (FieldType::Id | FieldType::Reference, Value::String(s)) if !s.is_empty() => {
            Some(id_key(s).to_string())
        }
        (FieldType::String, Value::String(s)) if !s.is_empty() => Some(fold(s).into_owned()),
        (_, Value::String(s)) if s.is_empty() => None,
        (_, Value::String(s)) => Some(s.clone()),
        (_, other) => Some(other.to_string()),
    }
}

fn start(agg: &Agg) -> Acc {
    match agg.func {
        AggFn::Count => Acc::Count(0),
        AggFn::CountDistinct => Acc::Distinct(HashSet::new()),
        AggFn::Min | AggFn::Max => Acc::Best(None),
        AggFn::Sum | AggFn::Avg => Acc::Sum { total: 0.0, n: 0 },
    }
}

/// Adds one record to an accumulator; nulls count only for `COUNT()`.
fn add(acc: &mut Acc, agg: &Agg, rec: &Record, data: &dyn super::DataSource) {
    let value = agg.access.as_ref().map(|a| a.get(rec, data));
    match acc {
        Acc::Count(n) => {
            if value.is_none_or(|v| v.is_some()) {
                *n += 1;
            }
        }
        Acc::Distinct(seen) => {
            if let Some(key) = value.and_then(|v| group_key(v, agg.ty)) {
                seen.insert(key);
            }
        }
        Acc::Best(best) => {
            let Some(v) = value.flatten() else { return };
            let Some(key) = sort_val(Some(v), agg.ty) else {
                return;
            };
            let better = match best {
                None => true,
                Some((current, _)) => {
                    let ord = key.partial_cmp(current).unwrap_or(Ordering::Equal);
                    match agg.func {
                        AggFn::Min => ord == Ordering::Less,
                        _ => ord == Ordering::Greater,
                    }
                }
            };
            if better {
                *best = Some((key, v.clone()));
            }
        }
        Acc::Sum { total, n } => {
            let number = value.flatten().and_then(|v| match v {
                Value::Number(x) => x.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            });
            if let Some(x) = number {
                *total += x;
                *n += 1;
            }
        }
    }
}

/// The value an accumulator answers: COUNT a whole number, SUM of an int field a whole number,
/// AVG and other sums a double, MIN / MAX the stored value; null when nothing was counted.
fn finish(acc: Acc, agg: &Agg) -> Value {
    match acc {
        Acc::Count(n) => Value::from(n),
        Acc::Distinct(seen) => Value::from(seen.len() as u64),
        Acc::Best(best) => best.map_or(Value::Null, |(_, v)| v),
        Acc::Sum { n: 0, .. } => Value::Null,
        Acc::Sum { total, n } => {
            let x = if agg.func == AggFn::Avg {
                total / n as f64
            } else {
                total
            };
            if agg.func == AggFn::Sum && agg.ty == FieldType::Int && x.fract() == 0.0 {
                #[allow(clippy::cast_possible_truncation)]
                return Value::from(x as i64);
            }
            Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
    }
}

fn row(columns: &[Column], aggs: &[Agg], group: Group) -> Value {
    let mut out = Map::with_capacity(columns.len() + 1);
    let mut attributes = Map::with_capacity(1);
    attributes.insert("type".into(), Value::String("AggregateResult".into()));
    out.insert("attributes".into(), Value::Object(attributes));
    let mut accs: Vec<Option<Acc>> = group.accs.into_iter().map(Some).collect();
    for column in columns {
        match column {
            Column::Grouped { index, name } => {
                out.insert(name.clone(), group.values[*index].clone());
            }
            Column::Aggregate { index, name } => {
                let value = accs[*index]
                    .take()
                    .map_or(Value::Null, |acc| finish(acc, &aggs[*index]));
                out.insert(name.clone(), value);
            }
        }
    }
    Value::Object(out)
}
