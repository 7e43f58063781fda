//! `report.html` and the frame of every HTML page: one self-contained file that reads in any
//! browser with no network, from askama templates in `templates/` checked at compile time.
//!
//! Owns: [`render`] (the scan report page: verdict, a seat chart per license with findings as
//! inline SVG with its legend, the ledger, one findings table per kind under one sentence for
//! the kind, the plan with manual steps marked, the notes), and, in its children, the base
//! layout and its Content-Security-Policy (`layout`), the scan page's view model (`scan`), its
//! chart geometry (`chart`) and the per-kind sentences (`kinds`).
//! Must not: reference anything outside the file (no CSS, script, font or image by URL; the
//! policy forbids loading any), build markup in Rust (templates do), or print org text other
//! than through the templates' escaper [`Inert`] (or [`escape`]). The tables are complete
//! without the script: it only adds sorting.

use askama::Template;

use super::ScanReport;

mod chart;
pub mod kinds;
mod layout;
mod scan;

#[cfg(test)]
pub(crate) use layout::assert_self_contained;
pub use layout::{Inert, Layout, SORT_SCRIPT, STYLE, csp_hash};
pub use scan::ScanPage;

/// Text made safe for HTML element content and double- or single-quoted attribute values (see
/// [`crate::text::html`]); what templates do by themselves, for pages not yet on templates.
pub fn escape(raw: &str) -> String {
    crate::text::html(raw)
}

