//! The `payhost` command: run payments through connectors and inspect them.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
