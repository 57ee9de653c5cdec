//! Periodic `cron:` strings with Prow's (robfig/cron) dialect: 5 or 6 fields, descriptors such
//! as `@daily`, and `@every <go duration>`, which croner lacks.

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use prow_api::Duration;

/// A parsed schedule.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// Cron expression, evaluated in UTC.
    Cron(Box<Cron>),
    /// `@every <duration>`.
    Every(Duration),
}

/// Parse a periodic's `cron` field.
pub fn parse(expr: &str) -> Result<Schedule, String> {
    let expr = expr.trim();
    if let Some(rest) = expr.strip_prefix("@every") {
        let d = Duration::parse_go(rest.trim()).map_err(|e| e.to_string())?;
        if d == Duration::ZERO {
            return Err("@every needs a positive duration".into());
        }
        return Ok(Schedule::Every(d));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(&expand_start_steps(expr))
        .map(|c| Schedule::Cron(Box::new(c)))
        .map_err(|e| e.to_string())
}

/// robfig/cron reads `N/S` as "from N to the field's maximum, every S"; croner only accepts
/// `*/S` and `A-B/S`, so rewrite the single-number form.
fn expand_start_steps(expr: &str) -> String {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    // Field maxima for 5-field (min hour dom month dow) and 6-field (sec first) forms.
    let maxima: &[u32] = match fields.len() {
        5 => &[59, 23, 31, 12, 6],
        6 => &[59, 59, 23, 31, 12, 6],
        _ => return expr.to_string(),
    };
    fields
        .iter()
        .zip(maxima)
        .map(|(field, max)| {
            field
                .split(',')
                .map(|part| match part.split_once('/') {
                    Some((start, step))
                        if !start.is_empty() && start.chars().all(|c| c.is_ascii_digit()) =>
                    {
                        format!("{start}-{max}/{step}")
                    }
                    _ => part.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect() {
        for ok in [
            "0 * * * *",
            "*/5 * * * *",
            "0 12 13 * FRI",
            "@daily",
            "@hourly",
            "0 0 * * * *",
            "@every 1h30m",
            "30 2 * * 1-5",
            "0 1/3 * * *",
            "0 0/12 * * *",
            "5,10/20 * * * *",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "* * *", "61 * * * *", "@every", "@every 5", "not cron"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
