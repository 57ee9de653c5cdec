//! Commands of the "fun" plugins (`cat`, `dog`, `pony`, `goose`, `shrug`,
//! `yuks`, `trick-or-treat`).
//!
//! # Grammar
//!
//! Case-insensitive, raw body, one command per line:
//!
//! ```text
//! /meow [category]   /meowvie [category]     cat picture / gif (first one only)
//! /woof   /bark                              dog picture
//! /this-is-fine   /this-is-not-fine   /this-is-unbearable
//! /pony [name]                               pony picture (at most 5 per comment)
//! /honk                                      goose picture
//! /shrug   /unshrug                          add/remove the `¯\_(ツ)_/¯` label
//! /joke                                      a joke
//! /trick-or-treat   /trickortreat   (also /trick-ortreat, /trickor-treat) [anything]
//! ```
//!
//! They are here so that a help listing or a dispatcher can know every
//! command Prow answers to; their effects are trivial.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static MEOW: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/meow(vie)?(?: (.+))?\s*$"));
static WOOF: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/(woof|bark)\s*$"));
static FINE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/this-is-fine\s*$"));
static NOT_FINE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/this-is-not-fine\s*$"));
static UNBEARABLE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/this-is-unbearable\s*$"));
static PONY: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/(?:pony)(?: +(.+?))?\s*$"));
static HONK: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/(honk)\s*$"));
static SHRUG: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/shrug\s*$"));
static UNSHRUG: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/unshrug\s*$"));
static JOKE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/joke\s*$"));
static TRICK_OR_TREAT: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/trick(\-)?or(\-)?treat(?: (.+))?\s*$"));

/// Optional trimmed argument; empty becomes `None`.
fn arg(c: &regex::Captures<'_>, i: usize) -> Option<String> {
    c.get(i)
        .map(|m| m.as_str().trim().to_owned())
        .filter(|s| !s.is_empty())
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let mut out = crate::simple_matches(
        body,
        &[
            (&WOOF, Command::Woof),
            (&FINE, Command::ThisIsFine),
            (&NOT_FINE, Command::ThisIsNotFine),
            (&UNBEARABLE, Command::ThisIsUnbearable),
            (&HONK, Command::Honk),
            (&SHRUG, Command::Shrug),
            (&UNSHRUG, Command::Unshrug),
            (&JOKE, Command::Joke),
            (&TRICK_OR_TREAT, Command::TrickOrTreat),
        ],
    );
    for c in MEOW.captures_iter(body) {
        let Some(m) = c.get(0) else { continue };
        let cmd = Command::Meow {
            movie: c.get(1).is_some(),
            category: arg(&c, 2),
        };
        out.push(Located::new(cmd, m.range()));
    }
    for c in PONY.captures_iter(body) {
        let Some(m) = c.get(0) else { continue };
        out.push(Located::new(Command::Pony { name: arg(&c, 1) }, m.range()));
    }
    out
}
