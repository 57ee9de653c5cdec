//! `/badge.svg?jobs=<glob>[,<glob>…]`: a shields-style status badge over the latest run of each
//! matching job (Prow's `cmd/deck/badge.go`).

use std::collections::HashSet;

use prow_api::{ProwJob, ProwJobState};

/// Green of a passing badge.
pub const GREEN: &str = "#4c1";
/// Red of a failing badge.
pub const RED: &str = "#e05d44";
/// Colour of "no results".
pub const GREY: &str = "darkgrey";

/// Prow's `filepath.Match` pattern (`*` and `?` do not cross `/`); `None` when malformed,
/// which, as in Prow, matches nothing.
fn matcher(pattern: &str) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// The latest job (by start time) for every job name matching one of the comma-separated
/// globs. `jobs` must be sorted newest first.
pub fn pick_latest<'a>(
    jobs: impl IntoIterator<Item = &'a ProwJob>,
    selector: &str,
) -> Vec<&'a ProwJob> {
    let patterns: Vec<globset::GlobMatcher> = selector.split(',').filter_map(matcher).collect();
    let mut have = HashSet::new();
    let mut out = Vec::new();
    for job in jobs {
        if have.contains(job.spec.job.as_str()) {
            continue;
        }
        if patterns.iter().any(|m| m.is_match(&job.spec.job)) {
            have.insert(job.spec.job.as_str());
            out.push(job);
        }
    }
    out
}

/// Status text and colour: `passing` / `failing a, b, c, ...` / `no results`.
pub fn status(jobs: &[&ProwJob]) -> (String, &'static str) {
    if jobs.is_empty() {
        return ("no results".into(), GREY);
    }
    let mut failed: Vec<&str> = jobs
        .iter()
        .filter(|j| j.status.state == ProwJobState::Failure)
        .map(|j| j.spec.job.as_str())
        .collect();
    failed.sort_unstable();
    if failed.len() > 3 {
        failed.truncate(3);
        failed.push("...");
    }
    if failed.is_empty() {
        ("passing".into(), GREEN)
    } else {
        (format!("failing {}", failed.join(", ")), RED)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The SVG shield `[subject | status]` with Prow's geometry.
pub fn make_shield(subject: &str, status: &str, color: &str) -> String {
    let right_start = 13 + 6 * subject.len();
    let right_width = 13 + 6 * status.len();
    let width = right_start + right_width;
    let x_left = right_start as f64 * 0.5;
    let x_right = right_start as f64 + (right_width as f64 - 2.0) * 0.5;
    let (subject, status, color) = (escape(subject), escape(status), escape(color));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20">
<linearGradient id="a" x2="0" y2="100%">
  <stop offset="0" stop-color="#bbb" stop-opacity=".1"/>
  <stop offset="1" stop-opacity=".1"/>
</linearGradient>
<rect rx="3" width="100%" height="20" fill="#555"/>
<g fill="{color}">
  <rect rx="3" x="{right_start}" width="{right_width}" height="20"/>
  <path d="M{right_start} 0h4v20h-4z"/>
</g>
<rect rx="3" width="100%" height="20" fill="url(#a)"/>
<g fill="#fff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">
<g fill="#010101" opacity=".3">
<text x="{x_left}" y="15">{subject}</text>
<text x="{x_right}" y="15">{status}</text>
</g>
<text x="{x_left}" y="14">{subject}</text>
<text x="{x_right}" y="14">{status}</text>
</g>
</svg>"##
    )
}

/// The badge for `selector` over `jobs` (newest first).
pub fn render<'a>(jobs: impl IntoIterator<Item = &'a ProwJob>, selector: &str) -> String {
    let picked = pick_latest(jobs, selector);
    let (text, color) = status(&picked);
    make_shield("build", &text, color)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pj(job: &str, state: ProwJobState) -> ProwJob {
        let mut p = ProwJob::default();
        p.spec.job = job.into();
        p.status.state = state;
        p
    }

    #[test]
    fn latest_run_decides() {
        // Newest first: the newer success of post-a hides its older failure.
        let jobs = [
            pj("post-a", ProwJobState::Success),
            pj("post-a", ProwJobState::Failure),
            pj("other", ProwJobState::Failure),
        ];
        let svg = render(jobs.iter(), "post-*");
        assert!(svg.contains(">passing<"), "{svg}");
        assert!(svg.contains(r##"<g fill="#4c1">"##));
    }

    #[test]
    fn failing_lists_three_names_then_ellipsis() {
        let jobs = [
            pj("d", ProwJobState::Failure),
            pj("c", ProwJobState::Failure),
            pj("b", ProwJobState::Failure),
            pj("a", ProwJobState::Failure),
            pj("e", ProwJobState::Success),
        ];
        let picked = pick_latest(jobs.iter(), "*");
        assert_eq!(status(&picked), ("failing a, b, c, ...".to_string(), RED));
        let svg = render(jobs.iter(), "a,b");
        assert!(svg.contains(">failing a, b<"));
        assert!(svg.contains(r##"fill="#e05d44""##));
    }

    #[test]
    fn no_results_is_grey_and_geometry_matches_prow() {
        let svg = render(std::iter::empty(), "nothing");
        // Prow: RightStart = 13+6*len("build") = 43, RightWidth = 13+6*len("no results") = 73.
        assert!(svg.contains(r#"width="116" height="20""#), "{svg}");
        assert!(svg.contains(r#"<text x="21.5" y="15">build</text>"#));
        assert!(svg.contains(r#"<text x="78.5" y="14">no results</text>"#));
        assert!(svg.contains(r#"fill="darkgrey""#));
    }

    #[test]
    fn glob_is_filepath_match() {
        let m = |p: &str, n: &str| matcher(p).is_some_and(|m| m.is_match(n));
        assert!(m("pull-*", "pull-test"));
        assert!(!m("pull-*", "pull/test"));
        assert!(m("p?ll", "pull"));
    }
}