/// The scan report as one HTML document with everything inline.
pub fn render(report: &ScanReport) -> String {
    ScanPage::new(report).render().unwrap_or_else(|error| {
        // Rendering writes plain values into a String; it fails only if a value's Display
        // fails, which none of the page's does. Should it ever, the file says so plainly rather
        // than the run stopping after report.json and report.md were written.
        format!("report.html could not be rendered ({error}); read report.md or report.json.\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;
    use crate::rules::RuleStatus;

    const HOSTILE: &str = "<script>alert(1)</script>";

    /// The part of `html` from the first `from` to the next `to` after it.
    fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
        let start = html
            .find(from)
            .unwrap_or_else(|| panic!("{from} in the page"));
        let rest = &html[start..];
        &rest[..rest.find(to).map_or(rest.len(), |end| end + to.len())]
    }

    #[test]
    fn escape_neutralises_every_markup_character() {
        assert_eq!(escape(HOSTILE), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(
            escape(r#"a&b "c" 'd'"#),
            "a&amp;b &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(escape("user2@seed-example.org"), "user2@seed-example.org");
    }

    #[test]
    fn a_hostile_username_is_shown_not_run() {
        let mut report = fixture::report();
        fixture::rename_user(&mut report, 0, HOSTILE);
        report.org.notes.push(format!("note {HOSTILE}"));
        report.ledger[0].label = format!("label {HOSTILE}");
        report.plan.notes.push(format!("plan note {HOSTILE}"));
        let html = render(&report);
        assert!(!html.contains(HOSTILE), "unescaped org text in the page");
        assert!(
            html.contains("<span class=\"nowrap\">&lt;script&gt;alert(1)&lt;/script&gt;</span>")
        );
        assert!(!html.contains("&amp;lt;"), "escaped twice");
        // The page's own script is the only one.
        assert_eq!(html.matches("<script").count(), 1);
    }

    #[test]
    fn the_page_is_self_contained_and_its_policy_allows_exactly_its_style_and_script() {
        let html = render(&fixture::report());
        assert_self_contained(&html);
        assert!(html.contains(&format!("<style>{STYLE}</style>")));
        assert!(html.contains(&format!("<script>{SORT_SCRIPT}</script>")));
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn only_licenses_with_findings_get_a_chart_and_every_license_a_table_row() {
        let report = fixture::report();
        let html = render(&report);
        let charted: Vec<_> = report
            .ledger
            .iter()
            .filter(|r| chart::is_charted(r))
            .collect();
        assert!(
            charted.len() < report.ledger.len(),
            "the fixture has a quiet license"
        );
        assert_eq!(
            html.matches("<figure class=\"chart\">").count(),
            charted.len()
        );
        assert_eq!(html.matches("<title id=\"chart-").count(), charted.len());
        let quiet = report
            .ledger
            .iter()
            .find(|r| !chart::is_charted(r))
            .expect("a license without findings");
        let charts = between(&html, "<h2 id=\"charts\">", "</section>");
        assert!(!charts.contains(&quiet.psl), "{} is charted", quiet.psl);
        let ledger = between(&html, "<h2 id=\"ledger\">", "</section>");
        for row in &report.ledger {
            assert!(
                ledger.contains(&format!("<code>{}</code>", row.psl)),
                "{}",
                row.psl
            );
        }
        assert!(
            html.contains(
                "Before: 2 of 2 used, 0 free. After the fix: 1 of 2 used, 1 free (1 freed by the \
                 plan)."
            ),
            "{html}"
        );
    }

    #[test]
    fn the_charts_have_a_legend_for_each_hatching_and_the_bought_line() {
        let html = render(&fixture::report());
        let legend = between(&html, "<ul class=\"legend\"", "</ul>");
        assert!(legend.contains("fill=\"url(#hatch-freed)\""), "{legend}");
        assert!(legend.contains("Freed by the plan"));
        assert!(legend.contains("Seats bought"));
        // Every pattern a chart uses is defined once, and named in the legend.
        for pattern in ["hatch-freed", "hatch-admin", "hatch-orphans"] {
            assert_eq!(
                html.matches(&format!("<pattern id=\"{pattern}\"")).count(),
                1
            );
            if html.contains(&format!("<rect class=\"bar-{}", &pattern[6..])) {
                assert!(
                    legend.contains(pattern),
                    "{pattern} drawn but not in the legend"
                );
            }
        }
    }

    #[test]
    fn an_over_assigned_license_still_draws_inside_the_chart() {
        let mut report = fixture::report();
        report.ledger[0].used = 5;
        report.ledger[0].total = 2;
        report.ledger[0].free = 0;
        report.ledger[0].over_allocated = true;
        let html = render(&report);
        let chart = between(&html, "<figure class=\"chart\">", "</figure>");
        assert!(
            chart.contains("Before: 5 of 2 used, 0 free (3 over)."),
            "{chart}"
        );
        assert!(
            chart.contains("over-allocated: 5 used of 2 bought"),
            "the caption flags it"
        );
        // Used spans the whole bar; the bought line sits at 2/5 of it.
        assert!(
            chart.contains("class=\"bar-used\" x=\"72.0\" y=\"20.0\" width=\"500.0\""),
            "{chart}"
        );
        assert!(chart.contains("x1=\"272.0\""), "{chart}");
    }

    #[test]
    fn each_kind_is_explained_once_above_its_sortable_table() {
        let report = fixture::report();
        let html = render(&report);
        let double = kinds::describe("scv-double-consumption", "double-consumption");
        let orphan = kinds::describe("orphan-psl", "orphan-seat");
        assert_eq!(html.matches(&escape(&double.sentence)).count(), 1);
        assert_eq!(html.matches(&escape(&orphan.sentence)).count(), 1);
        // The rows no longer repeat the finding's whole summary.
        for finding in &report.findings {
            assert!(
                !html.contains(&escape(&finding.summary)),
                "{}",
                finding.summary
            );
        }
        assert_eq!(html.matches("<table class=\"sortable\">").count(), 2);
        assert!(html.contains(
            "<span class=\"nowrap\">user2@seed-example.org</span><br><code class=\"muted\">005"
        ));
        assert!(html.contains("<th scope=\"col\">User</th>"));
        assert!(!html.contains("<th>"), "every header has a scope");
        // Sorting keys for the severity column rank it rather than spell it.
        assert!(html.contains("<td data-sort=\"3\">high</td>"));
        let rows: usize = html
            .split("<table class=\"sortable\">")
            .skip(1)
            .map(|t| {
                t.split("</table>")
                    .next()
                    .unwrap_or("")
                    .matches("<tr><td")
                    .count()
            })
            .sum();
        assert_eq!(rows, report.findings.len());
    }

    #[test]
    fn an_unknown_kind_renders_with_the_generic_sentence_and_its_summaries() {
        let mut report = fixture::report();
        report.findings[0].rule = "seat-hoarding".into();
        report.findings[0].kind = "seat-hoarding".into();
        report.findings[0].summary = "user2 hoards a seat since 2026-10-01".into();
        let html = render(&report);
        assert!(html.contains("<h3 id=\"kind-1\">Findings of rule seat-hoarding</h3>"));
        assert!(html.contains("<td class=\"prose\">user2 hoards a seat since 2026-10-01</td>"));
        assert!(html.contains("<th scope=\"col\">Summary</th>"));
    }

    #[test]
    fn a_manual_step_is_marked_in_words_and_style() {
        let mut report = fixture::report();
        report.plan.actions[1].op = crate::plan::Op::Manual;
        let html = render(&report);
        let plan = between(&html, "<h2 id=\"plan\">", "</section>");
        let manual = between(plan, "<tr class=\"manual\">", "</tr>");
        assert!(manual.contains("manual: needs the admin"), "{manual}");
        assert_eq!(plan.matches("<tr class=\"manual\">").count(), 1);
        assert_eq!(
            plan.matches("<tr class=\"auto\">").count(),
            report.plan.actions.len() - 1
        );
        assert!(between(plan, "<tr class=\"auto\">", "</tr>").contains(">automatic<"));
    }

    #[test]
    fn long_api_names_break_only_after_separators() {
        let mut report = fixture::report();
        report.ledger[0].psl = "nbavs__Natterbox_Seat__c".into();
        let html = render(&report);
        assert!(html.contains("<code>nbavs__<wbr>Natterbox_<wbr>Seat__<wbr>c</code>"));
        assert!(!html.contains("break-all") && !html.contains("overflow-wrap: anywhere"));
    }

    #[test]
    fn the_verdict_heads_the_page() {
        let mut report = fixture::report();
        let html = render(&report);
        assert!(html.contains("<h2 id=\"verdict\">Affected</h2>"));
        report.org.affected = false;
        report.org.affected_status = RuleStatus::NotApplicable;
        let html = render(&report);
        assert!(html.contains("<h2 id=\"verdict\">Not affected</h2>"));
    }
}
