//! The expansion as a whole: what the generated code for the EC2 handler holds.

use quote::quote;

fn expand(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    crate::expand::idempotent(args, item).to_string()
}

fn route_table_handler() -> String {
    expand(
        quote!(token = "client_token"),
        quote! {
            pub fn create_route_table(vpc_id: String, client_token: Option<String>) -> Result<RouteTable, Ec2Error> {
                Ok(RouteTable::new(vpc_id))
            }
        },
    )
}

#[test]
fn a_free_fn_gets_its_alias_and_one_runtime_call() {
    let code = route_table_handler();
    assert!(code.contains("pub type CreateRouteTableError = :: idempotent_runtime :: IdempotencyError < Ec2Error >"), "{code}");
    assert!(
        code.contains("-> :: core :: result :: Result < RouteTable , CreateRouteTableError >"),
        "{code}"
    );
    assert_eq!(code.matches("run_sync").count(), 1, "{code}");
    assert!(
        code.contains(
            "[(\"vpc_id\" , & vpc_id as & dyn :: idempotent_runtime :: bounds :: Fingerprinted)]"
        ),
        "{code}"
    );
    assert!(code.contains("optional_token (& client_token)"), "{code}");
    assert!(
        !code.contains("let "),
        "no binding to meet a user's constant: {code}"
    );
    assert!(
        code.contains("Ok (RouteTable :: new (vpc_id))"),
        "the body is kept verbatim: {code}"
    );
}

#[test]
fn the_expansion_stays_small() {
    let code = route_table_handler();
    assert!(code.len() < 2_700, "{} bytes: {code}", code.len());
}

#[test]
fn a_free_fn_delegates_to_its_with_outcome_companion() {
    let code = route_table_handler();
    assert!(
        code.contains("pub fn create_route_table_with_outcome"),
        "{code}"
    );
    assert!(code.contains("Outcome < RouteTable >"), "{code}");
    assert!(
        code.contains("map (create_route_table_with_outcome (vpc_id , client_token)"),
        "{code}"
    );
    assert_eq!(code.matches("run_sync").count(), 1, "{code}");
}

#[test]
fn only_methods_with_a_visibility_get_a_companion() {
    let with = expand(
        quote!(token = "token", store = self.store),
        quote!(
            pub(crate) async fn create<T: Serialize>(&self, size: T, token: &str) -> u32 {
                1
            }
        ),
    );
    assert!(
        with.contains("self . create_with_outcome :: < T > (size , token) . await"),
        "{with}"
    );
    // No visibility: perhaps a trait-impl method, where an extra method would not compile.
    let without = expand(
        quote!(token = "token", store = self.store),
        quote!(
            fn create(&self, size: u32, token: &str) -> u32 {
                1
            }
        ),
    );
    assert!(!without.contains("with_outcome"), "{without}");
}

#[test]
fn methods_get_no_alias_and_name_self_in_the_operation() {
    let code = expand(
        quote!(token = "token", store = self.store),
        quote!(
            fn create(&self, size: u32, token: &str) -> Result<u32, String> {
                Ok(size)
            }
        ),
    );
    assert!(!code.contains("pub type"), "{code}");
    assert!(code.contains("type_name :: < Self >"), "{code}");
    assert!(code.contains("IdempotencyError < String >"), "{code}");
}

#[test]
fn async_handlers_await_the_one_call() {
    let code = expand(
        quote!(token = "token", concurrent = "wait", cache_errors),
        quote!(
            async fn create(size: u32, token: String) -> Result<u32, E> {
                Ok(size)
            }
        ),
    );
    assert!(code.contains("run_async"), "{code}");
    assert!(code.contains(". await"), "{code}");
    assert!(code.contains("Concurrent :: Wait"), "{code}");
    assert!(code.contains("Codec :: with_errors"), "{code}");
}

#[test]
fn a_mistake_keeps_the_item_and_adds_the_error() {
    let code = expand(
        quote!(tokn = "t"),
        quote!(
            fn f(t: String) {}
        ),
    );
    assert!(code.contains("fn f (t : String)"), "{code}");
    assert!(code.contains("compile_error"), "{code}");
}

