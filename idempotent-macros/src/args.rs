//! The attribute's options, parsed into typed fields that keep their spans.

use std::time::Duration;

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Expr, Ident, LitStr, Path};

use crate::duration;
use crate::errors::Errors;

/// Every option the attribute accepts, for the "unknown option" message.
const OPTIONS: [&str; 15] = [
    "token",
    "store",
    "name",
    "scope",
    "skip",
    "ttl",
    "lease",
    "concurrent",
    "cache_errors",
    "error",
    "in_impl",
    "crate",
    "heartbeat",
    "fallible",
    "tx",
];

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
    /// The parameter holding the caller's open transaction (transactional mode).
    pub(crate) tx: Option<Set<LitStr>>,
    /// Options given with a value that was refused (and reported), so they are not also
    /// reported as missing.
    pub(crate) refused: Vec<String>,
}

impl Args {
    /// Parses the attribute's arguments, recording every mistake in `errors`.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream, errors: &mut Errors) -> Self {
        let mut args = Args::default();
        let parser = syn::meta::parser(|meta| {
            if let Err(error) = args.option(&meta, errors) {
                errors.push(error);
                args.refused.push(path_text(&meta.path));
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
            "token" => set(&mut self.token, string(meta, &key)?, span, &key, errors),
            "store" => set(&mut self.store, meta.value()?.parse()?, span, &key, errors),
            "name" => set(
                &mut self.name,
                non_empty(string(meta, &key)?)?,
                span,
                &key,
                errors,
            ),
            "scope" => set(&mut self.scope, string(meta, &key)?, span, &key, errors),
            "error" => set(&mut self.error, string(meta, &key)?, span, &key, errors),
            "skip" => set(&mut self.skip, skip_list(meta)?, span, &key, errors),
            "ttl" => set(&mut self.ttl, duration_of(meta)?, span, &key, errors),
            "lease" => set(&mut self.lease, duration_of(meta)?, span, &key, errors),
            "concurrent" => set(&mut self.wait, concurrent(meta)?, span, &key, errors),
            "cache_errors" => set(&mut self.cache_errors, flag(meta)?, span, &key, errors),
            "in_impl" => set(&mut self.in_impl, flag(meta)?, span, &key, errors),
            "crate" => set(&mut self.krate, crate_path(meta)?, span, &key, errors),
            "heartbeat" => set(&mut self.heartbeat, boolean(meta)?, span, &key, errors),
            "fallible" => set(&mut self.fallible, flag(meta)?, span, &key, errors),
            "tx" => set(&mut self.tx, string(meta, &key)?, span, &key, errors),
            _ => {
                let given = path_text(&meta.path);
                let guess = closest(&given)
                    .map(|option| format!("did you mean `{option}`? "))
                    .unwrap_or_default();
                return Err(meta.error(format!(
                    "unknown option `{given}`; {guess}the options are: {}",
                    OPTIONS.join(", ")
                )));
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
    let key = path_text(&meta.path);
    let value: Expr = meta.value()?.parse()?;
    let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(text),
        ..
    }) = &value
    else {
        let example = match &value {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(number),
                ..
            }) => format!("\"{}s\"", number.base10_digits()),
            _ => "\"30s\"".to_owned(),
        };
        return Err(syn::Error::new_spanned(
            &value,
            format!("`{key}` takes a duration string with its unit: write {key} = {example} (units: ms, s, m, h, d)"),
        ));
    };
    duration::parse(&text.value()).map_err(|message| syn::Error::new(text.span(), message))
}

/// A string option's value; anything else is refused with the string to write.
fn string(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
    let value: Expr = meta.value()?.parse()?;
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Ok(text),
        other => {
            let text = quote::quote!(#other).to_string().replace(' ', "");
            Err(syn::Error::new_spanned(
                &other,
                format!("`{key}` takes a string: write {key} = \"{text}\""),
            ))
        }
    }
}

/// The option nearest to a misspelled one, if it is near enough to be the one meant.
fn closest(given: &str) -> Option<&'static str> {
    OPTIONS
        .iter()
        .map(|option| (edit_distance(given, option), *option))
        .filter(|(distance, option)| *distance <= 2.max(option.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, option)| option)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn concurrent(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    let text = string(meta, "concurrent")?;
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
    let text = string(meta, "crate")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_names_the_option_meant() {
        assert_eq!(closest("concurent"), Some("concurrent"));
        assert_eq!(closest("tokn"), Some("token"));
        assert_eq!(closest("cache_error"), Some("cache_errors"));
        assert_eq!(closest("retries"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ttl"), 3);
    }
}
