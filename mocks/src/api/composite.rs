//! `POST /composite`: up to 25 subrequests (of which at most 5 query or sObject Collections
//! operations, "query more" pages included) run in order through the same `dispatch` as real
//! requests, with `@{referenceId.path}` references and `allOrNone` rollback. Counted by the
//! server as one API call.
//!
//! A subrequest whose url is over the request URI limit (16 384 bytes) answers 414 on its own.
//!
//! Owns limits, reference substitution and the composite response shape. Refused bodies answer
//! 400 with a `compositeResponse` holding one `LIMIT_EXCEEDED` entry, as Salesforce does.

use std::collections::{BTreeMap, HashMap};

use axum::http::Method;
use serde_json::{Value, json};

use super::{ApiRequest, Body, Caller, SimResponse, dispatch, parse_path};
use crate::org::OrgState;
use crate::server::MAX_URI_BYTES;
use crate::wire::{
    ApiError, CompositeRequest, CompositeResponse, CompositeSubrequest, CompositeSubresponse,
};

/// Salesforce's cap on subrequests per composite call.
pub(crate) const MAX_SUBREQUESTS: usize = 25;
/// Salesforce's cap on query and sObject Collections subrequests per composite call.
pub(crate) const MAX_QUERY_OR_COLLECTION: usize = 5;

fn refused(code: &str, message: &str) -> SimResponse {
    SimResponse::of(
        400,
        &CompositeResponse {
            composite_response: vec![CompositeSubresponse {
                body: json!([ApiError::new(code, message)]),
                http_headers: BTreeMap::new(),
                http_status_code: 400,
                reference_id: None,
            }],
        },
    )
}

fn halted(message: &str) -> (u16, Value, BTreeMap<String, String>) {
    (
        400,
        json!([ApiError::new("PROCESSING_HALTED", message)]),
        BTreeMap::new(),
    )
}

