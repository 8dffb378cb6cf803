//! Emits the wrapped handler: the error alias beside a free fn, the signature as written but
//! for the return type, and a body that gathers the key parts and fingerprint inputs and makes
//! one runtime call; where a companion `{fn}_with_outcome` is emitted, that call is in the
//! companion and the handler delegates to it.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::alias;
use crate::args::Args;
use crate::companion;
use crate::errors::{with_item, Errors};
use crate::fallback;
use crate::input::{
    argument_of, is_byte_sequence, last_segment, ungrouped, Handler, Output, Param,
};
use crate::operation;
use crate::validate::{self, Plan};

/// The attribute's entry point: parse, validate, expand.
pub(crate) fn idempotent(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(err) => {
            let message = format!("#[idempotent] goes on a fn with a body (free fn, method or trait-impl method): {err}");
            return with_item(syn::Error::new(err.span(), message), item);
        }
    };
    let mut errors = Errors::default();
    let args = Args::parse(args, &mut errors);
    let handler = Handler::analyse(item_fn, args.fallible.is_some(), &mut errors);
    let plan = validate::plan(&args, &handler, &mut errors);
    match (errors.finish(), plan) {
        (Ok(()), Some(plan)) => Expansion::new(&plan).emit(),
        (Err(err), _) => fallback::emit(err, &args, &handler),
        (Ok(()), None) => item,
    }
}

/// The pieces of one expansion, read from its plan.
///
/// The generated code binds no name of its own (no `let`, no closure parameter): a binding is
/// a pattern, and a pattern that meets a constant of the same name in the user's scope would
/// match it instead, whatever the hygiene. Values are passed straight into the runtime call.
struct Expansion<'a> {
    plan: &'a Plan<'a>,
    handler: &'a Handler,
    krate: &'a TokenStream,
    private: TokenStream,
}

