//! The SOQL engine of sfsim: tokenizer, recursive-descent parser and evaluator for the subset of
//! SOQL that pslwarden sends, answering anything else with Salesforce's error codes and
//! Row/Column-positioned messages.
//!
//! It owns "query text in, rows out", in two steps so that a large result costs only what is
//! read of it: [`select`] finds the matching records (their [`RecordKey`]s in query order) and
//! [`RowShape::rows`] shapes some of them as REST rows; [`execute`] does both at once. Aggregate
//! queries (GROUP BY, `COUNT(Id)`, `MAX(...)`) answer their few `AggregateResult` rows at once. It must not
//! know about HTTP, paging (`nextRecordsUrl`), storage or fixtures: the org store reaches it only
//! through the [`Catalog`] and [`DataSource`] traits, and the HTTP layer turns [`QueryOutput`],
//! [`Selection`] and [`SoqlError`] into wire bodies.

mod aggregate;
mod ast;
mod error;
mod eval;
mod lexer;
mod limits;
mod parser;
#[cfg(test)]
mod tests;
mod value;

pub use ast::Query;
pub use error::{SoqlError, SoqlErrorCode};
pub use eval::RowShape;

/// Parses SOQL text into a [`Query`]; syntax errors and unsupported constructs answer
/// `MALFORMED_QUERY` positioned at the offending token. Salesforce's limits on the text and on
/// semi-joins (see `limits`) are checked here too, before any name is resolved.
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    limits::check_length(text)?;
    let query = parser::parse(text)?;
    limits::check(&query)?;
    Ok(query)
}

pub use limits::{MAX_SEMI_JOINS, MAX_SOQL_CHARS, MAX_WHERE_STRING_CHARS};

/// Validates names against the catalog (so INVALID_FIELD is reported even when there are no rows),
/// then filters, sorts and limits, answering the matched records' keys in query order and how to
/// shape them; no row is built.
pub fn select(
    query: &Query,
    catalog: &dyn Catalog,
    data: &dyn DataSource,
    ctx: &ExecContext,
) -> Result<Selection, SoqlError> {
    eval::select(query, catalog, data, ctx)
}

/// [`select`], then every matched record shaped as a REST row.
pub fn execute(
    query: &Query,
    catalog: &dyn Catalog,
    data: &dyn DataSource,
    ctx: &ExecContext,
) -> Result<QueryOutput, SoqlError> {
    Ok(match select(query, catalog, data, ctx)? {
        Selection::Count(n) => QueryOutput::Count(n),
        Selection::Records { keys, shape } => QueryOutput::Rows(shape.rows(&keys, data)),
        Selection::Aggregate(rows) => QueryOutput::Rows(rows),
    })
}

/// What a query needs from the request and the clock, kept out of the engine so tests and the
/// demo can pin "today".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecContext {
    /// API version of the request path without the "v" (e.g. "65.0"); rows' `attributes.url`
    /// carry it like the real API does.
    pub api_version: String,
    /// The org's current date, from which `TODAY`, `LAST_N_DAYS:n`, `THIS_MONTH`... are evaluated.
    pub today: chrono::NaiveDate,
}

/// The result of a query before the HTTP layer pages it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryOutput {
    /// Records shaped like the REST API (`attributes` first, then the SELECT list in order).
    Rows(Vec<serde_json::Value>),
    /// `SELECT COUNT() ...`: the REST API answers `totalSize` with no records.
    Count(u64),
}

/// What a query matched, before any row is shaped.
#[derive(Debug, Clone)]
pub enum Selection {
    /// `SELECT COUNT() ...`: how many records matched (after OFFSET and LIMIT).
    Count(u64),
    /// The matched records in query order (ORDER BY, OFFSET and LIMIT applied).
    Records {
        /// Keys of the matched records, as the [`DataSource`] issued them.
        keys: Vec<RecordKey>,
        /// The compiled SELECT list, which turns any of those records into its REST row.
        shape: RowShape,
    },
    /// An aggregate query (GROUP BY, or an aggregate function): its `AggregateResult` rows,
    /// built at once because they are few (Salesforce answers them in one batch, no cursor).
    Aggregate(Vec<serde_json::Value>),
}