const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// Validates the body against the composite limits before anything runs.
fn check_limits(request: &CompositeRequest) -> Result<(), SimResponse> {
    let subrequests = &request.composite_request;
    if subrequests.is_empty() {
        return Err(refused(
            "INVALID_API_INPUT",
            "compositeRequest must contain at least one subrequest.",
        ));
    }
    if subrequests.len() > MAX_SUBREQUESTS {
        return Err(refused(
            "LIMIT_EXCEEDED",
            &format!("The request can’t contain more than {MAX_SUBREQUESTS} operations."),
        ));
    }
    let heavy = subrequests
        .iter()
        .filter(|s| parse_path(url_path(&s.url)).is_query_or_collection())
        .count();
    if heavy > MAX_QUERY_OR_COLLECTION {
        return Err(refused(
            "LIMIT_EXCEEDED",
            &format!(
                "The request can’t contain more than {MAX_QUERY_OR_COLLECTION} query or sObject Collections \
                 operations (query more included); it contains {heavy}."
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for s in subrequests {
        let valid = !s.reference_id.is_empty()
            && s.reference_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(refused(
                "INVALID_API_INPUT",
                &format!(
                    "Invalid referenceId '{}': use only letters, numbers and underscores.",
                    s.reference_id
                ),
            ));
        }
        if !seen.insert(s.reference_id.as_str()) {
            return Err(refused(
                "INVALID_API_INPUT",
                &format!("Duplicate referenceId '{}' provided.", s.reference_id),
            ));
        }
    }
    Ok(())
}

fn url_path(url: &str) -> &str {
    url.split_once('?').map_or(url, |(p, _)| p)
}

/// Why a reference could not be resolved.
struct Unresolved(String);

/// Looks `expr` ("ref.records[0].Id") up in earlier results.
fn lookup(expr: &str, results: &HashMap<String, Option<Value>>) -> Result<Value, Unresolved> {
    let mut parts = expr.split('.');
    let head = parts.next().unwrap_or_default();
    let (reference, first_indices) = split_indices(head);
    let Some(Some(mut current)) = results.get(reference).cloned() else {
        return Err(Unresolved(format!(
            "Invalid reference specified. No value for {expr} found in {reference}. Provided referenceId ({reference}) \
             must be a previous subrequest that succeeded."
        )));
    };
    let missing = || {
        Unresolved(format!(
            "Invalid reference specified. No value for {expr} found in {reference}."
        ))
    };
    for index in first_indices {
        current = current.get(index).cloned().ok_or_else(missing)?;
    }
    for part in parts {
        let (name, indices) = split_indices(part);
        current = current.get(name).cloned().ok_or_else(missing)?;
        for index in indices {
            current = current.get(index).cloned().ok_or_else(missing)?;
        }
    }
    Ok(current)
}

/// "records[0][1]" → ("records", [0, 1]).
fn split_indices(part: &str) -> (&str, Vec<usize>) {
    let Some(open) = part.find('[') else {
        return (part, Vec::new());
    };
    let indices = part[open..]
        .split(['[', ']'])
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (&part[..open], indices)
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces every `@{...}` in `text`.
fn substitute(text: &str, results: &HashMap<String, Option<Value>>) -> Result<String, Unresolved> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        out.push_str(&value_text(&lookup(&after[..end], results)?));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Substitutes references in a JSON body; a string that is exactly one reference takes the
/// referenced value with its JSON type.
fn substitute_json(
    value: &Value,
    results: &HashMap<String, Option<Value>>,
) -> Result<Value, Unresolved> {
    Ok(match value {
        Value::String(s) => {
            let whole = s
                .strip_prefix("@{")
                .and_then(|r| r.strip_suffix('}'))
                .filter(|inner| !inner.contains('}'));
            match whole {
                Some(expr) => lookup(expr, results)?,
                None => Value::String(substitute(s, results)?),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_json(v, results))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| substitute_json(v, results).map(|v| (k.clone(), v)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// A subrequest whose `url` (references resolved) is longer than a request URI may be: the
/// same 414 a direct request gets, as this subrequest's answer. The docs give no body for it;
/// an error list keeps the subresponse in the shape clients read.
fn uri_too_long(length: usize) -> (u16, Value, BTreeMap<String, String>) {
    (
        414,
        json!([ApiError::new(
            "URI_TOO_LONG",
            format!(
                "The subrequest url has {length} bytes; a request URI cannot be longer than \
                 {MAX_URI_BYTES} bytes."
            )
        )]),
        BTreeMap::new(),
    )
}

/// Turns a subrequest into an API request, references resolved; also the resolved url's length.
fn build_request(
    sub: &CompositeSubrequest,
    top: &ApiRequest,
    results: &HashMap<String, Option<Value>>,
) -> Result<(ApiRequest, usize), Unresolved> {
    let url = substitute(&sub.url, results)?;
    let url_length = url.len();
    let (path, query) = url
        .split_once('?')
        .map_or((url.as_str(), ""), |(p, q)| (p, q));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let body = match &sub.body {
        Some(b) => serde_json::to_vec(&substitute_json(b, results)?).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut headers = top.headers.clone();
    headers.remove("content-length");
    for (k, v) in &sub.http_headers {
        headers.insert(k.to_ascii_lowercase(), v.clone());
    }
    let request = ApiRequest {
        method: Method::from_bytes(sub.method.to_ascii_uppercase().as_bytes())
            .unwrap_or(Method::GET),
        path: path.to_string(),
        query,
        headers,
        body,
    };
    Ok((request, url_length))
}

pub(super) fn composite(
    state: &mut OrgState,
    req: &ApiRequest,
    caller: &Caller,
    _version: &str,
) -> SimResponse {
    let value = match req.json_body() {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let request: CompositeRequest = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            return SimResponse::error(
                400,
                "JSON_PARSER_ERROR",
                format!("Invalid composite request: {e}"),
            );
        }
    };
    if let Err(resp) = check_limits(&request) {
        return resp;
    }
    let sub_caller = Caller {
        user_id: caller.user_id.clone(),
        in_composite: true,
    };
    let savepoint = state.store.savepoint();
    // referenceId → body of a successful subrequest (None when it failed).
    let mut results: HashMap<String, Option<Value>> = HashMap::new();
    let mut answers: Vec<(u16, Value, BTreeMap<String, String>)> = Vec::new();
    let mut failed_all_or_none = false;
    for sub in &request.composite_request {
        if failed_all_or_none {
            answers.push(halted(ROLLED_BACK));
            continue;
        }
        let outcome = match build_request(sub, req, &results) {
            Err(Unresolved(message)) => halted(&message),
            Ok((_, url_length)) if url_length > MAX_URI_BYTES => uri_too_long(url_length),
            Ok((api_request, _)) => {
                if !sub.method.chars().all(|c| c.is_ascii_alphabetic()) {
                    halted(&format!("Invalid HTTP method '{}'.", sub.method))
                } else {
                    let response = dispatch(state, &api_request, &sub_caller);
                    let body = match &response.body {
                        Body::Json(v) => v.clone(),
                        Body::Empty => Value::Null,
                    };
                    (response.status, body, response.headers)
                }
            }
        };
        let ok = outcome.0 < 400;
        results.insert(sub.reference_id.clone(), ok.then(|| outcome.1.clone()));
        answers.push(outcome);
        if !ok && request.all_or_none {
            failed_all_or_none = true;
            state.store.rollback_to(savepoint);
        }
    }
    let composite_response = request
        .composite_request
        .iter()
        .zip(answers)
        .map(|(sub, (status, body, headers))| {
            let (status, body, headers) = if failed_all_or_none && status < 400 {
                halted(ROLLED_BACK)
            } else {
                (status, body, headers)
            };
            CompositeSubresponse {
                body,
                http_headers: headers,
                http_status_code: status,
                reference_id: Some(sub.reference_id.clone()),
            }
        })
        .collect();
    SimResponse::of(200, &CompositeResponse { composite_response })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> HashMap<String, Option<Value>> {
        let mut map = HashMap::new();
        map.insert(
            "q".to_string(),
            Some(json!({"records": [{"Id": "005000000000001AAA", "Count": 3}]})),
        );
        map.insert("new".to_string(), Some(json!({"id": "0Pa000000000009CAA"})));
        map.insert("bad".to_string(), None);
        map
    }

    #[test]
    fn references_resolve_in_urls_and_keep_json_types_in_bodies() {
        let r = results();
        assert_eq!(
            substitute("/services/data/v65.0/sobjects/X/@{new.id}", &r).ok(),
            Some("/services/data/v65.0/sobjects/X/0Pa000000000009CAA".to_string())
        );
        let body = substitute_json(
            &json!({"AssigneeId": "@{q.records[0].Id}", "N": "@{q.records[0].Count}"}),
            &r,
        )
        .ok();
        assert_eq!(
            body,
            Some(json!({"AssigneeId": "005000000000001AAA", "N": 3}))
        );
    }

    #[test]
    fn references_to_failed_or_missing_results_do_not_resolve() {
        let r = results();
        assert!(substitute("@{bad.id}", &r).is_err());
        assert!(substitute("@{q.records[5].Id}", &r).is_err());
        assert!(substitute("@{nobody.id}", &r).is_err());
    }

    #[test]
    fn an_aggregate_query_runs_as_a_subrequest() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json");
        let org = crate::org::Org::from_fixture_file(&path).expect("seed loads");
        for (user, start) in [
            ("005000000000002AAA", "2026-06-01T10:00:00Z"),
            ("005000000000002AAA", "2026-06-20T10:00:00Z"),
            ("005000000000003AAA", "2026-03-01T10:00:00Z"),
        ] {
            let fields = json!({"UserId": user, "CallStartDateTime": start, "CallType": "Inbound"});
            if let Value::Object(fields) = fields {
                org.insert("VoiceCall", &fields).expect("call recorded");
            }
        }
        let soql = "SELECT UserId, MAX(CallStartDateTime) lastCall FROM VoiceCall \
                    WHERE UserId IN ('005000000000002AAA','005000000000003AAA') \
                    AND CallStartDateTime >= 2026-05-01T00:00:00Z GROUP BY UserId";
        let url = format!(
            "/services/data/v65.0/query?q={}",
            url::form_urlencoded::byte_serialize(soql.as_bytes()).collect::<String>()
        );
        let body = json!({"compositeRequest": [
            {"method": "GET", "url": url, "referenceId": "lastCalls"}
        ]});
        let request = ApiRequest {
            method: axum::http::Method::POST,
            path: "/services/data/v65.0/composite".into(),
            query: Vec::new(),
            headers: Default::default(),
            body: serde_json::to_vec(&body).expect("encodes"),
        };
        let caller = Caller {
            user_id: "005000000000001AAA".into(),
            in_composite: false,
        };
        let mut state = org.lock();
        let response = crate::api::dispatch(&mut state, &request, &caller);
        let crate::api::Body::Json(answer) = response.body else {
            panic!("a JSON answer")
        };
        let sub = &answer["compositeResponse"][0];
        assert_eq!(sub["httpStatusCode"], 200, "{answer}");
        assert_eq!(
            sub["body"]["records"],
            json!([{"attributes": {"type": "AggregateResult"},
                    "UserId": "005000000000002AAA",
                    "lastCall": "2026-06-20T10:00:00.000+0000"}])
        );
    }
}
