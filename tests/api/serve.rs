//! Starting a test's server: shared by the test binaries.

use terminbuch::startup::Application;

/// Runs `app` in the background; returns its address once its first refresh of the slot horizon
/// (run at start, in the background) has finished: a test that edits slots under it would race
/// it, since it retires slots that are off their rules.
pub async fn serve(app: Application) -> String {
    let address = format!("http://{}", app.local_addr().expect("bound address"));
    let mut refreshes = app.horizon_refreshes();
    tokio::spawn(app.run_until_stopped());
    tokio::time::timeout(std::time::Duration::from_secs(60), refreshes.wait_for(|done| *done >= 1))
        .await
        .expect("the first refresh of the slot horizon within a minute")
        .expect("the server runs");
    address
}