/// A data source's handle to one stored record. The engine never looks inside: it only hands the
/// key back to [`DataSource::by_key`], so the source decides what the number means (a slot, an
/// index) as long as it keeps naming the same record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey(pub usize);

/// Schema knowledge the engine needs; implemented by the org store.
pub trait Catalog {
    /// Canonical object name (case-insensitive lookup), None if no such sObject.
    fn object(&self, name: &str) -> Option<String>;
    /// Field info for a field of `object` (canonical object name given; field case-insensitive).
    fn field(&self, object: &str, field: &str) -> Option<FieldInfo>;
    /// Parent relationship on `object`, e.g. ("PermissionSetAssignment", "assignee").
    fn relationship(&self, object: &str, relationship: &str) -> Option<RelationshipInfo>;
}

/// One field of an sObject as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Canonical API name, used as the key in output rows.
    pub name: String,
    /// Decides which literals and operators are valid and how values compare.
    pub ty: FieldType,
    /// Whether GROUP BY may name it (describe `groupable`: not dateTime, double or long text).
    pub groupable: bool,
    /// Whether aggregate functions may take it at all (long text areas may not).
    pub aggregatable: bool,
}

impl FieldInfo {
    /// A field of `ty` with Salesforce's defaults for a field of that type that is not a long
    /// text area: groupable unless a dateTime or double, aggregatable.
    pub fn of_type(name: impl Into<String>, ty: FieldType) -> FieldInfo {
        FieldInfo {
            name: name.into(),
            ty,
            groupable: !matches!(ty, FieldType::DateTime | FieldType::Double),
            aggregatable: true,
        }
    }
}

/// Field types that change filtering semantics (Salesforce's SOAP types, reduced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Id,
    Reference,
    String,
    Boolean,
    Int,
    Double,
    Date,
    DateTime,
}

/// A parent (lookup / master-detail) relationship usable in `Rel.Field` paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationshipInfo {
    /// Canonical relationship name, e.g. "Assignee"; the key of the nested object in rows.
    pub name: String,
    /// The reference field holding the parent id, e.g. "AssigneeId".
    pub id_field: String,
    /// Canonical parent object, e.g. "User".
    pub target: String,
}

/// One record as the engine reads it: a JSON object keyed by canonical field names, including
/// "Id". Missing keys mean null.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// Record access the engine needs; implemented by the org store.
pub trait DataSource {
    /// Live (not deleted) records of `object` (canonical name) in store order, each with the key
    /// that finds it again through [`DataSource::by_key`]. An iterator, not a list: a scan of
    /// 400 000 records should not first copy 400 000 references.
    fn records<'a>(
        &'a self,
        object: &str,
    ) -> Box<dyn Iterator<Item = (RecordKey, &'a Record)> + 'a>;
    /// A live record by 15- or 18-char id (parent lookups). Return None for deleted/unknown ids.
    fn by_id(&self, id: &str) -> Option<&Record>;
    /// The record a key from [`DataSource::records`] names, even if it was deleted since (a
    /// query cursor pages over the records matched when the query ran). None only when the
    /// record no longer exists at all, e.g. its insert was rolled back.
    fn by_key(&self, key: RecordKey) -> Option<&Record>;
    /// Live records of `object` whose reference `field` may hold one of `ids` (15-character
    /// forms), in store order, when the source keeps an index of that field; None when it does
    /// not (the engine then scans [`DataSource::records`]). A superset is fine: the engine
    /// applies the whole WHERE clause to every record it gets.
    fn records_with<'a>(
        &'a self,
        _object: &str,
        _field: &str,
        _ids: &std::collections::HashSet<&str>,
    ) -> Option<Vec<(RecordKey, &'a Record)>> {
        None
    }
}
