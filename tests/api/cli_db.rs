//! A database of its own for a test that runs the `terminbuch` binary, on the engine under test:
//! a SQLite file in a temp dir by default, a fresh PostgreSQL database (created here, dropped with
//! the guard) when `TEST_DATABASE_URL` is set. The binary takes only `DATABASE_URL`, so a schema
//! of the shared test database (as `TestDb` gives the in-process server) would not do.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value};

pub struct CliDb {
    /// What `DATABASE_URL` is set to.
    pub url: String,
    /// A folder of the test's own (the SQLite file lives here; also for data folders).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database made for this test: (a URL to reach the server, its name).
    postgres: Option<(String, String)>,
}

/// Runs `work` to its end on a runtime of its own, in a thread of its own, so that the sync
/// tests and a guard dropped inside an async test can both use it.
fn block_on<T: Send + 'static>(work: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(work)
    })
    .join()
    .expect("the database work ends")
}

impl CliDb {
    /// On the engine `TEST_DATABASE_URL` names (unset or `sqlite:` → a SQLite file).
    pub fn create() -> CliDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let name = format!("tb_cli_{}", uuid::Uuid::new_v4().simple());
                let statement = format!("CREATE DATABASE \"{name}\"");
                let server = base.clone();
                block_on(async move {
                    let admin = Database::connect(&server).await.expect("reach PostgreSQL at TEST_DATABASE_URL");
                    admin.execute_unprepared(&statement).await.expect("create the test's database");
                    admin.close().await.ok();
                });
                let url = with_database(&base, &name);
                CliDb { url, dir, postgres: Some((base, name)) }
            }
            _ => Self::sqlite_in(dir),
        }
    }

    fn sqlite_in(dir: tempfile::TempDir) -> CliDb {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
        CliDb { url, dir, postgres: None }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The one number `sql` selects, with `?` as the placeholder of `values` on either engine.
    pub fn count(&self, sql: &str, values: Vec<Value>) -> i64 {
        let url = self.url.clone();
        let (backend, sql) = match self.is_postgres() {
            true => (DbBackend::Postgres, numbered_placeholders(sql)),
            false => (DbBackend::Sqlite, sql.to_owned()),
        };
        block_on(async move {
            let db = Database::connect(&url).await.expect("open the test's database");
            let row = db
                .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
                .await
                .expect("the count")
                .expect("a row");
            let count = row.try_get_by_index::<i64>(0).expect("a number");
            db.close().await.ok();
            count
        })
    }
}

impl Drop for CliDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            // FORCE: a server the test started may still be closing its connections.
            let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            block_on(async move {
                if let Ok(admin) = Database::connect(&server).await {
                    admin.execute_unprepared(&statement).await.ok();
                    admin.close().await.ok();
                }
            });
        }
    }
}

/// `base` with its database (the last path segment) replaced by `name`, its query kept.
fn with_database(base: &str, name: &str) -> String {
    let (address, query) = base.split_once('?').map_or((base, None), |(a, q)| (a, Some(q)));
    let authority_end = address.find("://").map_or(0, |i| i + 3);
    let server = match address[authority_end..].find('/') {
        Some(slash) => &address[..authority_end + slash],
        None => address,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, … (the tests' SQL holds no `?` otherwise).
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_test_database_url_keeps_its_server_and_query() {
    assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/ci_1", "x"), "postgres://postgres@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://h:5432/db?sslmode=disable", "x"), "postgres://h:5432/x?sslmode=disable");
    assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    assert_eq!(numbered_placeholders("a = ? AND b >= ?"), "a = $1 AND b >= $2");
}
