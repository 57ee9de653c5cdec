//! Command-line handling shared by the binaries: Prow's "JSON from an env var, else flags"
//! rule, and a parser for Go's `flag` package syntax (`-name value`, `--name=value`, bare
//! booleans, parsing stops at the first positional argument or `--`).

/// One flag a program accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagDef {
    /// Name without dashes.
    pub name: &'static str,
    /// Boolean flags take no separate value.
    pub is_bool: bool,
}

impl FlagDef {
    /// A flag that takes a value.
    pub const fn value(name: &'static str) -> Self {
        FlagDef {
            name,
            is_bool: false,
        }
    }

    /// A boolean flag.
    pub const fn boolean(name: &'static str) -> Self {
        FlagDef {
            name,
            is_bool: true,
        }
    }
}

/// Flags in the order given, and the positional arguments after them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// `(name, value)` pairs; booleans given bare have value `"true"`.
    pub flags: Vec<(String, String)>,
    /// Remaining arguments.
    pub args: Vec<String>,
}

impl Parsed {
    /// The last value of a flag.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable flag.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.flags
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean flag's value (false when absent).
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        match self.get(name) {
            None => Ok(false),
            Some(v) => {
                parse_bool(v).ok_or_else(|| format!("invalid boolean value {v:?} for -{name}"))
            }
        }
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parse `args` (without the program name) like Go's `flag.FlagSet.Parse`.
pub fn parse(args: &[String], defs: &[FlagDef]) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if a.len() < 2 || !a.starts_with('-') {
            break;
        }
        let body = a.strip_prefix("--").unwrap_or(&a[1..]);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(format!("bad flag syntax: {a}"));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let def = defs
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| format!("flag provided but not defined: -{name}"))?;
        let value = if def.is_bool {
            let v = inline.unwrap_or_else(|| "true".into());
            if parse_bool(&v).is_none() {
                return Err(format!("invalid boolean value {v:?} for -{name}"));
            }
            v
        } else if let Some(v) = inline {
            v
        } else {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: -{name}"))?
        };
        out.flags.push((name.to_string(), value));
        i += 1;
    }
    out.args = args[i..].to_vec();
    Ok(out)
}

/// Where a utility's options came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionSource {
    /// The JSON in the options env var.
    Json(String),
    /// Command-line flags (the env var was not set).
    Flags(Parsed),
}

/// Prow's `options.Load`: the env var wins when set (even if empty), else flags are parsed.
pub fn load(env_var: &str, args: &[String], defs: &[FlagDef]) -> Result<OptionSource, String> {
    match std::env::var(env_var) {
        Ok(json) => Ok(OptionSource::Json(json)),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "could not load config from JSON var {env_var}: not UTF-8"
        )),
        Err(std::env::VarError::NotPresent) => parse(args, defs).map(OptionSource::Flags),
    }
}

/// Decode options JSON with Prow's error wording.
pub fn from_json<T: serde::de::DeserializeOwned>(env_var: &str, json: &str) -> Result<T, String> {
    serde_json::from_str(json)
        .map_err(|e| format!("could not load config from JSON var {env_var}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const DEFS: [FlagDef; 3] = [
        FlagDef::value("timeout"),
        FlagDef::boolean("copy-mode-only"),
        FlagDef::value("repo"),
    ];

    #[test]
    fn go_flag_syntax() {
        let p = parse(
            &s(&[
                "-timeout",
                "5s",
                "--copy-mode-only",
                "--repo=a",
                "-repo",
                "b",
                "cmd",
                "-x",
            ]),
            &DEFS,
        )
        .unwrap();
        assert_eq!(p.get("timeout"), Some("5s"));
        assert!(p.bool("copy-mode-only").unwrap());
        assert_eq!(p.all("repo"), vec!["a", "b"]);
        assert_eq!(p.args, s(&["cmd", "-x"]));
        let p = parse(&s(&["--", "-timeout"]), &DEFS).unwrap();
        assert_eq!(p.args, s(&["-timeout"]));
        let p = parse(&s(&["-copy-mode-only=false"]), &DEFS).unwrap();
        assert!(!p.bool("copy-mode-only").unwrap());
        assert!(
            parse(&s(&["-nope"]), &DEFS)
                .unwrap_err()
                .contains("not defined")
        );
        assert!(
            parse(&s(&["-timeout"]), &DEFS)
                .unwrap_err()
                .contains("needs an argument")
        );
        assert!(parse(&s(&["-copy-mode-only=maybe"]), &DEFS).is_err());
        assert!(parse(&s(&["---x"]), &DEFS).is_err());
    }
}