#[test]
fn a_mistake_keeps_the_signature_and_alias_the_callers_rely_on() {
    let code = expand(
        quote!(token = "client_tokn"),
        quote!(
            pub fn create_route_table(
                vpc_id: String,
                client_token: String,
            ) -> Result<RouteTable, Ec2Error> {
                Ok(RouteTable::new(vpc_id))
            }
        ),
    );
    assert!(code.contains("compile_error"), "{code}");
    assert!(
        code.contains("pub type CreateRouteTableError = :: idempotent_runtime :: IdempotencyError < Ec2Error >"),
        "{code}"
    );
    assert!(
        code.contains("-> :: core :: result :: Result < RouteTable , CreateRouteTableError >"),
        "{code}"
    );
    assert!(
        !code.contains("RouteTable :: new"),
        "the body, which the error concerns, is not compiled: {code}"
    );
}

#[test]
fn an_impl_trait_output_keeps_the_item_as_written_beside_a_mistake() {
    let code = expand(
        quote!(tokn = "t"),
        quote!(
            fn f(t: String) -> impl Fn() {
                || ()
            }
        ),
    );
    assert!(code.contains("-> impl Fn ()"), "{code}");
    assert!(!code.contains("unreachable"), "{code}");
}

#[test]
fn an_axum_handler_answers_its_outcome_and_fingerprints_the_inner_values() {
    let code = expand(
        quote!(token = "key", store = app.store),
        quote! {
            async fn create_share(
                State(app): State<App>,
                headers: HeaderMap,
                key: IdempotencyKey,
                Json(req): Json<CreateShare>,
            ) -> (StatusCode, Json<Share>) {
                todo!()
            }
        },
    );
    println!("axum handler expansion: {} bytes", code.len());
    assert!(code.len() < 3_000, "{} bytes: {code}", code.len());
    assert!(
        code.contains("Outcome < (StatusCode , Json < Share >) >"),
        "{code}"
    );
    assert!(
        !code.contains("with_outcome"),
        "the handler is its own companion: {code}"
    );
    assert!(
        code.contains(
            "[(\"req\" , & req as & dyn :: idempotent_runtime :: bounds :: Fingerprinted)]"
        ),
        "only the Json value is fingerprinted, not State or HeaderMap: {code}"
    );
    assert!(code.contains("axum :: status_json :: < Share >"), "{code}");
}

#[test]
fn a_byte_sequence_parameter_is_handed_over_whole() {
    let code = expand(
        quote!(token = "token"),
        quote! {
            fn upload(data: &[u8], label: String, token: &str) -> usize { data.len() }
        },
    );
    assert!(
        code.contains(
            "(\"data\" , & :: idempotent_runtime :: __private :: ByteSeq :: new (& data) as & dyn"
        ),
        "{code}"
    );
    assert!(code.contains("(\"label\" , & label as & dyn"), "{code}");
}

#[test]
fn the_store_is_borrowed_only_where_the_body_cannot_move_or_mutate_it() {
    let borrowed = |sig: &str, store: &str| {
        let item: syn::ItemFn = syn::parse_str(&format!("{sig} {{}}")).expect("a fn");
        let store: syn::Expr = syn::parse_str(store).expect("an expression");
        crate::store_borrow::can_borrow(&item.sig, &store)
    };
    assert!(borrowed("fn f(&self, token: &str)", "self.store"));
    assert!(borrowed("fn f(&self, token: &str)", "&*STORE"));
    assert!(borrowed("fn f(store: &Store, token: &str)", "*store"));
    assert!(borrowed(
        "fn f(ctx: &Ctx, n: u32, token: &str)",
        "ctx.stores[0]"
    ));
    assert!(!borrowed("fn f(&mut self, token: &str)", "self.store"));
    assert!(!borrowed("fn f(self, token: &str)", "self.store"));
    assert!(!borrowed(
        "fn f(self: Arc<Self>, token: &str)",
        "self.store"
    ));
    assert!(!borrowed("fn f(ctx: Ctx, token: &str)", "ctx.store"));
    assert!(!borrowed("fn f(ctx: &mut Ctx, token: &str)", "ctx.store"));
    assert!(!borrowed(
        "fn f(Wrapper(ctx): Wrapper<Ctx>, token: &str)",
        "ctx.store"
    ));
    // Read from tokens, so a field named like a by-value parameter errs towards a clone.
    assert!(!borrowed(
        "fn f(&self, store: Pool, token: &str)",
        "self.store"
    ));
}
