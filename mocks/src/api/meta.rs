//! Discovery endpoints: the API version list (`GET /services/data/`), the resource map of one
//! version and `GET /limits/`.
//!
//! Owns only these read-only answers; it changes nothing in the org.

use serde_json::{Value, json};

use super::SimResponse;
use crate::org::OrgState;
use crate::settings::version_key;

/// "65.0" → "Winter '26" (three releases a year; v65 was Winter '26).
fn release_label(version: &str) -> String {
    let (major, _) = version_key(version);
    let k = i64::from(major) - 65;
    let season = ["Winter", "Spring", "Summer"][k.rem_euclid(3) as usize];
    let year = 26 + k.div_euclid(3);
    format!("{season} '{year:02}")
}

pub(super) fn versions(state: &OrgState) -> SimResponse {
    let mut versions = state.settings.api_versions.clone();
    versions.sort_by_key(|v| version_key(v));
    let list: Vec<Value> = versions
        .iter()
        .map(|v| json!({"label": release_label(v), "url": format!("/services/data/v{v}"), "version": v}))
        .collect();
    SimResponse::json(200, Value::Array(list))
}

/// The version's resource map. `identity` names the caller's identity URL, as Salesforce does
/// (there absolute on the login host; here relative to the simulator's own URL).
pub(super) fn resources(state: &OrgState, version: &str, user_id: &str) -> SimResponse {
    let base = format!("/services/data/v{version}");
    let identity = format!("/id/{}/{user_id}", state.settings.organization_id);
    SimResponse::json(
        200,
        json!({
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "limits": format!("{base}/limits"),
            "composite": format!("{base}/composite"),
            "identity": identity,
        }),
    )
}

pub(super) fn limits(state: &OrgState) -> SimResponse {
    let max = state.settings.daily_api_limit;
    let remaining = max.saturating_sub(state.stats.api_calls);
    let fixed = |max: u64| json!({"Max": max, "Remaining": max});
    SimResponse::json(
        200,
        json!({
            "DailyApiRequests": {"Max": max, "Remaining": remaining},
            "DailyAsyncApexExecutions": fixed(250_000),
            "DailyBulkV2QueryJobs": fixed(10_000),
            "DailyBulkV2QueryFileStorageMB": fixed(976_562),
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            "ConcurrentAsyncGetReportInstances": fixed(200),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_labels_follow_the_three_a_year_cadence() {
        assert_eq!(release_label("65.0"), "Winter '26");
        assert_eq!(release_label("66.0"), "Spring '26");
        assert_eq!(release_label("67.0"), "Summer '26");
        assert_eq!(release_label("64.0"), "Summer '25");
        assert_eq!(release_label("62.0"), "Winter '25");
    }
}
