//! Entry point: parse flags and environment, start logging, run the command.

use clap::Parser;
use terminbuch::cli::{self, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    terminbuch::telemetry::init("info,sqlx=warn,sea_orm=warn");
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
