//! The REST API under `/services/data`: one `dispatch` that routes a request to its handler and
//! returns a `SimResponse`. The HTTP server calls it for real requests and the composite handler
//! calls it for subrequests, so both behave the same.
//!
//! Owns routing, request parsing helpers and response shapes. It does not authenticate, count
//! API calls or inject faults — `server.rs` does that once per HTTP request, before dispatch.

mod collections;
mod composite;
mod meta;
mod query;
mod sobjects;

use std::collections::{BTreeMap, HashMap};

use axum::http::Method;
use serde_json::Value;

use crate::org::OrgState;
use crate::permissions::Effective;
use crate::rules::RecordError;
use crate::wire::ApiError;

/// A request as the API layer sees it (real or composite subrequest).
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    /// HTTP method.
    pub method: Method,
    /// Path starting with `/services/data`.
    pub path: String,
    /// Decoded query string pairs, in order.
    pub query: Vec<(String, String)>,
    /// Request headers, names lowercased.
    pub headers: HashMap<String, String>,
    /// Raw body (empty when none).
    pub body: Vec<u8>,
}

impl ApiRequest {
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body as JSON, or the 400 Salesforce answers for unparsable input.
    fn json_body(&self) -> Result<Value, SimResponse> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(SimResponse::error(
                400,
                "JSON_PARSER_ERROR",
                "The request body is empty or invalid.",
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            SimResponse::error(
                400,
                "JSON_PARSER_ERROR",
                format!("{e} at [line:{}, column:{}]", e.line(), e.column()),
            )
        })
    }
}

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// No body (204).
    Empty,
    /// A JSON document.
    Json(Value),
}

/// A response as the API layer produces it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimResponse {
    /// HTTP status code.
    pub status: u16,
    /// Extra response headers (e.g. `Location`).
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: Body,
}

impl SimResponse {
    pub(crate) fn json(status: u16, value: Value) -> Self {
        SimResponse {
            status,
            headers: BTreeMap::new(),
            body: Body::Json(value),
        }
    }

    pub(crate) fn of<T: serde::Serialize>(status: u16, value: &T) -> Self {
        match serde_json::to_value(value) {
            Ok(v) => SimResponse::json(status, v),
            Err(e) => SimResponse::error(
                500,
                "UNKNOWN_EXCEPTION",
                format!("could not encode response: {e}"),
            ),
        }
    }

    pub(crate) fn no_content() -> Self {
        SimResponse {
            status: 204,
            headers: BTreeMap::new(),
            body: Body::Empty,
        }
    }

    pub(crate) fn errors(status: u16, errors: Vec<ApiError>) -> Self {
        SimResponse::of(status, &errors)
    }

    pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        SimResponse::errors(status, vec![ApiError::new(code, message)])
    }

    pub(crate) fn not_found() -> Self {
        SimResponse::error(404, "NOT_FOUND", "The requested resource does not exist")
    }

    /// A single-record failure: 404 for missing/deleted records, 400 otherwise.
    pub(crate) fn record_error(e: &RecordError) -> Self {
        let status = if e.is_not_found() { 404 } else { 400 };
        SimResponse::errors(status, vec![ApiError::from(e)])
    }

    fn method_not_allowed(method: &Method, allowed: &str) -> Self {
        SimResponse::error(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
        )
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.insert(name.to_string(), value.into());
        self
    }
}

/// Who is calling, and from where.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The session's user.
    pub user_id: String,
    /// True inside `/composite`: nested composites are refused.
    pub in_composite: bool,
}

/// Which resource a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /services/data/`
    Versions,
    /// `GET /services/data/vNN.N/`
    Resources,
    Query,
    QueryMore(String),
    Limits,
    DescribeGlobal,
    SObject(String),
    Describe(String),
    Row(String, String),
    Collections,
    Composite,
    Unknown,
}

/// A parsed `/services/data` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// "65.0" when the path has a version segment.
    pub version: Option<String>,
    pub route: Route,
}

/// Splits a `/services/data...` path into version and resource.
pub(crate) fn parse_path(path: &str) -> Target {
    let rest = path.strip_prefix("/services/data").unwrap_or("");
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some((first, tail)) = segments.split_first() else {
        return Target {
            version: None,
            route: Route::Versions,
        };
    };
    let Some(version) = first.strip_prefix('v').filter(|v| v.contains('.')) else {
        return Target {
            version: None,
            route: Route::Unknown,
        };
    };
    let route = match tail {
        [] => Route::Resources,
        ["query"] => Route::Query,
        ["query", locator] => Route::QueryMore(locator.to_string()),
        ["limits"] => Route::Limits,
        ["sobjects"] => Route::DescribeGlobal,
        ["sobjects", object] => Route::SObject(object.to_string()),
        ["sobjects", object, "describe"] => Route::Describe(object.to_string()),
        ["sobjects", object, id] => Route::Row(object.to_string(), id.to_string()),
        ["composite", "sobjects"] => Route::Collections,
        ["composite"] => Route::Composite,
        _ => Route::Unknown,
    };
    Target {
        version: Some(version.to_string()),
        route,
    }
}

