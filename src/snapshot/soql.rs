//! SOQL text built from values: the one place a value is quoted for SOQL ([`quote`],
//! [`soql_list`]) and the one splitter ([`split_in_lists`]) that cuts `IN (...)` lists so that no
//! request breaks Salesforce's limits, whatever the number or the length of the values.
//!
//! The limit that binds is the request URI: a query goes out as
//! `/services/data/vNN.N/query?q=<SOQL, form-encoded>` (directly, or as a composite subrequest's
//! `url`, which Salesforce holds to the same limit), and Salesforce answers 414 past 16 384
//! bytes. So the splitter counts the encoded URL, not the ids: a quote or a comma costs three
//! bytes once encoded, an id with an unusual character more. The other two limits follow from it
//! or are checked per value: a statement of at most 100 000 characters, and strings in a WHERE
//! clause of at most 4 000 characters.
//!
//! Must not: know which queries exist (the builders in `fetch` and `probe` do), or send anything.

/// "In each REST call, the maximum length for the combined URI and headers is 16,384 bytes";
/// a longer URI answers 414 URI Too Long (REST API Developer Guide, Request Size Limits).
pub const MAX_URI_BYTES: usize = 16_384;

/// The same 16 384 bytes count the request headers too (431 otherwise): the bearer token, host,
/// user agent and query options take well under this much, which the URL leaves for them.
const HEADER_ALLOWANCE: usize = 2_048;

/// The most a query's encoded URL may take.
pub const URL_BUDGET: usize = MAX_URI_BYTES - HEADER_ALLOWANCE;

/// The longest path in front of the query text: counted with a six-character version so the
/// budget holds for any version the config may name.
const QUERY_PATH: &str = "/services/data/v999.9/query?q=";

/// "Strings in SOQL WHERE clauses: 4,000 characters for each string" (SOQL and SOSL Limits).
pub const MAX_WHERE_STRING_CHARS: usize = 4_000;

/// A value that cannot be put in any query under the limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the value '{excerpt}' ({chars} characters) cannot be put in a SOQL query: Salesforce \
     refuses strings over {MAX_WHERE_STRING_CHARS} characters in a WHERE clause and request URIs \
     over {MAX_URI_BYTES} bytes; check the record or the config value it came from"
)]
pub struct ValueTooLong {
    /// The value's first characters, enough to find it.
    pub excerpt: String,
    /// Its length in characters.
    pub chars: usize,
}

impl ValueTooLong {
    fn of(value: &str) -> Self {
        let mut excerpt: String = value.chars().take(60).collect();
        if excerpt.len() < value.len() {
            excerpt.push('…');
        }
        ValueTooLong {
            excerpt,
            chars: value.chars().count(),
        }
    }
}

