//! Finds a `Result` hidden behind another name (`type MyResult<T> = Result<T, ApiError>`, a
//! `macro_rules!` fragment) in a return type the macro read as a plain value, where an `Err`
//! would be recorded and replayed as a success.
//!
//! The macro cannot see through an alias, so the compiler does: method resolution on a
//! `&Probe<T>` picks [`IsResult::shape`] when `T` is a `Result` (no autoref needed) and
//! [`IsPlain::shape`] otherwise (one autoref). The first answers [`ResultUnderAnotherName`], which
//! [`PlainReturnType::assert`] refuses with an error that says to mark the handler `fallible`. A generic
//! `T` is plain: the handler declared a plain value.
//!
//! Not a public API (hidden, like `__private`); public only so that the compiler's error
//! names these items by this path.

use std::marker::PhantomData;

/// A type to look at.
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// A probe of `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// The answer for a `Result`.
pub struct ResultUnderAnotherName;

/// The answer for anything else.
pub struct PlainValue;

/// Picked first, for a `Result`.
pub trait IsResult {
    /// `ResultUnderAnotherName`.
    fn shape(&self) -> ResultUnderAnotherName {
        ResultUnderAnotherName
    }
}

impl<T, E> IsResult for Probe<Result<T, E>> {}

/// Picked otherwise.
pub trait IsPlain {
    /// `PlainValue`.
    fn shape(&self) -> PlainValue {
        PlainValue
    }
}

impl<T: ?Sized> IsPlain for &Probe<T> {}

/// Shapes a handler read as plain may have.
#[diagnostic::on_unimplemented(
    message = "this return type is a `Result` under another name, so an `Err` would be recorded and replayed as a success",
    label = "a `Result` behind an alias or a macro",
    note = "add `fallible` to the attribute, as in #[idempotent(token = \"..\", fallible)], or write the return type as `Result<T, E>`"
)]
pub trait PlainReturnType {
    /// Compiles only for a plain value; called as a method of this trait, so the error names
    /// no function.
    fn assert(self)
    where
        Self: Sized,
    {
    }
}

#[diagnostic::do_not_recommend]
impl PlainReturnType for PlainValue {}

#[cfg(test)]
mod tests {
    use super::*;

    type MyResult<T> = Result<T, String>;

    // The borrow is the point: it is what the expansion writes.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn a_result_is_found_behind_an_alias_and_anything_else_is_plain() {
        assert!(matches!(
            (&Probe::<MyResult<u8>>::new()).shape(),
            ResultUnderAnotherName
        ));
        assert!(matches!((&Probe::<u8>::new()).shape(), PlainValue));
        assert!(matches!((&Probe::<Option<u8>>::new()).shape(), PlainValue));
        fn generic<T>() -> PlainValue {
            (&Probe::<T>::new()).shape()
        }
        assert!(matches!(generic::<MyResult<u8>>(), PlainValue));
    }
}