impl Target {
    /// Key under which `Stats::requests` counts this request.
    pub(crate) fn stats_key(&self, method: &Method) -> String {
        let resource = match &self.route {
            Route::Versions => "versions".to_string(),
            Route::Resources => "resources".to_string(),
            Route::Query | Route::QueryMore(_) => "query".to_string(),
            Route::Limits => "limits".to_string(),
            Route::DescribeGlobal => "sobjects".to_string(),
            Route::SObject(o) => format!("sobjects/{o}"),
            Route::Describe(o) => format!("sobjects/{o}/describe"),
            Route::Row(o, _) => format!("sobjects/{o}/{{id}}"),
            Route::Collections => "composite/sobjects".to_string(),
            Route::Composite => "composite".to_string(),
            Route::Unknown => "other".to_string(),
        };
        format!("{method} {resource}")
    }

    /// Query and sObject Collections operations (the composite resource allows five).
    pub(crate) fn is_query_or_collection(&self) -> bool {
        matches!(
            self.route,
            Route::Query | Route::QueryMore(_) | Route::Collections
        )
    }
}

/// True for methods that try to change data.
pub(crate) fn is_write_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    )
}

/// Routes and handles one request as the caller's user, with that user's permissions.
pub(crate) fn dispatch(state: &mut OrgState, req: &ApiRequest, caller: &Caller) -> SimResponse {
    let access = Effective::of(&state.store, &caller.user_id);
    if !access.has("PermissionsApiEnabled") {
        return SimResponse::error(
            403,
            "API_CURRENTLY_DISABLED",
            "API is disabled for this User",
        );
    }
    let before = state.acting.replace(access);
    let response = dispatch_as(state, req, caller);
    state.acting = before;
    response
}

fn dispatch_as(state: &mut OrgState, req: &ApiRequest, caller: &Caller) -> SimResponse {
    let target = parse_path(&req.path);
    if let Some(version) = &target.version
        && !state.settings.api_versions.iter().any(|v| v == version)
    {
        return SimResponse::not_found();
    }
    let version = target.version.clone().unwrap_or_default();
    let method = &req.method;
    match target.route {
        Route::Versions => match *method {
            Method::GET => meta::versions(state),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::Resources => match *method {
            Method::GET => meta::resources(state, &version, &caller.user_id),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::Limits => match *method {
            Method::GET => meta::limits(state),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::Query => match *method {
            Method::GET => query::query(state, req, caller, &version),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::QueryMore(locator) => match *method {
            Method::GET => query::query_more(state, req, &version, &locator),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::DescribeGlobal => match *method {
            Method::GET => sobjects::describe_global(state, &version),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::SObject(object) => match *method {
            Method::GET => sobjects::basic_info(state, &version, &object),
            Method::POST => sobjects::create(state, req, &version, &object),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD,POST"),
        },
        Route::Describe(object) => match *method {
            Method::GET => sobjects::describe(state, &version, &object),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD"),
        },
        Route::Row(object, id) => match *method {
            Method::GET => sobjects::get_row(state, req, &version, &object, &id),
            Method::PATCH => sobjects::update(state, req, &object, &id),
            Method::DELETE => sobjects::delete(state, &object, &id),
            _ => SimResponse::method_not_allowed(method, "GET,HEAD,PATCH,DELETE"),
        },
        Route::Collections => match *method {
            Method::POST => collections::create(state, req),
            Method::PATCH => collections::update(state, req),
            Method::DELETE => collections::delete(state, req),
            _ => SimResponse::method_not_allowed(method, "POST,PATCH,DELETE"),
        },
        Route::Composite => {
            if caller.in_composite {
                return SimResponse::not_found();
            }
            match *method {
                Method::POST => composite::composite(state, req, caller, &version),
                _ => SimResponse::method_not_allowed(method, "POST"),
            }
        }
        Route::Unknown => SimResponse::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        let t = parse_path("/services/data/v65.0/sobjects/User/005000000000001AAA");
        assert_eq!(t.version.as_deref(), Some("65.0"));
        assert_eq!(
            t.route,
            Route::Row("User".into(), "005000000000001AAA".into())
        );
        assert_eq!(parse_path("/services/data/").route, Route::Versions);
        assert_eq!(parse_path("/services/data/v65.0/").route, Route::Resources);
        assert_eq!(
            parse_path("/services/data/v65.0/query/01gX-2000").route,
            Route::QueryMore("01gX-2000".into())
        );
        assert_eq!(
            parse_path("/services/data/v65.0/sobjects/User/describe/").route,
            Route::Describe("User".into())
        );
        assert_eq!(
            parse_path("/services/data/latest/query").route,
            Route::Unknown
        );
    }

    #[test]
    fn stats_keys_hide_record_ids() {
        let t =
            parse_path("/services/data/v65.0/sobjects/PermissionSetAssignment/0Pa000000000001CAA");
        assert_eq!(
            t.stats_key(&Method::DELETE),
            "DELETE sobjects/PermissionSetAssignment/{id}"
        );
        assert_eq!(
            parse_path("/services/data/v65.0/query/01g-2000").stats_key(&Method::GET),
            "GET query"
        );
    }
}
