//! GitHub's issue-search syntax (`is:pr state:open org:"acme" -label:"do-not-merge"
//! sort:updated-asc …`): parsing into [`SearchQuery`] and matching an [`Item`].
//!
//! Pure: no state, no I/O. Semantics follow GitHub's: terms are ANDed, except that positive
//! scope qualifiers (`org:`, `user:`, `repo:`) form one union and repeated `base:`, `head:`,
//! `author:` and `milestone:` qualifiers are alternatives; `label:"a","b"` matches either label;
//! a leading `-` negates any qualifier. Anything the fake does not understand is an error, never
//! silently ignored.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// A parsed search string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SearchQuery {
    /// Filters, in the order given.
    pub terms: Vec<Term>,
    /// `sort:` (default: newest first, like an empty best-match query).
    pub sort: Sort,
}

/// One (possibly negated) filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    /// Written with a leading `-`.
    pub negated: bool,
    /// What it tests.
    pub qual: Qual,
}

/// A review state for `review:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReviewQual {
    /// `review:approved`.
    Approved,
    /// `review:changes_requested`.
    ChangesRequested,
    /// `review:required`.
    Required,
    /// `review:none`: no submitted review at all.
    None,
}

/// A half-open time interval `[from, to)`; `None` ends are unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// One qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Qual {
    /// `is:pr`, `type:pr`.
    Pr,
    /// `is:issue`, `type:issue`.
    Issue,
    /// `is:open`, `state:open`.
    Open,
    /// `is:closed`, `state:closed`.
    Closed,
    /// `is:merged`.
    Merged,
    /// `is:unmerged`: a closed, unmerged pull request.
    Unmerged,
    /// `is:draft`, `draft:true`.
    Draft,
    /// `archived:true|false` (the fake has no archived repositories).
    Archived(bool),
    /// `org:o` / `user:o`: the repository owner.
    Owner(String),
    /// `repo:o/r`.
    Repo(String),
    /// `author:login`; `author:app/x` is the app's bot account.
    Author(String),
    /// `assignee:login`.
    Assignee(String),
    /// `base:branch`.
    Base(String),
    /// `head:branch`.
    Head(String),
    /// `label:a,b`: any of the labels.
    Label(Vec<String>),
    /// `milestone:title`.
    Milestone(String),
    /// `no:label`.
    NoLabel,
    /// `no:milestone`.
    NoMilestone,
    /// `no:assignee`.
    NoAssignee,
    /// `review:…`.
    Review(ReviewQual),
    /// `status:success|pending|failure`: the head's combined status.
    Status(String),
    /// `updated:…`.
    Updated(TimeRange),
    /// `created:…`.
    Created(TimeRange),
    /// A bare word or quoted phrase: matched against title and body.
    Text(String),
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Sort {
    /// Newest first (what an unsorted query gets).
    #[default]
    CreatedDesc,
    /// `sort:created-asc`.
    CreatedAsc,
    /// `sort:updated-asc`.
    UpdatedAsc,
    /// `sort:updated-desc` / `sort:updated`.
    UpdatedDesc,
}

/// What a query is matched against: one issue or pull request with the facts search looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Item<'a> {
    pub owner: &'a str,
    pub repo: &'a str,
    pub is_pr: bool,
    pub open: bool,
    pub merged: bool,
    pub draft: bool,
    pub author: &'a str,
    pub author_is_bot: bool,
    pub assignees: &'a [String],
    pub base: Option<&'a str>,
    pub head: Option<&'a str>,
    pub labels: &'a [String],
    pub milestone: Option<&'a str>,
    /// GraphQL `reviewDecision` spelling.
    pub review_decision: Option<&'a str>,
    /// Whether any review was submitted.
    pub reviewed: bool,
    /// Combined status of the head (`success`, `pending`, `failure`).
    pub status: Option<&'a str>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub title: &'a str,
    pub body: &'a str,
}

/// Splits on whitespace outside double quotes.
fn tokens(q: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("unbalanced quote in search query {q:?}"));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// `"a","b"` / `a,b` / `"a b"` → the comma-separated items with quotes removed.
fn value_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in raw.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => items.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    items.push(cur);
    items
}

/// The value with surrounding quotes removed (commas kept).
fn single(raw: &str) -> String {
    raw.chars().filter(|c| *c != '"').collect()
}

