//! Raw bytes as an event: `Gateway::invoke` must answer every input without a panic, and every
//! answer must pass the checks the mutation test makes (`lambda_gateway_test_support::mutation`).
//!
//! Seed the corpus from `testdata/` with `fuzz/seed.sh`.

#![no_main]

use lambda_gateway_test_support::mutation as check;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|event: &[u8]| {
    static HARNESS: OnceLock<check::Harness> = OnceLock::new();
    let harness = HARNESS.get_or_init(check::Harness::new);
    if let Err(why) = harness.check(event) {
        panic!("{why}");
    }
});
