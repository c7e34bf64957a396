//! A database of one's own per test: a SQLite file in a temp dir, or a fresh PostgreSQL schema.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// Keeps the test database alive. A SQLite file is deleted with the guard; a PostgreSQL schema
/// stays until its database is dropped (`.ci/run` runs the suite in a throw-away database):
/// dropping it here would wait for the still-running server's connections.
pub struct TestDb {
    pub conn: DatabaseConnection,
    pub url: String,
    /// The PostgreSQL schema of this test.
    schema: Option<String>,
    _sqlite_dir: Option<tempfile::TempDir>,
    /// The server's data folder (`.eml` files): one per test, removed with the guard, so that no
    /// test reads or sweeps another's files.
    data_dir: tempfile::TempDir,
}

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a data folder")
}

impl TestDb {
    /// The data folder for the server of this test.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// Picks the engine from `TEST_DATABASE_URL` (unset or `sqlite:` → SQLite file).
    pub async fn create() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Self::postgres_schema(&url).await,
            _ => Self::sqlite_file().await,
        }
    }

    async fn sqlite_file() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut db = Self::sqlite_in(dir.path()).await;
        db._sqlite_dir = Some(dir);
        db
    }

    /// A SQLite file `test.db` in `dir` (which the caller keeps and removes).
    pub async fn sqlite_in(dir: &std::path::Path) -> TestDb {
        let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
        let conn = terminbuch::store::connect(&url, None).await.expect("open the SQLite test database");
        TestDb { conn, url, schema: None, _sqlite_dir: None, data_dir: data_dir() }
    }

    async fn postgres_schema(base_url: &str) -> TestDb {
        let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(base_url).await.expect("reach PostgreSQL at TEST_DATABASE_URL");
        admin.execute_unprepared(&format!("CREATE SCHEMA \"{schema}\"")).await.expect("create the test schema");
        admin.close().await.ok();
        let conn = Self::schema_pool(base_url, &schema).await;
        TestDb { conn, url: base_url.to_owned(), schema: Some(schema), _sqlite_dir: None, data_dir: data_dir() }
    }

    async fn schema_pool(base_url: &str, schema: &str) -> DatabaseConnection {
        let mut options = ConnectOptions::new(base_url.to_owned());
        options.set_schema_search_path(schema.to_owned()).max_connections(16).min_connections(1).sqlx_logging(false);
        Database::connect(options).await.expect("connect to the test schema")
    }

    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    /// A second pool on the same database, as a second server process would have.
    pub async fn another_pool(&self) -> DatabaseConnection {
        match &self.schema {
            Some(schema) => Self::schema_pool(&self.url, schema).await,
            None => terminbuch::store::connect(&self.url, None).await.expect("open the SQLite test database again"),
        }
    }
}
