//! GitHub login normalisation.

use std::collections::BTreeSet;

/// Normalises a GitHub login the way Prow does: lower-cased, one leading `@`
/// removed. GitHub logins are case-insensitive, and OWNERS files often use
/// `@user` mention syntax.
pub fn norm_login(login: &str) -> String {
    let lower = login.to_lowercase();
    match lower.strip_prefix('@') {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// Normalises every login of `logins` into a set.
pub fn norm_logins<I, S>(logins: I) -> BTreeSet<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    logins.into_iter().map(|l| norm_login(l.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(norm_login("@Alice"), "alice");
        assert_eq!(norm_login("BOB"), "bob");
        // Only one leading `@` is stripped, as in Prow.
        assert_eq!(norm_login("@@x"), "@x");
        assert_eq!(norm_login(""), "");
    }
}
