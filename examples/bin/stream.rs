//! The `stream` example as a binary target too: tools that run a package's binaries
//! (`cargo lambda watch`, `cargo lambda build`) find it under its name. The code is the
//! example's, `stream/main.rs`.

#[path = "../stream/main.rs"]
mod stream;

fn main() -> Result<(), lambda_gateway::BoxError> {
    stream::main()
}
