//! Progress on stderr, drawn by indicatif: a bar while a fetch pages through the org (labelled with
//! what is being read, pages and rows) and a spinner while `apply --when-open` waits for the
//! window. Both are hidden unless [`crate::terminal`] decided this process shows progress, styled
//! without colour unless it decided on colour, and cleared from the screen when done (also when
//! dropped on an error), so what stays on stderr is only log lines.
//!
//! The fetch itself does not know about bars: `snapshot` reports a [`FetchProgress`] through a
//! callback, and the command passes [`FetchBar::sink`] in.
//!
//! Must not: decide whether stderr is a terminal or colour is wanted (that is `terminal`'s), or
//! print anything but through indicatif.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::report::number::grouped;
use crate::snapshot::FetchProgress;

/// A bar for one fetch (a scan's snapshot, apply's re-read, usage's calls); cleared on drop.
pub struct FetchBar {
    /// Hidden when the process shows no progress: updates then cost nothing and draw nothing.
    bar: ProgressBar,
    /// Whose data is read (`org `acme``), the start of every label.
    whose: String,
}

impl FetchBar {
    /// A bar for reading `whose` data; nothing is drawn until the first update.
    pub fn new(whose: impl Into<String>) -> Self {
        let terminal = crate::terminal::current();
        let bar = if terminal.progress {
            let bar = ProgressBar::new(0);
            bar.set_style(fetch_style(terminal.colour));
            bar
        } else {
            ProgressBar::hidden()
        };
        FetchBar {
            bar,
            whose: whose.into(),
        }
    }

    /// Shows where the fetch stands.
    pub fn update(&self, p: &FetchProgress) {
        // Position and length in one step, so a new batch never shows "5/4 pages"; then the
        // label (the bar never shows an empty "0/0").
        self.bar.update(|state| {
            state.set_len(p.pages_total.max(p.pages_done));
            state.set_pos(p.pages_done);
        });
        self.bar.set_message(label(&self.whose, p));
    }

    /// The callback a fetch takes.
    pub fn sink(&self) -> impl Fn(FetchProgress) + Sync + '_ {
        move |p: FetchProgress| self.update(&p)
    }
}

impl Drop for FetchBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// `{msg} [bar] 3/5 pages`, the label cut to the terminal's width (never wrapped, which would
/// leave a trail of lines); the bar coloured only with colour on.
fn fetch_style(colour: bool) -> ProgressStyle {
    ProgressStyle::with_template(&fetch_template(colour))
        .expect("the template is valid")
        .progress_chars("=> ")
}

fn fetch_template(colour: bool) -> String {
    let bar = if colour {
        "{bar:20.cyan/blue}"
    } else {
        "{bar:20}"
    };
    format!("{{wide_msg}} [{bar}] {{human_pos}}/{{human_len}} pages")
}

/// Queries named in a label; the rest are counted.
const NAMED: usize = 2;

/// `org `acme`: reading users, permission set assignments (+1 more), 1,200 of 4,000 rows`.
fn label(whose: &str, p: &FetchProgress) -> String {
    let reading = match p.reading.len() {
        0 => "read".to_string(),
        n if n <= NAMED => format!("reading {}", p.reading.join(", ")),
        n => format!(
            "reading {} (+{} more)",
            p.reading[..NAMED].join(", "),
            n - NAMED
        ),
    };
    let rows = if p.rows_total > 0 {
        format!(
            ", {} of {} rows",
            grouped(p.rows_done.min(p.rows_total)),
            grouped(p.rows_total)
        )
    } else {
        String::new()
    };
    format!("{whose}: {reading}{rows}")
}

/// A spinner with a message (the `--when-open` countdown); cleared on drop.
pub struct Spinner {
    /// Hidden when the process shows no progress.
    bar: ProgressBar,
}

impl Spinner {
    /// A spinner, ticking by itself, when the process shows progress; else a hidden one (the
    /// caller then logs instead: see [`Spinner::is_shown`]).
    pub fn new() -> Self {
        let terminal = crate::terminal::current();
        if !terminal.progress {
            return Spinner {
                bar: ProgressBar::hidden(),
            };
        }
        let template = if terminal.colour {
            "{spinner:.cyan} {msg}"
        } else {
            "{spinner} {msg}"
        };
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template(template).expect("the template is valid"));
        bar.enable_steady_tick(Duration::from_millis(250));
        Spinner { bar }
    }

    /// Whether anything is drawn.
    pub fn is_shown(&self) -> bool {
        !self.bar.is_hidden()
    }

    pub fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }
}

impl Default for Spinner {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_says_what_is_read_and_how_many_rows() {
        let p = FetchProgress {
            reading: vec!["users", "permission set assignments"],
            pages_done: 3,
            pages_total: 5,
            rows_done: 1200,
            rows_total: 40_000,
        };
        assert_eq!(
            label("org `acme`", &p),
            "org `acme`: reading users, permission set assignments, 1,200 of 40,000 rows"
        );
        let many = FetchProgress {
            reading: vec!["a", "b", "c", "d"],
            ..p.clone()
        };
        assert_eq!(
            label("org `acme`", &many),
            "org `acme`: reading a, b (+2 more), 1,200 of 40,000 rows"
        );
        let done = FetchProgress {
            pages_done: 5,
            pages_total: 5,
            ..FetchProgress::default()
        };
        assert_eq!(label("org `acme`", &done), "org `acme`: read");
    }

    #[test]
    fn without_colour_the_templates_have_no_colour() {
        assert_eq!(
            fetch_template(false),
            "{wide_msg} [{bar:20}] {human_pos}/{human_len} pages"
        );
        assert!(fetch_template(true).contains(".cyan"));
        for colour in [false, true] {
            // Both parse (indicatif checks templates at run time).
            let _ = fetch_style(colour);
        }
    }

    #[test]
    fn bars_are_hidden_unless_the_process_shows_progress() {
        assert!(FetchBar::new("org `x`").bar.is_hidden());
        assert!(!Spinner::new().is_shown());
    }
}