impl<'a> Expansion<'a> {
    fn new(plan: &'a Plan<'a>) -> Self {
        Self {
            plan,
            handler: plan.handler,
            krate: &plan.krate,
            private: {
                let krate = &plan.krate;
                quote!(#krate::__private)
            },
        }
    }

    fn emit(&self) -> TokenStream {
        let ItemFn {
            attrs, vis, sig, ..
        } = &self.handler.item;
        let mut sig = sig.clone();
        let error = self.error_type();
        let ok = self.ok_type();
        let (alias, returned_error) = match &self.plan.alias {
            Some(name) => alias::declare(self.handler, name, vis, &error),
            None => (TokenStream::new(), error),
        };
        let in_impl = self.plan.in_impl;
        let private = &self.private;
        if self.plan.http {
            // An HTTP handler answers with the outcome itself: its response marks a replay.
            let outcome = quote!(#private::Outcome<#ok>);
            sig.output = wrapped_output(self.handler, &outcome, &returned_error);
            let body = self.body(true);
            return quote!(#alias #(#attrs)* #vis #sig { #body });
        }
        sig.output = wrapped_output(self.handler, &ok, &returned_error);
        if !companion::wanted(self.handler, in_impl) {
            let body = self.body(false);
            return quote!(#alias #(#attrs)* #vis #sig { #body });
        }
        let companion_sig = companion::signature(
            self.handler,
            quote!(::core::result::Result<#private::Outcome<#ok>, #returned_error>),
        );
        let (doc, delegate, lints) = (
            companion::doc(self.handler, in_impl),
            companion::delegate(self.handler, in_impl, private),
            companion::lints(self.handler),
        );
        // The handler only passes its arguments on: its patterns lose `mut` and `ref`, which
        // mean something only where the body is.
        companion::plain_patterns(&mut sig);
        let body = self.body(true);
        quote! {
            #alias
            #(#attrs)*
            #vis #sig { #delegate }
            #[doc = #doc]
            #(#lints)*
            #vis #companion_sig { #body }
        }
    }

    /// The success type: as written, or read through `HandlerResult` for an alias.
    fn ok_type(&self) -> TokenStream {
        ok_type(self.handler, self.krate)
    }

    /// The generated logic: a check of a plain output's type, then the one runtime call.
    fn body(&self, outcome: bool) -> TokenStream {
        let probe = self.plain_probe();
        let call = self.call(outcome);
        quote!(#probe #call)
    }

    /// `IdempotencyError<E>` for the handler's error type `E`.
    fn error_type(&self) -> TokenStream {
        error_type(self.handler, self.krate)
    }

    /// The store, as a reference the runtime call takes: borrowed where the body cannot move
    /// or mutate what it names, else a clone (see `store_borrow`). Spanned like the call
    /// around it, so their errors about the store are one.
    fn store(&self, span: Span) -> TokenStream {
        match self.plan.store {
            Some(expr) if self.plan.borrow_store => quote_spanned!(span=> &(#expr)),
            Some(expr) => quote_spanned!(span=> &::core::clone::Clone::clone(&(#expr))),
            None => {
                let private = &self.private;
                quote!(#private::default_store())
            }
        }
    }

    fn request(&self, outcome: bool) -> TokenStream {
        let (krate, private, plan) = (self.krate, &self.private, self.plan);
        let operation = self.operation(outcome);
        let options = self.options();
        let (token, limit) = {
            let (ident, ty) = (&plan.token.ident, &plan.token.ty);
            let token = if plan.token_is_option {
                quote_spanned!(ty.span()=> #krate::bounds::optional_token(&#ident))
            } else {
                quote_spanned!(ty.span()=> ::core::option::Option::Some(#krate::bounds::TokenText::token_text(&#ident)))
            };
            // The token's type says its longest length: 255 for an HTTP key, else 64.
            let limit = quote!({
                #[allow(unused_imports)]
                use #private::{DefaultLimit as _, HttpKeyLimit as _};
                (&#private::TokenLimit::<#ty>::new()).limit()
            });
            (token, limit)
        };
        let scope = match plan.scope {
            Some(param) => {
                let value = self.fingerprinted(param);
                quote!(::core::option::Option::Some(#private::Scope::of(#value)))
            }
            None => quote!(::core::option::Option::None),
        };
        let params = plan.fingerprinted.iter().map(|param| {
            let cfgs = &param.cfgs;
            let name = param.ident.to_string().trim_start_matches("r#").to_owned();
            let value = self.fingerprinted(param);
            quote!(#(#cfgs)* (#name, #value))
        });
        quote!(#private::Request::new(#operation, #options, #scope, #token, #limit, [#(#params),*]))
    }

    /// A parameter as `&dyn Fingerprinted`, spanned on its type so a type that is not serde
    /// is reported there: through the trait for a concrete type (the error suggests
    /// `skip`), through a bounded fn for a generic one (the error suggests the bound).
    fn fingerprinted(&self, param: &Param) -> TokenStream {
        let (krate, ident, ty) = (self.krate, &param.ident, &param.ty);
        if self.plan.is_generic(ty) {
            quote_spanned!(ty.span()=> #krate::bounds::fingerprinted(&#ident))
        } else if is_byte_sequence(ty) {
            let private = &self.private;
            quote_spanned!(ty.span()=> &#private::ByteSeq::new(&#ident) as &dyn #krate::bounds::Fingerprinted)
        } else {
            quote_spanned!(ty.span()=> &#ident as &dyn #krate::bounds::Fingerprinted)
        }
    }

    fn operation(&self, outcome: bool) -> TokenStream {
        // The fn that holds the call: the companion, if there is one (an HTTP handler
        // answers its outcome itself).
        let holder = if outcome && !self.plan.http {
            companion::name(self.handler)
        } else {
            self.handler.ident().clone()
        };
        operation::expression(
            self.handler,
            self.plan.name,
            self.plan.in_impl,
            &holder,
            &self.private,
        )
    }

    /// The options the attribute sets, over the runtime's defaults.
    fn options(&self) -> TokenStream {
        let private = &self.private;
        let settings = &self.plan.settings;
        let mut fields = Vec::new();
        if let Some(ttl) = settings.ttl_ms {
            fields.push(quote!(ttl: #private::Duration::from_millis(#ttl)));
        }
        if let Some(lease) = settings.lease_ms {
            fields.push(quote!(lease: #private::Duration::from_millis(#lease)));
        }
        if let Some(wait) = settings.wait {
            let concurrent = if wait { quote!(Wait) } else { quote!(Reject) };
            fields.push(quote!(concurrent: #private::Concurrent::#concurrent));
        }
        if let Some(heartbeat) = settings.heartbeat {
            fields.push(quote!(heartbeat: #heartbeat));
        }
        quote!({
            const OPTIONS: #private::Options = #private::Options {
                #(#fields,)*
                ..#private::Options::DEFAULT
            };
            &OPTIONS
        })
    }

    /// The codec, built from proofs that the output (and cached error) types are serde,
    /// each spanned on the user's own type.
    fn codec(&self) -> TokenStream {
        let private = &self.private;
        let output = &self.handler.output;
        let ok = self.ok_type();
        let ok_written = output.ok().unwrap_or_else(|| output.written());
        let ok_proof = self.replayable(&ok, ok_written);
        let err = match (output, self.plan.cache_errors) {
            (Output::Fallible { err: Some(err), .. }, true) => quote!(#err),
            (Output::Fallible { spelled, .. }, true) => {
                let krate = self.krate;
                quote_spanned!(spelled.span()=> <#spelled as #krate::bounds::HandlerResult>::Err)
            }
            _ => return quote!(#private::Codec::ok_only(#ok_proof)),
        };
        let err_written = match output {
            Output::Fallible { err: Some(err), .. } => err,
            _ => output.written(),
        };
        let err_proof = self.replayable(&err, err_written);
        quote!(#private::Codec::with_errors(#ok_proof, #err_proof))
    }

    /// Proof that `ty` is serde, spanned on `written` (the user's spelling of it); axum's
    /// `Json<T>` and `(StatusCode, Json<T>)` are recorded as `T` (and the status).
    fn replayable(&self, ty: &TokenStream, written: &syn::Type) -> TokenStream {
        let krate = self.krate;
        if let Some(inner) = argument_of(written, "Json") {
            return quote_spanned!(written.span()=> #krate::axum::json::<#inner>());
        }
        if let syn::Type::Tuple(pair) = ungrouped(written) {
            let mut elems = pair.elems.iter();
            if let (Some(status), Some(json), None) = (elems.next(), elems.next(), elems.next()) {
                let is_status = last_segment(status).is_some_and(|s| s.ident == "StatusCode");
                if let (true, Some(inner)) = (is_status, argument_of(json, "Json")) {
                    return quote_spanned!(written.span()=> #krate::axum::status_json::<#inner>());
                }
            }
        }
        if self.plan.is_generic(written) {
            quote_spanned!(written.span()=> #krate::bounds::replayable::<#ty>())
        } else {
            quote_spanned!(written.span()=> <#ty as #krate::bounds::Replayable>::serde())
        }
    }

    /// For a plain output, a check that it is no `Result` behind an alias or a macro.
    fn plain_probe(&self) -> TokenStream {
        let Output::Plain(ty) = &self.handler.output else {
            return TokenStream::new();
        };
        let private = &self.private;
        quote_spanned!(ty.span()=> {
            #[allow(unused_imports)]
            use #private::{IsPlain as _, IsResult as _};
            #private::PlainReturnType::assert((&#private::Probe::<#ty>::new()).shape());
        })
    }

    /// The one runtime call, with the body as a closure or an async block.
    fn call(&self, outcome: bool) -> TokenStream {
        let private = &self.private;
        let block = &self.handler.item.block;
        let codec = self.codec();
        let request = self.request(outcome);
        let body = match (self.handler.is_async(), &self.handler.output) {
            (false, Output::Plain(ty)) => quote!(#private::plain(move || -> #ty #block)),
            // Read through `HandlerResult`, spanned like every other use of it, so a type of the
            // user's own named `Result` is one error.
            (false, Output::Fallible { spelled, .. }) => {
                let krate = self.krate;
                let into = quote_spanned!(spelled.span()=> <#spelled as #krate::bounds::HandlerResult>::into_result);
                quote!(move || #into((move || -> #spelled #block)()))
            }
            (true, Output::Plain(ty)) => {
                quote!(#private::plain_async(#private::returning::<#ty, _>(async move #block)))
            }
            (true, Output::Fallible { spelled, .. }) => {
                let krate = self.krate;
                let into = quote_spanned!(spelled.span()=> <#spelled as #krate::bounds::HandlerResult>::into_result);
                quote!(async move { #into(#private::returning::<#spelled, _>(async move #block).await) })
            }
        };
        // One hygiene context for every token, so rustc can join their spans into one.
        let span = Span::mixed_site().located_at(self.plan.store_span);
        let krate = respan(self.krate, span);
        let (interface, run, awaited) = if self.handler.is_async() {
            (
                quote!(AsyncStore),
                quote!(run_async),
                quote_spanned!(span=> .await),
            )
        } else {
            (quote!(Store), quote!(run_sync), TokenStream::new())
        };
        // The store goes through its trait's own method first, spanned on the user's
        // expression: a store lacking the interface gets one error there, naming the trait
        // and no internal function.
        let store = self.store(span);
        let call = match self.plan.tx {
            // Transactional mode: the store is checked against the transaction's type instead.
            Some(tx) => {
                let (tx, tx_ty) = (&tx.ident, &tx.ty);
                let (interface, run) = if self.handler.is_async() {
                    (quote!(AsyncInTransaction), quote!(run_async_in_tx))
                } else {
                    (quote!(InTransaction), quote!(run_sync_in_tx))
                };
                let store = quote_spanned!(span=> #krate::store::#interface::<#tx_ty>::__checked_in(#store));
                // The transaction's type is given, not inferred from the store's one impl: a
                // parameter of another type is then the one error above, not a second one.
                quote_spanned!(span=> #krate::__private::#run::<_, #tx_ty, _, _>(#store, #tx, #request, #codec, #body) #awaited)
            }
            None => {
                let store = quote_spanned!(span=> #krate::#interface::__checked(#store));
                quote_spanned!(span=> #krate::__private::#run(#store, #request, #codec, #body) #awaited)
            }
        };
        if outcome {
            call
        } else {
            quote!(::core::result::Result::map(#call, #private::Outcome::into_inner))
        }
    }
}

/// `-> Result<T, E>`, located at the user's return type with the macro's own hygiene: an
/// error about it (a trait that declares the unwrapped type) points there, and rustc offers
/// no edit of the attribute as a fix.
pub(crate) fn wrapped_output(
    handler: &Handler,
    ok: &TokenStream,
    error: &TokenStream,
) -> syn::ReturnType {
    let span = match &handler.item.sig.output {
        syn::ReturnType::Type(_, ty) => Span::mixed_site().located_at(ty.span()),
        syn::ReturnType::Default => Span::mixed_site(),
    };
    syn::parse_quote_spanned!(span=> -> ::core::result::Result<#ok, #error>)
}

/// The success type: as written, or read through `HandlerResult` for an alias.
pub(crate) fn ok_type(handler: &Handler, krate: &TokenStream) -> TokenStream {
    match (&handler.output, handler.output.ok()) {
        (_, Some(ok)) => quote!(#ok),
        (Output::Fallible { spelled, .. }, None) | (Output::Plain(spelled), None) => {
            quote_spanned!(spelled.span()=> <#spelled as #krate::bounds::HandlerResult>::Ok)
        }
    }
}

/// `IdempotencyError<E>` for the handler's error type `E`.
pub(crate) fn error_type(handler: &Handler, krate: &TokenStream) -> TokenStream {
    match &handler.output {
        Output::Plain(_) => quote!(#krate::IdempotencyError),
        Output::Fallible { err: Some(err), .. } => quote!(#krate::IdempotencyError<#err>),
        Output::Fallible { spelled, .. } => {
            let err =
                quote_spanned!(spelled.span()=> <#spelled as #krate::bounds::HandlerResult>::Err);
            quote!(#krate::IdempotencyError<#err>)
        }
    }
}

/// `tokens` with every span set to `span`, so an expression built from them is reported there.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(&group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
