//! Record keys: (operation, scope, token) encoded so that no two distinct triples collide.
//!
//! Every part is written with a length prefix (and the operation with a tag saying which kind
//! it is), so a scope value or operation name holding any separator cannot run into the next
//! part. Keys are bytes; stores that need text (none so far) hex-encode them.

use std::fmt;

use smallvec::SmallVec;

/// The first byte of every key; bumped if the key encoding ever changes.
const KEY_VERSION: u8 = 1;

/// An operation's name: given with `name = "..."`, or made from where the handler is.
///
/// ```
/// use idempotent_runtime::store::Operation;
/// assert_eq!(Operation::Named("CreateRouteTable").to_string(), "CreateRouteTable");
/// let op = Operation::Path {
///     module: "ec2::vpc",
///     self_ty: None,
///     function: "create",
///     generics: None,
///     site: None,
/// };
/// assert_eq!(op.to_string(), "ec2::vpc::create");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `#[idempotent(name = "...")]`: stable while the name is kept.
    Named(&'static str),
    /// The default: the module path, the `Self` type for methods, the fn name, and what else
    /// tells this handler from another of the same name, so two handlers never share one.
    Path {
        /// `module_path!()` at the handler.
        module: &'static str,
        /// `core::any::type_name::<Self>()` for methods and associated fns.
        self_ty: Option<&'static str>,
        /// The fn's name.
        function: &'static str,
        /// The fn's own type and const arguments, for a generic fn (`scale::<3>` and
        /// `scale::<4>` are two operations).
        generics: Option<&'static str>,
        /// What holds the handler, as `core::any::type_name` spells it, when the module and
        /// `Self` do not already say it: the impl of a trait method
        /// (`<ec2::Cloud as ec2::Vpcs>`), the enclosing fn of a nested one (`ec2::outer`).
        /// `None` for a free fn in a module and an inherent method, whose keys are as the
        /// first release wrote them.
        site: Option<&'static str>,
    },
}

impl Operation {
    /// The `site` of [`Operation::Path`]: `holder` (what `type_name` says holds the handler),
    /// or `None` when the module or `Self` already names it.
    pub(crate) fn site(
        holder: &'static str,
        module: &str,
        self_ty: Option<&str>,
    ) -> Option<&'static str> {
        /// A path without its generic arguments (`m::G<u8>` -> `m::G`).
        fn unparameterized(path: &str) -> &str {
            path.split_once('<').map_or(path, |(head, _)| head)
        }
        let named_by_self = self_ty.is_some_and(|ty| {
            !holder.starts_with('<') && unparameterized(holder) == unparameterized(ty)
        });
        (holder != module && !named_by_self).then_some(holder)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(name) => f.write_str(name),
            Self::Path {
                site: Some(site),
                function,
                ..
            } => write!(f, "{site}::{function}"),
            Self::Path {
                self_ty: Some(ty),
                function,
                ..
            } => write!(f, "{ty}::{function}"),
            Self::Path {
                module, function, ..
            } => write!(f, "{module}::{function}"),
        }
    }
}

/// The key of one idempotency record: (operation, scope, token), unambiguously encoded.
///
/// ```
/// use idempotent_runtime::store::{Key, Operation};
/// let a = Key::new(Operation::Named("op"), Some(b"a|b"), "c").unwrap();
/// let b = Key::new(Operation::Named("op"), Some(b"a"), "b|c").unwrap();
/// assert_ne!(a.as_bytes(), b.as_bytes());
/// assert_eq!(a.token(), "c");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    bytes: SmallVec<[u8; 128]>,
    operation: Operation,
    token_start: usize,
}

impl Key {
    /// Builds a key, checking the token rules first.
    pub fn new(
        operation: Operation,
        scope: Option<&[u8]>,
        token: &str,
    ) -> Result<Self, crate::InvalidTokenReason> {
        Self::with_limit(operation, scope, token, crate::MAX_TOKEN_LEN)
    }

