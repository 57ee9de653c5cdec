//! Property tests: parsing never panics and spans are always valid.

use proptest::prelude::*;

fn check(body: &str) {
    for l in prow_commands::parse_located(body) {
        let text = body
            .get(l.span.clone())
            .unwrap_or_else(|| panic!("span {:?} invalid for {body:?}", l.span));
        assert!(text.starts_with('/'), "span {text:?} in {body:?}");
        let _ = l.line_in(body);
    }
    let _ = prow_commands::trigger::parse(body);
    let _ = prow_commands::label::parse(body);
    let _ = prow_commands::approve::parse(body);
    let _ = prow_commands::assign::changes(body, prow_commands::assign::AssignKind::Cc, "me");
    let _ = prow_commands::lifecycle::parse(body);
    let _ = prow_commands::retitle::parse(body);
    let _ = prow_commands::milestone::parse(body);
    let _ = prow_commands::cherrypick::parse(body);
    let _ = prow_commands::overrides::parse(body);
}

proptest! {
    #[test]
    fn arbitrary_strings(body in any::<String>()) {
        check(&body);
    }

    #[test]
    fn command_like_strings(
        body in r#"([/a-z@"?, \t\r\n`~<!>-]|lgtm|hold|test|retest|kind|assign|cc|override|cancel|<!--|-->|```|~~~|é|\u{a0}){0,60}"#
    ) {
        check(&body);
    }

    #[test]
    fn go_regex_translation_never_panics(pattern in any::<String>()) {
        let _ = prow_commands::goregex::compile(&pattern);
    }
}
