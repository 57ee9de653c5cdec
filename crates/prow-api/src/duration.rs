//! Go-compatible durations.
//!
//! Prow's config and ProwJobs carry durations the way Go's `time.Duration` prints and parses them
//! (`"1h30m"`, `"15s"`, `"2h0m0s"`, `"500ms"`). ProwJob `decoration_config.timeout` additionally
//! accepts an integer number of nanoseconds. We keep both forms on input and always emit Go's
//! canonical string, so a ProwJob we write reads back identically in Go tooling.

use std::fmt;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration with Go's `time.Duration` text form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub StdDuration);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time: invalid duration {input:?}: {reason}")]
pub struct DurationParseError {
    input: String,
    reason: &'static str,
}

impl Duration {
    /// Zero duration.
    pub const ZERO: Duration = Duration(StdDuration::ZERO);

    /// Duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        Duration(StdDuration::from_secs(s))
    }

    /// Duration of `m` minutes.
    pub const fn from_mins(m: u64) -> Self {
        Duration(StdDuration::from_secs(m * 60))
    }

    /// Duration of `h` hours.
    pub const fn from_hours(h: u64) -> Self {
        Duration(StdDuration::from_secs(h * 3600))
    }

    /// The standard-library value.
    pub const fn get(self) -> StdDuration {
        self.0
    }

    /// Whole nanoseconds (saturating), as Go stores durations.
    pub fn as_nanos_i64(self) -> i64 {
        i64::try_from(self.0.as_nanos()).unwrap_or(i64::MAX)
    }

    /// Parse Go's `time.ParseDuration` syntax: an optional sign and a sequence of decimal numbers,
    /// each with an optional fraction and a unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`).
    /// `"0"` alone needs no unit. Negative durations are rejected because nothing in Prow's
    /// config gives them a meaning.
    pub fn parse_go(input: &str) -> Result<Self, DurationParseError> {
        let err = |reason| DurationParseError {
            input: input.to_string(),
            reason,
        };
        let mut s = input;
        let mut negative = false;
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        if s == "0" {
            return Ok(Duration::ZERO);
        }
        if s.is_empty() {
            return Err(err("empty"));
        }
        let mut total: u128 = 0;
        while !s.is_empty() {
            let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &s[..int_len];
            s = &s[int_len..];
            let mut frac_part = "";
            if let Some(rest) = s.strip_prefix('.') {
                let frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &rest[..frac_len];
                s = &rest[frac_len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(err("expected a number"));
            }
            let unit_len = s
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() || *c == '.')
                .map_or(s.len(), |(i, _)| i);
            let unit = &s[..unit_len];
            s = &s[unit_len..];
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(err("missing unit")),
                _ => return Err(err("unknown unit")),
            };
            let int: u128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| err("overflow"))?
            };
            let mut value = int.checked_mul(scale).ok_or_else(|| err("overflow"))?;
            // Fractions are scaled digit by digit, like Go, so "1.5h" is exact.
            let mut frac_scale = scale;
            for d in frac_part.bytes() {
                frac_scale /= 10;
                if frac_scale == 0 {
                    break;
                }
                value += u128::from(d - b'0') * frac_scale;
            }
            total = total.checked_add(value).ok_or_else(|| err("overflow"))?;
            if total > i64::MAX as u128 {
                return Err(err("overflow"));
            }
        }
        if negative && total != 0 {
            return Err(err("negative durations are not allowed"));
        }
        let secs = (total / 1_000_000_000) as u64;
        let nanos = (total % 1_000_000_000) as u32;
        Ok(Duration(StdDuration::new(secs, nanos)))
    }
}

impl From<StdDuration> for Duration {
    fn from(d: StdDuration) -> Self {
        Duration(d)
    }
}

impl From<Duration> for StdDuration {
    fn from(d: Duration) -> Self {
        d.0
    }
}

impl FromStr for Duration {
    type Err = DurationParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse_go(s)
    }
}

/// Writes `v` as decimal with `prec` fractional digits, trailing zeros (and dot) trimmed.
fn fmt_frac(out: &mut String, v: u128, prec: u32) {
    let div = 10u128.pow(prec);
    let int = v / div;
    let frac = v % div;
    out.push_str(&int.to_string());
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String()`: `2h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        let mut out = String::new();
        if ns == 0 {
            return f.write_str("0s");
        }
        if ns < 1_000 {
            out.push_str(&format!("{ns}ns"));
        } else if ns < 1_000_000 {
            fmt_frac(&mut out, ns, 3);
            out.push_str("µs");
        } else if ns < 1_000_000_000 {
            fmt_frac(&mut out, ns, 6);
            out.push_str("ms");
        } else {
            let hours = ns / 3_600_000_000_000;
            let rem = ns % 3_600_000_000_000;
            let mins = rem / 60_000_000_000;
            let secs_ns = rem % 60_000_000_000;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            if hours > 0 || mins > 0 {
                out.push_str(&format!("{mins}m"));
            }
            fmt_frac(&mut out, secs_ns, 9);
            out.push('s');
        }
        f.write_str(&out)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Go duration string like \"1h30m\" or integer nanoseconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration(StdDuration::from_nanos(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v)
                    .map(|v| Duration(StdDuration::from_nanos(v)))
                    .map_err(|_| E::custom("negative durations are not allowed"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse_go(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_forms() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("0s", 0),
            ("15s", 15_000_000_000),
            ("1m", 60_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("2h", 7_200_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("500ms", 500_000_000),
            ("1us", 1_000),
            ("1µs", 1_000),
            ("3ns", 3),
            ("168h", 168 * 3_600_000_000_000),
            ("+5s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1h0m0s", 3_600_000_000_000),
        ];
        for (input, nanos) in cases {
            assert_eq!(
                Duration::parse_go(input).unwrap().0.as_nanos(),
                u128::from(*nanos),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_bad_forms() {
        for input in ["", "5", "h", "1x", "1.h.", "-1h", "1hh", "9999999999999h"] {
            assert!(Duration::parse_go(input).is_err(), "{input} should fail");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (15_000_000_000, "15s"),
            (90_000_000_000, "1m30s"),
            (7_200_000_000_000, "2h0m0s"),
            (3_600_000_000_000 + 1_000_000_000, "1h0m1s"),
            (168 * 3_600_000_000_000, "168h0m0s"),
        ];
        for (nanos, want) in cases {
            assert_eq!(Duration(StdDuration::from_nanos(*nanos)).to_string(), *want);
        }
    }

    #[test]
    fn serde_accepts_string_and_nanos() {
        let d: Duration = serde_json::from_str("\"2h\"").unwrap();
        assert_eq!(d, Duration::from_hours(2));
        let d: Duration = serde_json::from_str("15000000000").unwrap();
        assert_eq!(d, Duration::from_secs(15));
        assert_eq!(
            serde_json::to_string(&Duration::from_secs(15)).unwrap(),
            "\"15s\""
        );
    }

    #[test]
    fn roundtrip_formatted_values() {
        for n in [
            1u64,
            999,
            1_000,
            123_456_789,
            59_999_999_999,
            86_400_000_000_123,
        ] {
            let d = Duration(StdDuration::from_nanos(n));
            assert_eq!(Duration::parse_go(&d.to_string()).unwrap(), d, "{d}");
        }
    }
}
