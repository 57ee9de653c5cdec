//! Who the bot is. Plugins ignore the bot's own comments and recognise its earlier replies.

/// The bot's login, resolved once from `GET /user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    login: String,
}

impl BotIdentity {
    /// The bot named `login` (a trailing `[bot]`, as GitHub Apps show up, is ignored).
    pub fn new(login: &str) -> Self {
        BotIdentity {
            login: strip_bot_suffix(login).to_owned(),
        }
    }

    /// The login without `[bot]`.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// Whether `candidate` is the bot (Prow's `BotUserChecker`; `[bot]` stripped, exact match).
    pub fn is_bot(&self, candidate: &str) -> bool {
        !self.login.is_empty() && strip_bot_suffix(candidate) == self.login
    }
}

fn strip_bot_suffix(s: &str) -> &str {
    s.strip_suffix("[bot]").unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_suffix_is_ignored() {
        let b = BotIdentity::new("k8s-ci-robot");
        assert!(b.is_bot("k8s-ci-robot"));
        assert!(b.is_bot("k8s-ci-robot[bot]"));
        assert!(!b.is_bot("K8s-ci-robot"));
        assert!(!b.is_bot("someone"));
        let app = BotIdentity::new("my-app[bot]");
        assert_eq!(app.login(), "my-app");
        assert!(app.is_bot("my-app[bot]"));
        assert!(!BotIdentity::new("").is_bot(""));
    }
}