/// A date (`2024-01-02`, the whole UTC day) or timestamp (RFC 3339, or without offset as UTC)
/// as the interval it covers.
fn instant(s: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        let t = t.with_timezone(&Utc);
        return Ok((t, t + Duration::seconds(1)));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        let t = t.and_utc();
        return Ok((t, t + Duration::seconds(1)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        if let Some(start) = start {
            return Ok((start, start + Duration::days(1)));
        }
    }
    Err(format!("invalid date {s:?} (want YYYY-MM-DD or RFC 3339)"))
}

/// `>=X`, `>X`, `<=X`, `<X`, `X..Y` (either side may be `*`) or `X`.
fn time_range(v: &str) -> Result<TimeRange, String> {
    let (from, to) = if let Some(x) = v.strip_prefix(">=") {
        (Some(instant(x)?.0), None)
    } else if let Some(x) = v.strip_prefix('>') {
        (Some(instant(x)?.1), None)
    } else if let Some(x) = v.strip_prefix("<=") {
        (None, Some(instant(x)?.1))
    } else if let Some(x) = v.strip_prefix('<') {
        (None, Some(instant(x)?.0))
    } else if let Some((a, b)) = v.split_once("..") {
        let from = if a == "*" { None } else { Some(instant(a)?.0) };
        let to = if b == "*" { None } else { Some(instant(b)?.1) };
        (from, to)
    } else {
        let (a, b) = instant(v)?;
        (Some(a), Some(b))
    };
    Ok(TimeRange { from, to })
}

fn boolean(name: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{name}: wants true or false, got {v:?}")),
    }
}

/// Parses a search string.
pub(crate) fn parse(q: &str) -> Result<SearchQuery, String> {
    let mut out = SearchQuery::default();
    for tok in tokens(q)? {
        let (negated, body) = match tok.strip_prefix('-') {
            Some(rest) if rest.contains(':') && !rest.starts_with('"') => (true, rest),
            _ => (false, tok.as_str()),
        };
        let qualified = body
            .split_once(':')
            .filter(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
            })
            .filter(|_| !body.starts_with('"'));
        let Some((name, raw)) = qualified else {
            if matches!(body, "AND" | "OR" | "NOT") {
                return Err(format!(
                    "the fake GitHub does not support the boolean operator {body} in searches"
                ));
            }
            let text = single(tok.strip_prefix('-').unwrap_or(&tok));
            if !text.is_empty() {
                out.terms.push(Term {
                    negated: tok.starts_with('-'),
                    qual: Qual::Text(text),
                });
            }
            continue;
        };
        let name = name.to_ascii_lowercase();
        let v = single(raw);
        if v.is_empty() {
            return Err(format!("search qualifier {name}: has no value"));
        }
        let lower = v.to_ascii_lowercase();
        let qual = match name.as_str() {
            "is" | "type" | "state" => match (name.as_str(), lower.as_str()) {
                ("is" | "type", "pr" | "pull-request") => Qual::Pr,
                ("is" | "type", "issue") => Qual::Issue,
                ("is" | "state", "open") => Qual::Open,
                ("is" | "state", "closed") => Qual::Closed,
                ("is", "merged") => Qual::Merged,
                ("is", "unmerged") => Qual::Unmerged,
                ("is", "draft") => Qual::Draft,
                _ => {
                    return Err(format!(
                        "unsupported search qualifier value {name}:{v} in the fake GitHub"
                    ));
                }
            },
            "draft" => {
                if boolean(&name, &v)? {
                    Qual::Draft
                } else {
                    out.terms.push(Term {
                        negated: !negated,
                        qual: Qual::Draft,
                    });
                    continue;
                }
            }
            "archived" => Qual::Archived(boolean(&name, &v)?),
            "org" | "user" => Qual::Owner(lower),
            "repo" => {
                if !v.contains('/') {
                    return Err(format!("repo:{v} is not owner/name"));
                }
                Qual::Repo(lower)
            }
            "author" => Qual::Author(lower),
            "assignee" => Qual::Assignee(lower),
            "base" => Qual::Base(v),
            "head" => Qual::Head(v),
            "label" => Qual::Label(
                value_list(raw)
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .collect(),
            ),
            "milestone" => Qual::Milestone(v),
            "no" => match lower.as_str() {
                "label" => Qual::NoLabel,
                "milestone" => Qual::NoMilestone,
                "assignee" => Qual::NoAssignee,
                _ => return Err(format!("unsupported search qualifier value no:{v}")),
            },
            "review" => Qual::Review(match lower.as_str() {
                "approved" => ReviewQual::Approved,
                "changes_requested" => ReviewQual::ChangesRequested,
                "required" => ReviewQual::Required,
                "none" => ReviewQual::None,
                _ => return Err(format!("unsupported search qualifier value review:{v}")),
            }),
            "status" => match lower.as_str() {
                "success" | "pending" | "failure" => Qual::Status(lower),
                _ => return Err(format!("unsupported search qualifier value status:{v}")),
            },
            "updated" => Qual::Updated(time_range(&v)?),
            "created" => Qual::Created(time_range(&v)?),
            "sort" => {
                if negated {
                    return Err("sort: cannot be negated".into());
                }
                out.sort = match lower.as_str() {
                    "created-desc" | "created" => Sort::CreatedDesc,
                    "created-asc" => Sort::CreatedAsc,
                    "updated-asc" => Sort::UpdatedAsc,
                    "updated-desc" | "updated" => Sort::UpdatedDesc,
                    _ => return Err(format!("unsupported search sort {v:?} in the fake GitHub")),
                };
                continue;
            }
            other => {
                return Err(format!(
                    "unsupported search qualifier {other:?} in the fake GitHub"
                ));
            }
        };
        out.terms.push(Term { negated, qual });
    }
    Ok(out)
}

