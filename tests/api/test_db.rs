//! A database of one's own per test: a SQLite file in a temp dir, or a fresh PostgreSQL schema.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// Keeps the test database alive; drops it (file or schema) at the end.
pub struct TestDb {
    pub conn: DatabaseConnection,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { base_url: String, schema: String },
}

impl TestDb {
    /// Picks the engine from `TEST_DATABASE_URL` (unset or `sqlite:` → SQLite file).
    pub async fn create() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Self::postgres_schema(&url).await,
            _ => Self::sqlite_file().await,
        }
    }

    async fn sqlite_file() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let conn = terminbuch::store::connect(&url, None).await.expect("open the SQLite test database");
        TestDb { conn, url, cleanup: Cleanup::Sqlite(dir) }
    }

    async fn postgres_schema(base_url: &str) -> TestDb {
        let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(base_url).await.expect("reach PostgreSQL at TEST_DATABASE_URL");
        admin.execute_unprepared(&format!("CREATE SCHEMA \"{schema}\"")).await.expect("create the test schema");
        admin.close().await.ok();
        let mut options = ConnectOptions::new(base_url.to_owned());
        options.set_schema_search_path(schema.clone()).max_connections(16).min_connections(1).sqlx_logging(false);
        let conn = Database::connect(options).await.expect("connect to the test schema");
        TestDb { conn, url: base_url.to_owned(), cleanup: Cleanup::Postgres { base_url: base_url.to_owned(), schema } }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { base_url, schema } = &self.cleanup {
            let (base_url, schema) = (base_url.clone(), schema.clone());
            // Dropping runs inside the test's runtime: clean up from a thread with its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async move {
                    if let Ok(admin) = Database::connect(&base_url).await {
                        let _ = admin.execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}
