//! The SOQL engine of sfsim: tokenizer, recursive-descent parser and evaluator for the subset of
//! SOQL that pslwarden sends, answering anything else with Salesforce's error codes and
//! Row/Column-positioned messages.
//!
//! It owns "query text in, rows out". It must not know about HTTP, paging (`nextRecordsUrl`),
//! storage or fixtures: the org store reaches it only through the [`Catalog`] and [`DataSource`]
//! traits, and the HTTP layer turns [`QueryOutput`] and [`SoqlError`] into wire bodies.

mod ast;
mod error;
mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use ast::Query;
pub use error::{SoqlError, SoqlErrorCode};

/// Parses SOQL text into a [`Query`]; syntax errors and unsupported constructs answer
/// `MALFORMED_QUERY` positioned at the offending token.
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    parser::parse(text)
}

/// Validates names against the catalog (so INVALID_FIELD is reported even when there are no rows),
/// then filters, sorts, limits and shapes rows.
pub fn execute(
    query: &Query,
    catalog: &dyn Catalog,
    data: &dyn DataSource,
    ctx: &ExecContext,
) -> Result<QueryOutput, SoqlError> {
    eval::execute(query, catalog, data, ctx)
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

/// Record access the engine needs; implemented by the org store.
pub trait DataSource {
    /// Live (not deleted) records of `object` (canonical name); each a JSON object keyed by canonical
    /// field names, including "Id". Missing keys mean null.
    fn records(&self, object: &str) -> Vec<&serde_json::Map<String, serde_json::Value>>;
    /// A live record by 18-char id (parent lookups). Return None for deleted/unknown ids.
    fn by_id(&self, id: &str) -> Option<&serde_json::Map<String, serde_json::Value>>;
}
