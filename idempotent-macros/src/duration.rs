//! Parses the attribute's durations: `"500ms"`, `"30s"`, `"5m"`, `"24h"`, `"7d"`.

use std::time::Duration;

/// The message shown for any duration that does not parse.
const HELP: &str = "write a whole number and a unit: \"500ms\", \"30s\", \"5m\", \"24h\" or \"7d\"";

/// Parses `text` into a positive duration, or says what to write instead.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!("invalid duration {text:?}: {HELP}"));
    };
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("invalid duration unit in {text:?}: {HELP}")),
    };
    match number.checked_mul(millis_per_unit) {
        Some(0) => Err(format!("the duration {text:?} must be more than zero")),
        Some(millis) => Ok(Duration::from_millis(millis)),
        None => Err(format!("the duration {text:?} is too long")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
    }

    #[test]
    fn bad_durations_say_what_to_write() {
        for bad in [
            "",
            "s",
            "5",
            "5 s",
            "5x",
            "-5s",
            "1.5h",
            "0s",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
        assert!(parse("5x").unwrap_err().contains("\"500ms\""));
    }
}
