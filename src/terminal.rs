//! What stderr gets besides plain lines: colour, and progress bars. One decision per process,
//! made by `main` from the facts ([`decide`]) and installed once ([`install`]); every coloured
//! or redrawn output asks [`current`] instead of looking at the terminal or `NO_COLOR` itself.
//!
//! The rules: colour only when stderr is a terminal and `NO_COLOR` is absent or empty
//! (<https://no-color.org>: "present and not an empty string" disables it). Progress bars only when
//! stderr is a terminal, the log lines are for people (not `--log-format json`) and the process
//! is not the daemon (which runs unattended; its log is its progress).
//!
//! Must not: draw anything (that is [`crate::progress`]'s and the logger's), or read stdout's
//! state: stdout carries reports and JSON, never colour or bars.

use std::ffi::OsStr;
use std::sync::OnceLock;

/// The decision for this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terminal {
    /// ANSI colour in log lines and in the progress bars' style.
    pub colour: bool,
    /// Progress bars (and the `--when-open` countdown) on stderr.
    pub progress: bool,
}

/// The facts the decision is made from, gathered by `main`.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Whether stderr is a terminal.
    pub stderr_is_terminal: bool,
    /// The value of `NO_COLOR`, if it is set.
    pub no_color: Option<&'a OsStr>,
    /// `--log-format json`: every stderr line is JSON, so nothing may be drawn between them.
    pub json_logs: bool,
    /// The process is `pslwarden daemon`.
    pub daemon: bool,
}

/// The one decision (pure, so it is tested without a terminal).
pub fn decide(facts: Facts<'_>) -> Terminal {
    let no_color = facts.no_color.is_some_and(|v| !v.is_empty());
    Terminal {
        colour: facts.stderr_is_terminal && !no_color,
        progress: facts.stderr_is_terminal && !facts.json_logs && !facts.daemon,
    }
}

static CURRENT: OnceLock<Terminal> = OnceLock::new();

/// Installs the decision for the rest of the process (the first call wins) and tells `console`,
/// which indicatif draws through, so its own reading of the environment never disagrees.
pub fn install(terminal: Terminal) {
    let installed = *CURRENT.get_or_init(|| terminal);
    console::set_colors_enabled_stderr(installed.colour);
}

/// The installed decision; before [`install`] (library use, unit tests) neither colour nor bars.
pub fn current() -> Terminal {
    CURRENT.get().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(tty: bool, no_color: Option<&str>) -> Facts<'_> {
        Facts {
            stderr_is_terminal: tty,
            no_color: no_color.map(OsStr::new),
            json_logs: false,
            daemon: false,
        }
    }

    #[test]
    fn no_color_present_and_not_empty_turns_colour_off() {
        assert!(decide(facts(true, None)).colour);
        assert!(!decide(facts(true, Some("1"))).colour);
        assert!(
            !decide(facts(true, Some("false"))).colour,
            "any value counts"
        );
        assert!(decide(facts(true, Some(""))).colour, "empty is as if unset");
        assert!(!decide(facts(false, None)).colour, "never off a terminal");
    }

    #[test]
    fn bars_only_at_a_terminal_for_people_outside_the_daemon() {
        assert!(decide(facts(true, None)).progress);
        assert!(
            decide(facts(true, Some("1"))).progress,
            "NO_COLOR removes colour, not the bar"
        );
        assert!(!decide(facts(false, None)).progress);
        assert!(
            !decide(Facts {
                json_logs: true,
                ..facts(true, None)
            })
            .progress
        );
        assert!(
            !decide(Facts {
                daemon: true,
                ..facts(true, None)
            })
            .progress
        );
    }

    #[test]
    fn nothing_is_drawn_before_a_decision_is_installed() {
        // Unit tests never install one.
        assert_eq!(current(), Terminal::default());
    }
}
