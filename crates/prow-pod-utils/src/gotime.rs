//! Go's `time.Duration` as Prow's option structs put it on the wire: a bare integer of
//! nanoseconds (Go's default JSON encoding of the type).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Serialize a duration as integer nanoseconds, like Go's `encoding/json` does.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Read integer nanoseconds; a Go duration string (`"15s"`) is accepted too so hand-written
/// options are forgiving. `null` is zero, as in Go.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let v = Option::<prow_api::Duration>::deserialize(d)?;
    Ok(v.map(|d| d.get()).unwrap_or_default())
}

/// `omitempty` for durations.
pub fn is_zero(d: &Duration) -> bool {
    d.is_zero()
}

/// Go's `time.Duration.String()` (`"1m30s"`, `"150ms"`, `"0s"`).
pub fn format(d: Duration) -> String {
    prow_api::Duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super", default)]
        d: Duration,
    }

    #[test]
    fn nanos_on_the_wire() {
        let t = T {
            d: Duration::from_secs(15),
        };
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"d":15000000000}"#);
        let back: T = serde_json::from_str(r#"{"d":15000000000}"#).unwrap();
        assert_eq!(back, t);
        let s: T = serde_json::from_str(r#"{"d":"15s"}"#).unwrap();
        assert_eq!(s, t);
        let n: T = serde_json::from_str(r#"{"d":null}"#).unwrap();
        assert_eq!(n.d, Duration::ZERO);
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
    }
}
