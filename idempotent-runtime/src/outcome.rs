//! `Outcome<T>`: a handler's value together with whether it was replayed.

/// A result together with whether it was replayed from the store (Stripe's
/// `Idempotent-Replayed`) or produced by running the handler now.
///
/// ```
/// use idempotent_runtime::Outcome;
/// let outcome = Outcome::replayed_value(7);
/// assert!(outcome.replayed());
/// assert_eq!(outcome.into_inner(), 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<T> {
    value: T,
    replayed: bool,
}

impl<T> Outcome<T> {
    /// A value the handler produced in this call.
    pub fn fresh(value: T) -> Self {
        Self {
            value,
            replayed: false,
        }
    }

    /// A value replayed from an earlier call's record.
    pub fn replayed_value(value: T) -> Self {
        Self {
            value,
            replayed: true,
        }
    }

    /// Whether the value was replayed rather than produced now.
    pub fn replayed(&self) -> bool {
        self.replayed
    }

    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Takes the value.
    pub fn into_inner(self) -> T {
        self.value
    }
}
