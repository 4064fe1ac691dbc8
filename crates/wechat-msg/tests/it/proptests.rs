//! Random requests never panic and never get a 5xx.

use std::sync::OnceLock;

use http::Method;
use proptest::prelude::*;
use wechat_msg::{Callback, Mode, handler_fn};
use wechat_types::xml::{Message, Reply};

use crate::support::{Seal, config, push, text_xml};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn callbacks() -> &'static [Callback] {
    static CALLBACKS: OnceLock<Vec<Callback>> = OnceLock::new();
    CALLBACKS.get_or_init(|| {
        [Mode::Auto, Mode::Plaintext, Mode::Compat, Mode::Safe]
            .into_iter()
            .map(|mode| {
                Callback::new(
                    config(mode),
                    handler_fn(|msg: Message| async move {
                        Some(Reply::text(msg.body.msg_type().to_owned()))
                    }),
                )
                .unwrap()
            })
            .collect()
    })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::HEAD)
    ]
}

/// Checks one request against every mode.
fn check(method: &Method, query: Option<&str>, body: &[u8]) -> Result<(), TestCaseError> {
    for callback in callbacks() {
        let response = runtime().block_on(callback.respond(method, query, body));
        let status = response.status();
        prop_assert!(status.is_success() || status.is_client_error(), "{status}");
        if status.is_client_error() {
            let text = std::str::from_utf8(response.body()).unwrap();
            prop_assert!(!text.is_empty() && !text.contains('\n'));
        }
    }
    Ok(())
}

/// Replaces bytes of `data` at positions from `edits`.
fn mutate(mut data: Vec<u8>, edits: &[(usize, u8)]) -> Vec<u8> {
    if data.is_empty() {
        return data;
    }
    for &(at, byte) in edits {
        let at = at % data.len();
        data[at] = byte;
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_requests(
        method in method(),
        query in proptest::option::of(".{0,200}"),
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        check(&method, query.as_deref(), &body)?;
    }

    #[test]
    fn random_bodies_behind_a_good_signature(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        text in "[ -~]{0,300}",
    ) {
        // The signature holds, so the body reaches the parsers in every mode.
        let signed = push(Seal::Plain, "", "n");
        check(&Method::POST, Some(&signed.query), &body)?;
        check(&Method::POST, Some(&signed.query), text.as_bytes())?;
        let encrypted = format!("{}&encrypt_type=aes&msg_signature=00", signed.query);
        check(&Method::POST, Some(&encrypted), &body)?;
    }

    #[test]
    fn mutated_pushes_in_every_seal(
        seal in prop_oneof![Just(Seal::Plain), Just(Seal::Compat), Just(Seal::Safe)],
        content in ".{0,100}",
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        query_edits in proptest::collection::vec((any::<usize>(), 32u8..127), 0..3),
        msg_id in any::<u64>(),
    ) {
        let good = push(seal, &text_xml(&content, msg_id), "nonce");
        let body = mutate(good.body, &edits);
        let query = String::from_utf8(mutate(good.query.into_bytes(), &query_edits)).unwrap();
        check(&Method::POST, Some(&query), &body)?;
    }
}
