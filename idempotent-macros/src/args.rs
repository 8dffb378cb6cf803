//! The attribute's options, parsed into typed fields that keep their spans.

use std::time::Duration;

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Expr, Ident, LitStr, Path};

use crate::duration;
use crate::errors::Errors;

/// Every option the attribute accepts, for the "unknown option" message.
const OPTIONS: &str =
    "token, store, name, scope, skip, ttl, lease, concurrent, cache_errors, error, in_impl, crate, heartbeat, fallible";

/// A value given once, with the span of the option that set it.
pub(crate) struct Set<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// The parsed `#[idempotent(...)]` options.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) token: Option<Set<LitStr>>,
    pub(crate) store: Option<Set<Expr>>,
    pub(crate) name: Option<Set<LitStr>>,
    pub(crate) scope: Option<Set<LitStr>>,
    pub(crate) skip: Option<Set<Vec<Ident>>>,
    pub(crate) ttl: Option<Set<Duration>>,
    pub(crate) lease: Option<Set<Duration>>,
    pub(crate) wait: Option<Set<bool>>,
    pub(crate) cache_errors: Option<Set<()>>,
    pub(crate) error: Option<Set<LitStr>>,
    pub(crate) in_impl: Option<Set<()>>,
    pub(crate) krate: Option<Set<Path>>,
    pub(crate) heartbeat: Option<Set<bool>>,
    /// The return type is a `Result` under another name (an alias such as `MyResult<T>`).
    pub(crate) fallible: Option<Set<()>>,
}

impl Args {
    /// Parses the attribute's arguments, recording every mistake in `errors`.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream, errors: &mut Errors) -> Self {
        let mut args = Args::default();
        let parser = syn::meta::parser(|meta| {
            if let Err(error) = args.option(&meta, errors) {
                errors.push(error);
                skip_value(&meta);
            }
            Ok(())
        });
        if let Err(error) = syn::parse::Parser::parse2(parser, tokens) {
            errors.push(error);
        }
        args
    }

    fn option(&mut self, meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<()> {
        let key = meta
            .path
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        let span = meta.path_span();
        match key.as_str() {
            "token" => set(&mut self.token, meta.value()?.parse()?, span, &key, errors),
            "store" => set(&mut self.store, meta.value()?.parse()?, span, &key, errors),
            "name" => set(
                &mut self.name,
                non_empty(meta.value()?.parse()?)?,
                span,
                &key,
                errors,
            ),
            "scope" => set(&mut self.scope, meta.value()?.parse()?, span, &key, errors),
            "error" => set(&mut self.error, meta.value()?.parse()?, span, &key, errors),
            "skip" => set(&mut self.skip, skip_list(meta)?, span, &key, errors),
            "ttl" => set(&mut self.ttl, duration_of(meta)?, span, &key, errors),
            "lease" => set(&mut self.lease, duration_of(meta)?, span, &key, errors),
            "concurrent" => set(&mut self.wait, concurrent(meta)?, span, &key, errors),
            "cache_errors" => set(&mut self.cache_errors, flag(meta)?, span, &key, errors),
            "in_impl" => set(&mut self.in_impl, flag(meta)?, span, &key, errors),
            "crate" => set(&mut self.krate, crate_path(meta)?, span, &key, errors),
            "heartbeat" => set(&mut self.heartbeat, boolean(meta)?, span, &key, errors),
            "fallible" => set(&mut self.fallible, flag(meta)?, span, &key, errors),
            _ => {
                return Err(meta.error(format!(
                    "unknown option `{}`; the options are: {OPTIONS}",
                    path_text(&meta.path)
                )))
            }
        }
        Ok(())
    }
}

trait PathSpan {
    fn path_span(&self) -> Span;
}

impl PathSpan for ParseNestedMeta<'_> {
    fn path_span(&self) -> Span {
        syn::spanned::Spanned::span(&self.path)
    }
}

/// Stores an option's value, or reports that it was given twice.
fn set<T>(slot: &mut Option<Set<T>>, value: T, span: Span, key: &str, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            span,
            format!("`{key}` is given twice; keep one"),
        ));
    } else {
        *slot = Some(Set { value, span });
    }
}

fn non_empty(name: LitStr) -> syn::Result<LitStr> {
    if name.value().trim().is_empty() {
        return Err(syn::Error::new(
            name.span(),
            "`name` must not be empty; write name = \"CreateRouteTable\"",
        ));
    }
    Ok(name)
}

fn skip_list(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<Ident>> {
    let mut names = Vec::new();
    meta.parse_nested_meta(|inner| match inner.path.get_ident() {
        Some(ident) if inner.input.is_empty() || inner.input.peek(syn::Token![,]) => {
            names.push(ident.clone());
            Ok(())
        }
        _ => Err(inner.error("`skip` takes parameter names: skip(pool, clock)")),
    })
    .map_err(|err| syn::Error::new(err.span(), format!("{err}")))?;
    Ok(names)
}

fn duration_of(meta: &ParseNestedMeta<'_>) -> syn::Result<Duration> {
    let text: LitStr = meta.value()?.parse()?;
    duration::parse(&text.value()).map_err(|message| syn::Error::new(text.span(), message))
}

fn concurrent(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    let text: LitStr = meta.value()?.parse()?;
    match text.value().as_str() {
        "reject" => Ok(false),
        "wait" => Ok(true),
        other => Err(syn::Error::new(
            text.span(),
            format!("unknown value {other:?} for `concurrent`; write concurrent = \"reject\" or concurrent = \"wait\""),
        )),
    }
}

fn boolean(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    let key = path_text(&meta.path);
    let value = meta.value().map_err(|_| {
        meta.error(format!(
            "`{key}` takes true or false; write `{key} = false` to turn it off"
        ))
    })?;
    let literal: syn::LitBool = value.parse().map_err(|err| {
        syn::Error::new(
            err.span(),
            format!("`{key}` takes true or false; write `{key} = false` to turn it off"),
        )
    })?;
    Ok(literal.value)
}

fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        return Ok(());
    }
    let key = path_text(&meta.path);
    Err(meta.error(format!(
        "`{key}` is a flag and takes no value; write just `{key}`"
    )))
}

fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let text: LitStr = meta.value()?.parse()?;
    text.parse().map_err(|_| {
        syn::Error::new(
            text.span(),
            "`crate` takes a path to the runtime: crate = \"::my_reexport::idempotent_runtime\"",
        )
    })
}

fn path_text(path: &Path) -> String {
    quote::quote!(#path).to_string().replace(' ', "")
}

/// After a bad option, consumes its value so parsing can go on to the next option.
fn skip_value(meta: &ParseNestedMeta<'_>) {
    if meta.input.peek(syn::Token![=]) {
        let _ = meta.input.parse::<syn::Token![=]>();
        let _ = meta.input.parse::<Expr>();
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.input.step(|cursor| match cursor.token_tree() {
            Some((_, rest)) => Ok(((), rest)),
            None => Ok(((), *cursor)),
        });
    }
}
