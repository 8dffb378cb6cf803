//! Client tokens: the rules a token must follow (EC2's), checked before anything is stored.
//!
//! A token is 1 to 64 visible ASCII characters (0x21 to 0x7E) and case-sensitive.

use std::fmt;

/// The longest token accepted, in characters (EC2's limit).
pub const MAX_TOKEN_LEN: usize = 64;

/// The longest `Idempotency-Key` accepted over HTTP, in characters (Stripe's limit): the rule
/// of the HTTP layer and of a token of type `IdempotencyKey`.
pub const MAX_HTTP_KEY_LEN: usize = 255;

/// Which token rule a client token broke.
///
/// ```
/// use idempotent_runtime::{validate_token, InvalidTokenReason};
/// assert_eq!(validate_token(""), Err(InvalidTokenReason::Empty));
/// assert_eq!(
///     validate_token("a b").unwrap_err().to_string(),
///     "the character at byte 1 (' ') is not visible ASCII (0x21 to 0x7E)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidTokenReason {
    /// The token is empty.
    Empty,
    /// The token is longer than its limit ([`MAX_TOKEN_LEN`], or [`MAX_HTTP_KEY_LEN`] for an
    /// HTTP key).
    TooLong {
        /// The token's length in bytes.
        len: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The token holds a character outside visible ASCII (0x21 to 0x7E).
    NotVisibleAscii {
        /// Byte offset of the first offending character.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// An HTTP `Idempotency-Key` that opens a structured-field string (`"`) but does not
    /// close it properly.
    MalformedQuoting,
    /// The `Idempotency-Key` header is sent more than once.
    Repeated,
}

impl fmt::Display for InvalidTokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the token is empty; send at least one visible ASCII character"),
            Self::TooLong { len, limit } => write!(
                f,
                "the token is {len} characters long; the limit is {limit}"
            ),
            Self::NotVisibleAscii { position, found } => write!(
                f,
                "the character at byte {position} ({found:?}) is not visible ASCII (0x21 to 0x7E)"
            ),
            Self::Repeated => f.write_str("the Idempotency-Key header is sent more than once"),
            Self::MalformedQuoting => f.write_str(
                "the key opens a quoted string but is not one (RFC 8941): send \"key\" or the bare key",
            ),
        }
    }
}

impl std::error::Error for InvalidTokenReason {}

/// Checks a client token against the token rules.
///
/// ```
/// use idempotent_runtime::validate_token;
/// assert!(validate_token("abf653c2-09a2-426d-bd2d-acaac0c98a28").is_ok());
/// assert!(validate_token(&"x".repeat(65)).is_err());
/// ```
pub fn validate_token(token: &str) -> Result<(), InvalidTokenReason> {
    validate_token_up_to(token, MAX_TOKEN_LEN)
}

/// Checks a token against the token rules with `limit` as its longest length.
pub(crate) fn validate_token_up_to(token: &str, limit: usize) -> Result<(), InvalidTokenReason> {
    if token.is_empty() {
        return Err(InvalidTokenReason::Empty);
    }
    // A branch-free pass (vectorised) for the common case; the position only on failure.
    let visible = |b: u8| matches!(b, 0x21..=0x7e);
    let all_visible = token.bytes().fold(true, |all, b| all & visible(b));
    if let Some(position) = (!all_visible)
        .then(|| token.bytes().position(|b| !visible(b)))
        .flatten()
    {
        // Every byte before `position` is ASCII, so `position` starts a character.
        let found = token
            .get(position..)
            .and_then(|rest| rest.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        return Err(InvalidTokenReason::NotVisibleAscii { position, found });
    }
    if token.len() > limit {
        return Err(InvalidTokenReason::TooLong {
            len: token.len(),
            limit,
        });
    }
    Ok(())
}

/// A client token that is known to follow the token rules.
///
/// Use it as a handler's token parameter, or to parse tokens at the edge of a service.
///
/// ```
/// use idempotent_runtime::ClientToken;
/// let token = ClientToken::parse("abf653c2-09a2-426d-bd2d-acaac0c98a28").unwrap();
/// assert_eq!(token.as_ref(), "abf653c2-09a2-426d-bd2d-acaac0c98a28");
/// assert!(ClientToken::parse("has space").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientToken(String);

impl ClientToken {
    /// A fresh random token: a UUID v4 in its hyphenated lowercase text, as `uuidgen` prints.
    /// Make one per logical request and keep it across that request's retries.
    ///
    /// ```
    /// use idempotent_runtime::ClientToken;
    /// let token = ClientToken::new();
    /// assert_eq!(token.as_str().len(), 36);
    /// assert_ne!(token, ClientToken::new());
    /// ```
    #[expect(
        clippy::new_without_default,
        reason = "a default token would be a random one: say new()"
    )]
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// Parses a token, applying the token rules.
    pub fn parse(token: impl Into<String>) -> Result<Self, InvalidTokenReason> {
        let token = token.into();
        validate_token(&token)?;
        Ok(Self(token))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ClientToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ClientToken {
    type Err = InvalidTokenReason;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for ClientToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ClientToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn a_client_token_is_its_text_through_every_view() {
        let token = ClientToken::parse("abf653c2-09a2").expect("a valid token");
        assert_eq!(token.as_ref(), "abf653c2-09a2");
        assert_eq!(token.as_str(), "abf653c2-09a2");
        assert_eq!(token.to_string(), "abf653c2-09a2");
    }

    #[test]
    fn sixty_four_characters_pass_and_sixty_five_fail() {
        assert_eq!(validate_token(&"a".repeat(64)), Ok(()));
        assert_eq!(
            validate_token(&"a".repeat(65)),
            Err(InvalidTokenReason::TooLong { len: 65, limit: 64 })
        );
    }

    #[test]
    fn every_visible_ascii_character_passes_and_its_neighbours_fail() {
        for byte in 0x21u8..=0x7e {
            assert_eq!(validate_token(&(byte as char).to_string()), Ok(()));
        }
        for bad in [' ', '\x7f', '\n', '\0', 'é', '😀'] {
            let token = format!("ok{bad}");
            assert_eq!(
                validate_token(&token),
                Err(InvalidTokenReason::NotVisibleAscii {
                    position: 2,
                    found: bad
                })
            );
        }
    }

    #[test]
    fn fresh_tokens_follow_the_rules_and_differ() {
        let tokens: std::collections::HashSet<ClientToken> =
            (0..1000).map(|_| ClientToken::new()).collect();
        assert_eq!(tokens.len(), 1000);
        for token in &tokens {
            assert_eq!(validate_token(token.as_str()), Ok(()));
            assert_eq!(
                token.as_str().as_bytes()[14],
                b'4',
                "UUID version 4: {token}"
            );
        }
    }

    #[test]
    fn serde_round_trips_and_rejects_bad_tokens() {
        let token = ClientToken::new();
        let json = format!("\"{token}\"");
        let back: ClientToken = serde_json_like(&json).expect("valid");
        assert_eq!(back, token);
        assert!(serde_json_like("\"has space\"").is_err());
    }

    /// Deserializes a JSON string literal without a JSON dependency.
    fn serde_json_like(text: &str) -> Result<ClientToken, serde::de::value::Error> {
        use serde::de::IntoDeserializer;
        let inner = text.trim_matches('"').to_owned();
        ClientToken::deserialize(inner.into_deserializer())
    }

    #[test]
    fn a_long_non_ascii_token_reports_the_character_first() {
        let token = "é".repeat(40);
        assert!(matches!(
            validate_token(&token),
            Err(InvalidTokenReason::NotVisibleAscii { position: 0, .. })
        ));
    }
}