/// Which positive qualifiers are alternatives of one another (`None`: ANDed on its own).
fn or_group(q: &Qual) -> Option<u8> {
    match q {
        Qual::Owner(_) | Qual::Repo(_) => Some(0),
        Qual::Base(_) => Some(1),
        Qual::Head(_) => Some(2),
        Qual::Author(_) => Some(3),
        Qual::Milestone(_) => Some(4),
        _ => None,
    }
}

fn author_matches(want: &str, item: &Item<'_>) -> bool {
    let author = item.author.to_ascii_lowercase();
    match want.strip_prefix("app/") {
        Some(app) => author == format!("{app}[bot]") || (item.author_is_bot && author == app),
        None => author == want,
    }
}

/// Whether one qualifier holds for `item` (negation is applied by the caller).
fn holds(q: &Qual, item: &Item<'_>) -> bool {
    match q {
        Qual::Pr => item.is_pr,
        Qual::Issue => !item.is_pr,
        Qual::Open => item.open,
        Qual::Closed => !item.open,
        Qual::Merged => item.merged,
        Qual::Unmerged => item.is_pr && !item.open && !item.merged,
        Qual::Draft => item.draft,
        Qual::Archived(a) => !*a,
        Qual::Owner(o) => item.owner.eq_ignore_ascii_case(o),
        Qual::Repo(r) => format!("{}/{}", item.owner, item.repo).eq_ignore_ascii_case(r),
        Qual::Author(a) => author_matches(a, item),
        Qual::Assignee(a) => item.assignees.iter().any(|x| x.eq_ignore_ascii_case(a)),
        Qual::Base(b) => item.base == Some(b.as_str()),
        Qual::Head(h) => item.head == Some(h.as_str()),
        Qual::Label(any) => any
            .iter()
            .any(|l| item.labels.iter().any(|x| x.eq_ignore_ascii_case(l))),
        Qual::Milestone(m) => item.milestone.is_some_and(|x| x.eq_ignore_ascii_case(m)),
        Qual::NoLabel => item.labels.is_empty(),
        Qual::NoMilestone => item.milestone.is_none(),
        Qual::NoAssignee => item.assignees.is_empty(),
        Qual::Review(r) => match r {
            ReviewQual::Approved => item.review_decision == Some("APPROVED"),
            ReviewQual::ChangesRequested => item.review_decision == Some("CHANGES_REQUESTED"),
            ReviewQual::Required => item.review_decision == Some("REVIEW_REQUIRED"),
            ReviewQual::None => item.is_pr && !item.reviewed,
        },
        Qual::Status(s) => item.status == Some(s.as_str()),
        Qual::Updated(r) => r.contains(item.updated),
        Qual::Created(r) => r.contains(item.created),
        Qual::Text(t) => {
            let t = t.to_lowercase();
            item.title.to_lowercase().contains(&t) || item.body.to_lowercase().contains(&t)
        }
    }
}

