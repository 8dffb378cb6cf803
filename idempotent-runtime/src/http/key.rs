//! The `Idempotency-Key` header: a structured-field string (`"8e03978e-..."`, RFC 8941) or,
//! as many clients send it, the bare key; then the HTTP key rule, 1 to 255 visible ASCII
//! characters.

use std::borrow::Cow;

use http::{HeaderMap, HeaderValue};

use crate::token::{validate_token_up_to, InvalidTokenReason};
use crate::MAX_HTTP_KEY_LEN;

/// The header's name.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The request's key: `None` without the header; a header sent twice, or one that breaks the
/// rule, is refused (and reported as an invalid token, as the attribute reports one).
pub(crate) fn read_key(headers: &HeaderMap) -> Result<Option<String>, InvalidTokenReason> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let key = match values.next() {
        Some(_) => Err(InvalidTokenReason::Repeated),
        None => parse_key(value).map(Cow::into_owned),
    };
    key.map(Some).inspect_err(crate::events::invalid_token)
}

/// Reads a key from the header's value, checking the HTTP key rule.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use idempotent_runtime::http::parse_key;
///
/// let quoted = HeaderValue::from_static("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"");
/// assert_eq!(parse_key(&quoted).unwrap(), "8e03978e-40d5-43e8-bc93-6894a57f9324");
/// let bare = HeaderValue::from_static("8e03978e-40d5-43e8-bc93-6894a57f9324");
/// assert_eq!(parse_key(&bare).unwrap(), "8e03978e-40d5-43e8-bc93-6894a57f9324");
/// assert!(parse_key(&HeaderValue::from_static("\"unterminated")).is_err());
/// ```
pub fn parse_key(value: &HeaderValue) -> Result<Cow<'_, str>, InvalidTokenReason> {
    let Ok(text) = value.to_str() else {
        let bytes = value.as_bytes();
        let position = bytes
            .iter()
            .position(|b| !matches!(b, 0x21..=0x7e))
            .unwrap_or(0);
        return Err(InvalidTokenReason::NotVisibleAscii {
            position,
            found: char::REPLACEMENT_CHARACTER,
        });
    };
    let key = match text.strip_prefix('"') {
        Some(quoted) => Cow::Owned(structured_string(quoted)?),
        None => Cow::Borrowed(text),
    };
    validate_token_up_to(&key, MAX_HTTP_KEY_LEN)?;
    Ok(key)
}

/// The rest of an sf-string after its opening quote: characters up to the closing quote,
/// with `\"` and `\\` unescaped; parameters after it (`;name=value`) are ignored, as RFC 8941
/// lets a recipient do with parameters it does not know.
fn structured_string(quoted: &str) -> Result<String, InvalidTokenReason> {
    let mut key = String::with_capacity(quoted.len());
    let mut chars = quoted.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                let rest = &quoted[at + 1..];
                return if rest.is_empty() || rest.starts_with(';') {
                    Ok(key)
                } else {
                    Err(InvalidTokenReason::MalformedQuoting)
                };
            }
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => key.push(escaped),
                _ => return Err(InvalidTokenReason::MalformedQuoting),
            },
            other => key.push(other),
        }
    }
    Err(InvalidTokenReason::MalformedQuoting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &'static str) -> Result<String, InvalidTokenReason> {
        parse_key(&HeaderValue::from_static(value)).map(Cow::into_owned)
    }

    #[test]
    fn quoted_and_bare_keys_are_the_same_key() {
        assert_eq!(parsed("\"abc-123\""), Ok("abc-123".into()));
        assert_eq!(parsed("abc-123"), Ok("abc-123".into()));
        assert_eq!(parsed("\"abc-123\";v=1"), Ok("abc-123".into()));
        assert_eq!(parsed(r#""a\"b\\c""#), Ok(r#"a"b\c"#.into()));
    }

    #[test]
    fn the_http_rule_allows_255_characters_and_no_more() {
        let at_limit = HeaderValue::from_str(&"k".repeat(255)).expect("ascii");
        assert!(parse_key(&at_limit).is_ok());
        let over = HeaderValue::from_str(&"k".repeat(256)).expect("ascii");
        assert_eq!(
            parse_key(&over),
            Err(InvalidTokenReason::TooLong {
                len: 256,
                limit: 255
            })
        );
    }

    #[test]
    fn a_key_sent_twice_is_refused_and_none_is_no_key() {
        let mut headers = HeaderMap::new();
        assert_eq!(read_key(&headers), Ok(None));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("k-1"));
        assert_eq!(read_key(&headers), Ok(Some("k-1".into())));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("k-2"));
        assert_eq!(read_key(&headers), Err(InvalidTokenReason::Repeated));
    }

    #[test]
    fn malformed_or_invisible_keys_are_refused() {
        assert_eq!(parsed("\"open"), Err(InvalidTokenReason::MalformedQuoting));
        assert_eq!(parsed("\"a\"b"), Err(InvalidTokenReason::MalformedQuoting));
        assert_eq!(
            parsed(r#""a\x""#),
            Err(InvalidTokenReason::MalformedQuoting)
        );
        assert_eq!(parsed("\"\""), Err(InvalidTokenReason::Empty));
        assert!(matches!(
            parsed("\"a b\""),
            Err(InvalidTokenReason::NotVisibleAscii { position: 1, .. })
        ));
        let opaque = HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is a valid value");
        assert!(matches!(
            parse_key(&opaque),
            Err(InvalidTokenReason::NotVisibleAscii { position: 3, .. })
        ));
    }
}
