//! JUnit XML from job artifacts (uploaded by the job, so attacker-controlled): parsed,
//! de-duplicated, grouped and rendered by the JUnit lens. The rendered HTML must never carry
//! markup from the file.

use std::sync::LazyLock;

use prow_spyglass::junit::{self, GroupSelector, JunitView};

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "<?xml version=\"1.0\"?>",
    "<testsuites>",
    "</testsuites>",
    "<testsuite name=\"s\">",
    "</testsuite>",
    "<testcase name=\"t\" classname=\"c\" time=\"1.5\">",
    "</testcase>",
    "<testcase name=\"t\"/>",
    "<failure message=\"m\">",
    "</failure>",
    "<error>",
    "</error>",
    "<skipped/>",
    "<skipped message=\"x\"/>",
    "<system-out>",
    "</system-out>",
    "<system-err>",
    "</system-err>",
    "<properties>",
    "</properties>",
    "<property name=\"k\" value=\"v\"/>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "&amp;",
    "&lt;",
    "&#x0;",
    "&#1114112;",
    "&bogus;",
    "<!DOCTYPE x [<!ENTITY e \"v\">]>",
    "&e;",
    "time=\"NaN\"",
    "time=\"-1e309\"",
    "time=\"inf\"",
    "<script>",
    "\"",
    "'",
    "=",
    "/>",
    "<",
    ">",
];

static SELECTORS: LazyLock<Vec<GroupSelector>> = LazyLock::new(|| {
    vec![
        GroupSelector::parse("g", "properties/property[@name='k' and @value='v']", false)
            .expect("fixed selector"),
        GroupSelector::parse("h", "properties/property[@name='k']", true).expect("fixed selector"),
    ]
});

/// Runs one input.
pub fn run(data: &[u8]) {
    let parsed = junit::parse(data);
    if let Ok(cases) = &parsed {
        for c in cases {
            let _ = c.status();
            let _ = c.display_name();
        }
        let _ = junit::dedupe("junit.xml", cases.clone());
    }
    for selectors in [Vec::new(), SELECTORS.clone()] {
        let view = JunitView::build(
            vec![
                ("artifacts/junit.xml".to_owned(), parsed.clone()),
                ("artifacts/junit_2.xml".to_owned(), parsed.clone()),
            ],
            selectors,
        );
        let _ = view.total();
        let html = view.render();
        assert!(
            !html.to_ascii_lowercase().contains("<script"),
            "markup from the JUnit file reached the page"
        );
    }
}
