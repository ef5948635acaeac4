//! bms2intune: parse the command line, run it through the library, exit with its code.

use clap::Parser;

fn main() {
    let cli = match bms2intune::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                bms2intune::exit::USAGE
            } else {
                bms2intune::exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(bms2intune::cli::run(cli));
}

/// mimalloc: a million-user tenant is tens of millions of small strings; the system allocator
/// spent a third of `readiness`'s time in malloc/free (perf, docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