    /// Builds a key whose token may be up to `limit` characters long.
    pub(crate) fn with_limit(
        operation: Operation,
        scope: Option<&[u8]>,
        token: &str,
        limit: usize,
    ) -> Result<Self, crate::InvalidTokenReason> {
        crate::token::validate_token_up_to(token, limit)?;
        let mut bytes = SmallVec::new();
        bytes.push(KEY_VERSION);
        match operation {
            Operation::Named(name) => {
                bytes.push(b'N');
                put(&mut bytes, name.as_bytes());
            }
            Operation::Path {
                module,
                self_ty,
                function,
                generics,
                site,
            } => {
                bytes.push(b'P');
                put(&mut bytes, module.as_bytes());
                put(&mut bytes, self_ty.unwrap_or_default().as_bytes());
                put(&mut bytes, function.as_bytes());
                // Only the handlers whose names used to collide have these parts, so every
                // other key stays as the first release wrote it.
                if let Some(generics) = generics {
                    bytes.push(b'G');
                    put(&mut bytes, generics.as_bytes());
                }
                if let Some(site) = site {
                    bytes.push(b'W');
                    put(&mut bytes, site.as_bytes());
                }
            }
        }
        match scope {
            Some(scope) => {
                bytes.push(b'S');
                put(&mut bytes, scope);
            }
            None => bytes.push(b'-'),
        }
        // The token is last and validated to be at most 64 bytes: one length byte.
        bytes.push(token.len() as u8);
        let token_start = bytes.len();
        bytes.extend_from_slice(token.as_bytes());
        Ok(Self {
            bytes,
            operation,
            token_start,
        })
    }

    /// The encoded key, as a store keeps it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The operation part.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The client token part.
    pub fn token(&self) -> &str {
        // The token bytes were copied from a `&str` that passed `validate_token` (ASCII).
        std::str::from_utf8(&self.bytes[self.token_start..]).unwrap_or_default()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("operation", &self.operation.to_string())
            .field("token", &self.token())
            .finish_non_exhaustive()
    }
}

