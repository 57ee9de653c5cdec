//! Job-config YAML builders for trigger tests.

/// One presubmit, rendered as Prow job-config YAML.
#[derive(Clone, Default)]
pub struct J {
    name: String,
    context: String,
    trigger: String,
    rerun: String,
    always_run: bool,
    optional: bool,
    skip_report: bool,
    run_if_changed: String,
    skip_if_only_changed: String,
    branches: Vec<String>,
    skip_branches: Vec<String>,
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[allow(dead_code, reason = "not every setter is used by every test")]
impl J {
    /// A job with Prow's usual trigger, rerun command `/test <name>` and context `pull-<name>`.
    pub fn std(name: &str) -> J {
        J {
            name: name.to_owned(),
            context: format!("pull-{name}"),
            trigger: format!("(?m)^/test (?:.*? )?{name}(?: .*?)?$"),
            rerun: format!("/test {name}"),
            ..J::default()
        }
    }
    pub fn trigger(mut self, trigger: &str, rerun: &str) -> J {
        self.trigger = trigger.to_owned();
        self.rerun = rerun.to_owned();
        self
    }
    pub fn always_run(mut self) -> J {
        self.always_run = true;
        self
    }
    pub fn optional(mut self) -> J {
        self.optional = true;
        self
    }
    pub fn skip_report(mut self) -> J {
        self.skip_report = true;
        self
    }
    pub fn run_if_changed(mut self, re: &str) -> J {
        self.run_if_changed = re.to_owned();
        self
    }
    pub fn skip_if_only_changed(mut self, re: &str) -> J {
        self.skip_if_only_changed = re.to_owned();
        self
    }
    pub fn branches(mut self, b: &[&str]) -> J {
        self.branches = b.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    pub fn skip_branches(mut self, b: &[&str]) -> J {
        self.skip_branches = b.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn yaml(&self) -> String {
        let mut s = format!(
            "  - name: {}\n    context: {}\n",
            self.name,
            q(&self.context)
        );
        if !self.trigger.is_empty() {
            s.push_str(&format!(
                "    trigger: {}\n    rerun_command: {}\n",
                q(&self.trigger),
                q(&self.rerun)
            ));
        }
        for (k, v) in [
            ("always_run", self.always_run),
            ("optional", self.optional),
            ("skip_report", self.skip_report),
        ] {
            if v {
                s.push_str(&format!("    {k}: true\n"));
            }
        }
        if !self.run_if_changed.is_empty() {
            s.push_str(&format!(
                "    run_if_changed: {}\n",
                q(&self.run_if_changed)
            ));
        }
        if !self.skip_if_only_changed.is_empty() {
            s.push_str(&format!(
                "    skip_if_only_changed: {}\n",
                q(&self.skip_if_only_changed)
            ));
        }
        if !self.branches.is_empty() {
            s.push_str(&format!("    branches: [{}]\n", self.branches.join(", ")));
        }
        if !self.skip_branches.is_empty() {
            s.push_str(&format!(
                "    skip_branches: [{}]\n",
                self.skip_branches.join(", ")
            ));
        }
        s.push_str(
            "    spec:\n      containers:\n      - image: registry.example.com/test:latest\n",
        );
        s
    }
}

/// `presubmits:` for `org_repo`.
pub fn presubmits(org_repo: &str, jobs: &[J]) -> String {
    let mut s = format!("presubmits:\n  {org_repo}:\n");
    for j in jobs {
        s.push_str(&j.yaml());
    }
    s
}
