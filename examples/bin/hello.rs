//! The `hello` example as a binary target too: tools that run a package's binaries
//! (`cargo lambda watch`, `cargo lambda build`) find it under its name. The code is the
//! example's, `hello/main.rs`.

#[path = "../hello/main.rs"]
mod hello;

fn main() -> Result<(), lambda_gateway::BoxError> {
    hello::main()
}