/// `'value'` for SOQL: backslashes and single quotes escaped, the only escaping SOQL string
/// literals need for text that came from the org or the config.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `'a', 'b'` for a SOQL `IN (...)`, each value [`quote`]d.
pub fn soql_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| quote(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bytes of `text` once form-encoded (as `url::form_urlencoded` and reqwest send it): letters,
/// digits, `*-._` and the space (`+`) one byte each, every other byte three (`%XX`).
fn encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_' | b' ') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Bytes of the request URI that carries `soql`, with the longest version prefix.
pub fn url_bytes(soql: &str) -> usize {
    QUERY_PATH.len() + encoded_len(soql)
}

/// Whether `soql` can be sent as it is.
pub fn fits(soql: &str) -> bool {
    url_bytes(soql) <= URL_BUDGET
}

/// The queries that together ask what `build` would ask with every list whole: `build` gets
/// each list rendered by [`soql_list`], in order, and must use them as `IN (...)` lists joined
/// by AND (so that splitting any list splits the answer, never changes it). Each returned query
/// fits [`URL_BUDGET`]. A list with no value makes no query at all (`IN ()` matches nothing).
///
/// The longest list is packed greedily, as many values per query as fit; when the other lists
/// alone take more than half the budget, the longest of them is halved first and each half
/// handled the same way.
pub fn split_in_lists(
    lists: &[&[String]],
    build: &dyn Fn(&[String]) -> String,
) -> Result<Vec<String>, ValueTooLong> {
    for value in lists.iter().flat_map(|l| l.iter()) {
        if value.chars().count() > MAX_WHERE_STRING_CHARS {
            return Err(ValueTooLong::of(value));
        }
    }
    let mut out = Vec::new();
    split_into(lists, build, &mut out)?;
    Ok(out)
}

/// [`split_in_lists`] with one more bound: no query's first list holds more than `at_most`
/// values. For aggregate queries, which have no `queryMore`: a query whose groups are at most a
/// fixed number per value of its first list then answers in one batch.
pub fn split_in_lists_at_most(
    lists: &[&[String]],
    at_most: usize,
    build: &dyn Fn(&[String]) -> String,
) -> Result<Vec<String>, ValueTooLong> {
    let Some((first, rest)) = lists.split_first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for chunk in first.chunks(at_most.max(1)) {
        let mut parts: Vec<&[String]> = vec![chunk];
        parts.extend_from_slice(rest);
        out.extend(split_in_lists(&parts, build)?);
    }
    Ok(out)
}

fn render(lists: &[&[String]], build: &dyn Fn(&[String]) -> String) -> String {
    let rendered: Vec<String> = lists.iter().map(|l| soql_list(l)).collect();
    build(&rendered)
}

fn split_into(
    lists: &[&[String]],
    build: &dyn Fn(&[String]) -> String,
    out: &mut Vec<String>,
) -> Result<(), ValueTooLong> {
    if lists.iter().any(|l| l.is_empty()) {
        return Ok(());
    }
    let whole = render(lists, build);
    if fits(&whole) {
        out.push(whole);
        return Ok(());
    }
    let sizes: Vec<usize> = lists.iter().map(|l| encoded_len(&soql_list(l))).collect();
    let longest = (0..lists.len()).max_by_key(|&i| sizes[i]).unwrap_or(0);
    let with_longest = |values: &[String]| -> String {
        let rendered: Vec<String> = lists
            .iter()
            .enumerate()
            .map(|(i, l)| soql_list(if i == longest { values } else { l }))
            .collect();
        build(&rendered)
    };
    let others = url_bytes(&with_longest(&[]));
    if others > URL_BUDGET / 2 {
        let halve = (0..lists.len())
            .filter(|&i| i != longest && lists[i].len() > 1)
            .max_by_key(|&i| sizes[i]);
        if let Some(i) = halve {
            let (a, b) = lists[i].split_at(lists[i].len() / 2);
            for half in [a, b] {
                let mut parts = lists.to_vec();
                parts[i] = half;
                split_into(&parts, build, out)?;
            }
            return Ok(());
        }
    }
    // Greedy over the longest list; each value's cost is exact because encoding is per byte.
    let separator = encoded_len(", ");
    let values = lists[longest];
    let mut start = 0;
    let mut cost = others;
    for (i, value) in values.iter().enumerate() {
        let add = encoded_len(&quote(value)) + if i > start { separator } else { 0 };
        if cost + add > URL_BUDGET {
            if i == start {
                return Err(ValueTooLong::of(value));
            }
            out.push(with_longest(&values[start..i]));
            start = i;
            cost = others + encoded_len(&quote(value));
            if cost > URL_BUDGET {
                return Err(ValueTooLong::of(value));
            }
        } else {
            cost += add;
        }
    }
    out.push(with_longest(&values[start..]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_split_never_puts_more_than_the_cap_in_one_query() {
        let users = ids(1_000);
        let queries = split_in_lists_at_most(&[&users], 300, &|l| {
            format!("SELECT UserId, MAX(CallStartDateTime) FROM VoiceCall WHERE UserId IN ({}) GROUP BY UserId", l[0])
        })
        .expect("splits");
        let lens: Vec<usize> = queries.iter().map(|q| in_list(q, 0).len()).collect();
        assert!(lens.iter().all(|&n| n <= 300), "{lens:?}");
        assert_eq!(lens.iter().sum::<usize>(), 1_000);
        assert!(queries.iter().all(|q| fits(q)));
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("005{i:012}AAA")).collect()
    }

    /// The values of `IN (...)` number `k` (0-based) of a query, unquoted.
    fn in_list(soql: &str, k: usize) -> Vec<String> {
        let list = soql.split("IN (").nth(k + 1).unwrap_or("");
        let list = &list[..list.find(')').unwrap_or(list.len())];
        list.split(", ")
            .map(|v| v.trim_matches('\'').to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(
            soql_list(&["a'b".to_string(), "c\\d".to_string()]),
            r"'a\'b', 'c\\d'"
        );
    }

    #[test]
    fn encoded_length_matches_what_the_url_crate_sends() {
        let soql = "SELECT Id FROM User WHERE Username IN ('a+b@x.org', 'é''\\', '*-._~')";
        let sent: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        assert_eq!(encoded_len(soql), sent.len());
    }

    #[test]
    fn a_short_list_stays_one_query() {
        let values = ids(10);
        let queries = split_in_lists(&[&values], &|l| {
            format!("SELECT Id FROM User WHERE Id IN ({})", l[0])
        })
        .expect("fits");
        assert_eq!(queries.len(), 1);
        assert_eq!(in_list(&queries[0], 0), values);
    }

    #[test]
    fn thousands_of_ids_are_cut_into_queries_that_fit_and_lose_none() {
        let values = ids(5_000);
        let queries = split_in_lists(&[&values], &|l| {
            format!(
                "SELECT Id FROM PermissionSetAssignment WHERE Id IN ({})",
                l[0]
            )
        })
        .expect("fits");
        assert!(queries.iter().all(|q| fits(q)));
        let back: Vec<String> = queries.iter().flat_map(|q| in_list(q, 0)).collect();
        assert_eq!(back, values);
        // Packed: each query but the last is nearly full.
        let full = URL_BUDGET - 40;
        assert!(
            queries[..queries.len() - 1]
                .iter()
                .all(|q| url_bytes(q) > full),
            "{:?}",
            queries.iter().map(|q| url_bytes(q)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn long_values_take_fewer_per_query_than_ids() {
        let names: Vec<String> = (0..400)
            .map(|i| format!("very.long.user.name.{i:04}@a-subsidiary.example.com's-org"))
            .collect();
        let queries = split_in_lists(&[&names], &|l| {
            format!("SELECT Id FROM User WHERE Username IN ({})", l[0])
        })
        .expect("fits");
        assert!(queries.len() > 1);
        assert!(queries.iter().all(|q| fits(q)));
        let back: Vec<String> = queries
            .iter()
            .flat_map(|q| in_list(q, 0))
            .map(|v| v.replace("\\'", "'"))
            .collect();
        assert_eq!(back, names);
    }

    #[test]
    fn two_lists_cover_every_pair_and_each_query_fits() {
        let users = ids(3_000);
        let sets: Vec<String> = (0..900).map(|i| format!("0PS{i:012}AAA")).collect();
        let queries = split_in_lists(&[&users, &sets], &|l| {
            format!(
                "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId IN ({}) AND \
                 PermissionSetId IN ({})",
                l[0], l[1]
            )
        })
        .expect("fits");
        assert!(queries.iter().all(|q| fits(q)));
        let mut pairs = std::collections::HashSet::new();
        for q in &queries {
            for u in in_list(q, 0) {
                for s in in_list(q, 1) {
                    pairs.insert((u.clone(), s));
                }
            }
        }
        assert_eq!(pairs.len(), users.len() * sets.len());
    }

    #[test]
    fn an_empty_list_makes_no_query() {
        let queries = split_in_lists(&[&ids(3), &[]], &|l| format!("{} {}", l[0], l[1]))
            .expect("nothing to split");
        assert!(queries.is_empty());
    }

    #[test]
    fn a_value_no_query_can_hold_is_an_error_naming_it() {
        let huge = vec!["x".repeat(4_001)];
        let e = split_in_lists(&[&huge], &|l| {
            format!("SELECT Id FROM User WHERE Name IN ({})", l[0])
        })
        .expect_err("too long");
        assert_eq!(e.chars, 4_001);
        assert!(e.to_string().contains("4000 characters"), "{e}");
    }
}