impl SearchQuery {
    /// Whether `item` is a result of this query.
    pub fn matches(&self, item: &Item<'_>) -> bool {
        let mut groups: [Option<bool>; 5] = [None; 5];
        for t in &self.terms {
            let yes = holds(&t.qual, item);
            if t.negated {
                if yes {
                    return false;
                }
                continue;
            }
            match or_group(&t.qual) {
                Some(g) => {
                    let slot = &mut groups[usize::from(g)];
                    *slot = Some(slot.unwrap_or(false) || yes);
                }
                None if !yes => return false,
                None => {}
            }
        }
        groups.iter().all(|g| g.unwrap_or(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn pr<'a>(labels: &'a [String]) -> Item<'a> {
        Item {
            owner: "acme",
            repo: "widgets",
            is_pr: true,
            open: true,
            author: "dave",
            base: Some("main"),
            head: Some("shiny"),
            labels,
            created: t("2024-01-01T00:00:00Z"),
            updated: t("2024-03-05T10:00:00Z"),
            title: "Make widgets shinier",
            ..Item::default()
        }
    }

    fn m(q: &str, item: &Item<'_>) -> bool {
        parse(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .matches(item)
    }

    #[test]
    fn tide_queries_match_like_github() {
        let labels = vec!["lgtm".to_owned(), "approved".to_owned()];
        let item = pr(&labels);
        let q = r#"is:pr state:open archived:false label:"lgtm" label:"approved" -label:"do-not-merge/hold" org:"acme""#;
        assert!(m(q, &item));
        assert!(!m(&format!("{q} -repo:\"acme/widgets\""), &item));
        // Scope qualifiers are a union.
        assert!(m(r#"is:pr org:"other" repo:"acme/widgets""#, &item));
        assert!(!m(r#"is:pr org:"other" repo:"acme/gadgets""#, &item));
        // label:"a","b" is either; separate label: terms are both.
        assert!(m(r#"label:"nope","lgtm""#, &item));
        assert!(!m(r#"label:"nope" label:"lgtm""#, &item));
        // Repeated base: are alternatives; -base: excludes.
        assert!(m(r#"base:"release" base:"main""#, &item));
        assert!(!m(r#"-base:"main""#, &item));
        assert!(m("head:shiny author:dave", &item));
        assert!(!m("is:issue", &item));
        assert!(!m("is:draft", &item));
        assert!(m("-is:draft", &item));
        assert!(!m("archived:true", &item));
        assert!(!m("review:approved", &item));
        assert!(!m(r#"milestone:"v1""#, &item));
        assert!(m("no:milestone shinier", &item));
    }

    #[test]
    fn app_authors_are_bot_accounts() {
        let labels = Vec::new();
        let mut item = pr(&labels);
        item.author = "renovate[bot]";
        assert!(m("author:app/renovate", &item));
        assert!(!m("author:renovate", &item));
        item.author = "prow-bot";
        item.author_is_bot = true;
        assert!(m("author:app/prow-bot", &item));
    }

    #[test]
    fn updated_ranges_accept_dates_and_timestamps() {
        let labels = Vec::new();
        let item = pr(&labels);
        assert!(m("updated:>=2024-03-05T10:00:00Z", &item));
        assert!(!m("updated:>2024-03-05T10:00:00Z", &item));
        assert!(m("updated:>=2024-03-05", &item));
        assert!(!m("updated:>2024-03-05", &item));
        assert!(m("updated:<=2024-03-05", &item));
        assert!(!m("updated:<2024-03-05", &item));
        assert!(m("updated:2024-03-05", &item));
        assert!(m("updated:2024-03-01..2024-03-05", &item));
        assert!(!m("updated:2024-03-06..*", &item));
        assert!(m("created:<2024-02-01", &item));
    }

    #[test]
    fn unknown_qualifiers_and_values_are_errors() {
        for q in [
            "in:title foo",
            "is:locked",
            "review:maybe",
            "updated:>=yesterday",
            "sort:reactions",
            "label:",
            "foo OR bar",
            r#"label:"unterminated"#,
            "repo:noslash",
        ] {
            assert!(parse(q).is_err(), "{q} should be rejected");
        }
        let err = parse("is:pr involves:alice").unwrap_err();
        assert!(err.contains("involves"), "{err}");
    }

    #[test]
    fn sort_is_parsed() {
        assert_eq!(parse("sort:updated-asc").unwrap().sort, Sort::UpdatedAsc);
        assert_eq!(parse("is:pr").unwrap().sort, Sort::CreatedDesc);
    }
}
