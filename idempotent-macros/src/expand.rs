//! Emits the wrapped handler: the error alias beside a free fn, the signature as written but
//! for the return type, and a body that gathers the key parts and fingerprint inputs and makes
//! one runtime call; where a companion `{fn}_with_outcome` is emitted, that call is in the
//! companion and the handler delegates to it.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn};

use crate::alias;
use crate::args::Args;
use crate::companion;
use crate::crate_path::runtime_path;
use crate::errors::{with_item, Errors};
use crate::input::{Handler, Output};
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
        (Ok(()), Some(plan)) => Expansion::new(&args, &handler).emit(&plan),
        (Err(err), _) => with_item(err, item),
        (Ok(()), None) => item,
    }
}

/// Names and paths shared by the pieces of one expansion.
struct Expansion<'a> {
    args: &'a Args,
    handler: &'a Handler,
    krate: TokenStream,
    private: TokenStream,
    store: Ident,
    /// Where the user wrote the store expression (the attribute, if it has none).
    store_span: Span,
    request: Ident,
    fingerprinter: Ident,
}

impl<'a> Expansion<'a> {
    fn new(args: &'a Args, handler: &'a Handler) -> Self {
        let krate = runtime_path(args.krate.as_ref().map(|set| &set.value));
        let local = |name| format_ident!("__idempotent_{}", name, span = Span::mixed_site());
        // The store is named where the user wrote it, so a store lacking the interface the
        // handler needs is reported on the user's expression.
        let store_span = args
            .store
            .as_ref()
            .map_or_else(Span::call_site, |set| set.value.span());
        Self {
            args,
            handler,
            private: quote!(#krate::__private),
            krate,
            store: format_ident!(
                "__idempotent_store",
                span = Span::mixed_site().located_at(store_span)
            ),
            store_span,
            request: local("request"),
            fingerprinter: local("fingerprint"),
        }
    }

    fn emit(&self, plan: &Plan<'_>) -> TokenStream {
        let ItemFn {
            attrs, vis, sig, ..
        } = &self.handler.item;
        let mut sig = sig.clone();
        let error = self.error_type();
        let ok = self.ok_type();
        let (alias, returned_error) = match &plan.alias {
            Some(name) => alias::declare(self.handler, name, vis, &error),
            None => (TokenStream::new(), error),
        };
        sig.output = syn::parse_quote!(-> ::core::result::Result<#ok, #returned_error>);
        let in_impl = self.handler.has_receiver || self.args.in_impl.is_some();
        if !companion::wanted(self.handler, in_impl) {
            let body = self.body(plan, false);
            return quote!(#alias #(#attrs)* #vis #sig { #body });
        }
        let private = &self.private;
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
        let body = self.body(plan, true);
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
        match (&self.handler.output, self.handler.output.ok()) {
            (_, Some(ok)) => quote!(#ok),
            (Output::Fallible { spelled, .. }, None) | (Output::Plain(spelled), None) => {
                let private = &self.private;
                quote_spanned!(spelled.span()=> <#spelled as #private::HandlerResult>::Ok)
            }
        }
    }

    /// The generated logic: take the store, prepare the request, make the one runtime call.
    fn body(&self, plan: &Plan<'_>, outcome: bool) -> TokenStream {
        let (store, request, call) = (
            self.store_init(),
            self.request_init(plan, outcome),
            self.call(outcome),
        );
        let probe = self.plain_probe();
        quote!(#probe #store #request #call)
    }

    /// `IdempotencyError<E>` for the handler's error type `E`.
    fn error_type(&self) -> TokenStream {
        let (krate, private) = (&self.krate, &self.private);
        match &self.handler.output {
            Output::Plain(_) => quote!(#krate::IdempotencyError),
            Output::Fallible { err: Some(err), .. } => quote!(#krate::IdempotencyError<#err>),
            Output::Fallible { spelled, .. } => {
                quote!(#krate::IdempotencyError<<#spelled as #private::HandlerResult>::Err>)
            }
        }
    }

    fn store_init(&self) -> TokenStream {
        let (private, store) = (&self.private, &self.store);
        match &self.args.store {
            Some(expr) => {
                let expr = &expr.value;
                quote_spanned!(expr.span()=> let #store = ::core::clone::Clone::clone(&(#expr));)
            }
            None => quote!(let #store = #private::default_store();),
        }
    }

    fn request_init(&self, plan: &Plan<'_>, outcome: bool) -> TokenStream {
        let (private, request, fp) = (&self.private, &self.request, &self.fingerprinter);
        let operation = self.operation(outcome);
        let options = self.options();
        let token = {
            let (ident, ty) = (&plan.token.ident, &plan.token.ty);
            let helper = if plan.token_is_option {
                quote!(token_opt)
            } else {
                quote!(token)
            };
            quote_spanned!(ty.span()=> #private::#helper(&#ident))
        };
        let scope = match plan.scope {
            Some(param) => {
                let (ident, ty) = (&param.ident, &param.ty);
                quote_spanned!(ty.span()=> ::core::option::Option::Some(&#private::Scope::of(&#ident)))
            }
            None => quote!(::core::option::Option::None),
        };
        let params = plan.fingerprinted.iter().map(|param| {
            let (ident, ty, cfgs) = (&param.ident, &param.ty, &param.cfgs);
            let name = ident.to_string().trim_start_matches("r#").to_owned();
            quote_spanned!(ty.span()=> #(#cfgs)* #fp.param(#name, &#ident);)
        });
        quote! {
            let #request = #private::Request::new(#operation, #options, #scope, #token, |#fp: &mut #private::Fingerprinter| {
                #(#params)*
            });
        }
    }

    fn operation(&self, outcome: bool) -> TokenStream {
        let in_impl = self.handler.has_receiver || self.args.in_impl.is_some();
        // The fn that holds the call: the companion, if there is one.
        let holder = if outcome {
            companion::name(self.handler)
        } else {
            self.handler.ident().clone()
        };
        operation::expression(
            self.handler,
            self.args.name.as_ref().map(|set| &set.value),
            in_impl,
            &holder,
            &self.private,
        )
    }

    /// The options the attribute sets, over the runtime's defaults.
    fn options(&self) -> TokenStream {
        let private = &self.private;
        let millis = |set: &crate::args::Set<std::time::Duration>| {
            u64::try_from(set.value.as_millis()).unwrap_or(u64::MAX)
        };
        let mut fields = Vec::new();
        if let Some(ttl) = &self.args.ttl {
            let ttl = millis(ttl);
            fields.push(quote!(ttl: #private::Duration::from_millis(#ttl)));
        }
        if let Some(lease) = &self.args.lease {
            let lease = millis(lease);
            fields.push(quote!(lease: #private::Duration::from_millis(#lease)));
        }
        if let Some(wait) = &self.args.wait {
            let concurrent = if wait.value {
                quote!(Wait)
            } else {
                quote!(Reject)
            };
            fields.push(quote!(concurrent: #private::Concurrent::#concurrent));
        }
        if let Some(heartbeat) = &self.args.heartbeat {
            let heartbeat = heartbeat.value;
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
        let ok = self.ok_type();
        let ok_span = match (&self.handler.output, self.handler.output.ok()) {
            (_, Some(ok)) => ok.span(),
            (Output::Fallible { spelled, .. } | Output::Plain(spelled), None) => spelled.span(),
        };
        let ok_proof = quote_spanned!(ok_span=> #private::serde::<#ok>());
        let err_ty = match (&self.handler.output, &self.args.cache_errors) {
            (Output::Fallible { err: Some(err), .. }, Some(_)) => quote_spanned!(err.span()=> #err),
            (Output::Fallible { spelled, .. }, Some(_)) => {
                quote_spanned!(spelled.span()=> <#spelled as #private::HandlerResult>::Err)
            }
            _ => return quote!(#private::Codec::ok_only(#ok_proof)),
        };
        let span = match &self.handler.output {
            Output::Fallible { err: Some(err), .. } => err.span(),
            Output::Fallible { spelled, .. } | Output::Plain(spelled) => spelled.span(),
        };
        let err_proof = quote_spanned!(span=> #private::serde::<#err_ty>());
        quote!(#private::Codec::with_errors(#ok_proof, #err_proof))
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
        let (private, store, request) = (&self.private, &self.store, &self.request);
        let block = &self.handler.item.block;
        let codec = self.codec();
        let body = match (self.handler.is_async(), &self.handler.output) {
            (false, Output::Plain(ty)) => quote!(#private::plain(move || -> #ty #block)),
            (false, Output::Fallible { spelled, .. }) => quote!(move || -> #spelled #block),
            (true, Output::Plain(ty)) => {
                quote!(#private::plain_async(#private::returning::<#ty, _>(async move #block)))
            }
            (true, Output::Fallible { spelled, .. }) => {
                quote!(#private::returning::<#spelled, _>(async move #block))
            }
        };
        // One hygiene context for every token, so rustc can join their spans into one.
        let span = Span::mixed_site().located_at(self.store_span);
        let krate = respan(&self.krate, span);
        let (interface, run, awaited) = if self.handler.is_async() {
            (
                quote!(AsyncStore),
                quote!(run_async),
                quote_spanned!(span=> .await),
            )
        } else {
            (quote!(Store), quote!(run_sync), TokenStream::new())
        };
        let store = quote_spanned!(span=> &#store);
        // Everything that needs the store's interface is spanned on the store expression, and
        // the trait's own method is called first: a store lacking the interface gets one
        // error, on the user's expression, naming the trait and no internal function.
        let check = quote_spanned!(span=> #krate::#interface::in_process(#store););
        let call = quote_spanned!(span=> #krate::__private::#run(#store, #request, #codec, #body) #awaited);
        if outcome {
            quote!(#check #call)
        } else {
            quote!(#check ::core::result::Result::map(#call, #private::Outcome::into_inner))
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
