//! The `echo` example as a binary target too: tools that run a package's binaries
//! (`cargo lambda watch`, `cargo lambda build`) find it under its name. The code is the
//! example's, `echo/main.rs`.

#[path = "../echo/main.rs"]
mod echo;

fn main() -> Result<(), lambda_gateway::BoxError> {
    echo::main()
}