/// Writes `part` with a LEB128 length prefix.
fn put(bytes: &mut SmallVec<[u8; 128]>, part: &[u8]) {
    let mut len = part.len();
    loop {
        let low = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            bytes.push(low);
            break;
        }
        bytes.push(low | 0x80);
    }
    bytes.extend_from_slice(part);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(op: Operation, scope: Option<&[u8]>, token: &str) -> Vec<u8> {
        Key::new(op, scope, token).unwrap().as_bytes().to_vec()
    }

    #[test]
    fn separators_inside_parts_cannot_collide() {
        let named = Operation::Named;
        let pairs = [
            (
                key(named("a:b"), None, "c"),
                key(named("a"), Some(b"b"), "c"),
            ),
            (key(named("a"), Some(b""), "t"), key(named("a"), None, "t")),
            (
                key(named("op"), Some(b"x\x01t"), "u"),
                key(named("op"), Some(b"x"), "t"),
            ),
        ];
        for (left, right) in pairs {
            assert_ne!(left, right);
        }
    }

    #[test]
    fn a_named_operation_never_equals_a_path_operation() {
        let path = Operation::Path {
            module: "m",
            self_ty: None,
            function: "f",
            generics: None,
            site: None,
        };
        assert_ne!(
            key(path, None, "t"),
            key(Operation::Named("m::f"), None, "t")
        );
    }

    #[test]
    fn methods_of_two_types_get_two_keys() {
        let op = |ty| Operation::Path {
            module: "m",
            self_ty: Some(ty),
            function: "create",
            generics: None,
            site: None,
        };
        assert_ne!(key(op("m::A"), None, "t"), key(op("m::B"), None, "t"));
    }

    #[test]
    fn each_instance_of_a_generic_fn_gets_its_own_key() {
        let op = |generics| Operation::Path {
            module: "m",
            self_ty: None,
            function: "scale",
            generics,
            site: None,
        };
        let (three, four, plain) = (
            key(op(Some("fn([(); 3])")), None, "t"),
            key(op(Some("fn([(); 4])")), None, "t"),
            key(op(None), None, "t"),
        );
        assert_ne!(three, four);
        assert_ne!(three, plain);
        let expected = [
            &[1, b'P', 1][..],
            b"m",
            &[0, 5],
            b"scale",
            &[b'G', 11],
            b"fn([(); 3])",
            &[b'-', 1],
            b"t",
        ]
        .concat();
        assert_eq!(three, expected);
    }

    #[test]
    fn a_site_is_kept_only_where_module_and_self_do_not_say_it() {
        let site = Operation::site;
        assert_eq!(site("ec2::vpc", "ec2::vpc", None), None, "a free fn");
        assert_eq!(
            site("ec2::Cloud", "ec2", Some("ec2::Cloud")),
            None,
            "a method"
        );
        assert_eq!(
            site("ec2::G<_>", "ec2", Some("ec2::G<u8>")),
            None,
            "a generic type"
        );
        assert_eq!(
            site("<ec2::Cloud as ec2::Vpcs>", "ec2", Some("ec2::Cloud")),
            Some("<ec2::Cloud as ec2::Vpcs>"),
            "a trait method"
        );
        assert_eq!(
            site("ec2::outer", "ec2", None),
            Some("ec2::outer"),
            "a nested fn"
        );
    }

    #[test]
    fn a_site_makes_its_own_key_and_names_the_operation() {
        let op = |site| Operation::Path {
            module: "m",
            self_ty: Some("m::Cloud"),
            function: "create",
            generics: None,
            site,
        };
        let vpcs = op(Some("<m::Cloud as m::Vpcs>"));
        assert_eq!(vpcs.to_string(), "<m::Cloud as m::Vpcs>::create");
        assert_eq!(op(None).to_string(), "m::Cloud::create");
        let expected = [
            &[1, b'P', 1][..],
            b"m",
            &[8],
            b"m::Cloud",
            &[6],
            b"create",
            &[b'W', 21],
            b"<m::Cloud as m::Vpcs>",
            &[b'-', 1],
            b"t",
        ]
        .concat();
        assert_eq!(key(vpcs, None, "t"), expected);
        assert_ne!(key(op(None), None, "t"), expected);
    }

    /// Pins the encoding: a change orphans every durable record (bump `KEY_VERSION` instead).
    #[test]
    fn the_encoding_is_pinned() {
        let named = key(Operation::Named("CreateRouteTable"), None, "abc");
        let expected = [&[1, b'N', 16][..], b"CreateRouteTable", &[b'-', 3], b"abc"].concat();
        assert_eq!(named, expected);
        let path = Operation::Path {
            module: "ec2",
            self_ty: Some("Vpc"),
            function: "create",
            generics: None,
            site: None,
        };
        let scope = [7u8; 200];
        let expected = [
            &[1, b'P', 3][..],
            b"ec2",
            &[3],
            b"Vpc",
            &[6],
            b"create",
            // A part of 200 bytes: its length takes two LEB128 bytes, 0xc8 0x01.
            &[b'S', 0xc8, 0x01],
            &scope,
            &[1, b't'],
        ]
        .concat();
        assert_eq!(key(path, Some(&scope), "t"), expected);
    }

    fn part() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        // Few distinct bytes, lengths around the one-byte length limit: near-collisions.
        prop_oneof![
            proptest::collection::vec(prop::sample::select(vec![0u8, 1, b'-', b'S', 0x80]), 0..4),
            (126usize..131, any::<u8>()).prop_map(|(len, byte)| vec![byte % 3; len]),
        ]
    }

    proptest::proptest! {
        /// Distinct (operation, scope, token) triples never share a key.
        #[test]
        fn distinct_triples_have_distinct_keys(
            a in (0usize..3, proptest::option::of(part()), "[ab:-]{1,4}"),
            b in (0usize..3, proptest::option::of(part()), "[ab:-]{1,4}"),
        ) {
            const OPERATIONS: [&str; 3] = ["a", "a-", "S"];
            let make = |(op, scope, token): &(usize, Option<Vec<u8>>, String)| {
                key(Operation::Named(OPERATIONS[*op]), scope.as_deref(), token)
            };
            proptest::prop_assert_eq!(a == b, make(&a) == make(&b));
        }
    }

    #[test]
    fn debug_shows_the_operation_and_token_but_not_the_bytes() {
        let key = Key::new(Operation::Named("CreateRouteTable"), Some(b"tenant"), "abc").unwrap();
        assert_eq!(
            format!("{key:?}"),
            r#"Key { operation: "CreateRouteTable", token: "abc", .. }"#
        );
    }

    #[test]
    fn tokens_are_case_sensitive() {
        let op = Operation::Named("op");
        assert_ne!(key(op, None, "Token"), key(op, None, "token"));
    }
}
