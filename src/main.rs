//! Entry point: parse flags and environment, start logging, run the command.

use terminbuch::cli::{self, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse_or_exit();
    if let Err(err) = terminbuch::telemetry::init("info,sqlx=warn,sea_orm=warn", cli.settings.log_format) {
        eprintln!("error: {err}");
        return std::process::ExitCode::from(2);
    }
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
