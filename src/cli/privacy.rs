//! `terminbuch retention run`, `terminbuch backup` and `terminbuch restore`: the operator's side
//! of the deletion concept (README "Data protection").

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend};

use crate::config::Settings;
use crate::domain::ids::UnitId;
use crate::services::data_subject;
use crate::services::retention::{self, RetentionRun};
use crate::startup::Dependencies;
use crate::store::sqlite_files;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Remove the personal data of every booking past its unit's retention (the server does it daily).
    Run {
        /// Act as on this local day (YYYY-MM-DD, 1900–9999) instead of today.
        #[arg(long, value_parser = crate::cli::parse_cli_date)]
        as_of: Option<NaiveDate>,
        /// List the bookings that would be erased; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs the retention once and prints what it did (ids and counts, never personal data).
///
/// # Errors
/// Database failures.
pub async fn run_retention(settings: &Settings, deps: &Dependencies, command: RetentionCommand) -> anyhow::Result<()> {
    let RetentionCommand::Run { as_of, dry_run } = command;
    let tz = settings.time_zone;
    let today = retention::today(deps.clock.now(), tz);
    let as_of = as_of.unwrap_or(today);
    if as_of > today && !dry_run {
        bail!(
            "--as-of {as_of} lies after today ({today}): it would erase personal data that is not due yet \
             (upcoming appointments among them); only --dry-run may look ahead"
        );
    }
    let run = RetentionRun { as_of, dry_run, tz, data_dir: &settings.data_dir };
    let report = retention::run(&deps.db, &deps.clock, run).await?;
    if dry_run {
        let slugs = unit_slugs(deps).await?;
        for expired in &report.expired {
            let slug = slugs.iter().find(|(id, _)| *id == expired.unit_id).map_or("?", |(_, slug)| slug.as_str());
            println!("{}\t{slug}\t{}", expired.id, expired.reference);
        }
        eprintln!(
            "retention as of {as_of} (dry run): {} bookings would be erased, {} callback entries removed; nothing changed",
            report.expired.len(),
            report.callbacks
        );
        return Ok(());
    }
    eprintln!(
        "retention as of {as_of}: {} bookings erased ({} history entries, {} emails, {} .eml files), {} callback entries removed",
        report.erased.bookings, report.erased.history_events, report.erased.emails, report.files, report.callbacks
    );
    Ok(())
}

async fn unit_slugs(deps: &Dependencies) -> anyhow::Result<Vec<(UnitId, String)>> {
    let units = crate::services::directory::list_units(&deps.db).await?;
    Ok(units.into_iter().map(|u| (u.id, u.slug)).collect())
}

/// The file of a `sqlite:` URL, or why there is none.
fn sqlite_file(url: &str, command: &str) -> anyhow::Result<PathBuf> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        bail!(
            "`terminbuch {command}` is for SQLite; for PostgreSQL use pg_dump / pg_restore (see README, \"Backups\")"
        );
    };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        bail!("DATABASE_URL names no SQLite file");
    }
    Ok(PathBuf::from(path))
}

/// Refuses a backup of a SQLite database that does not exist yet: connecting would create it
/// empty (`mode=rwc`), and the backup would hold nothing while saying it was written (a cron job
/// started from another folder, a mistyped `DATABASE_URL`). PostgreSQL is refused by `backup`.
///
/// # Errors
/// When the file is missing.
pub fn require_existing_database(settings: &Settings, command: &str) -> anyhow::Result<()> {
    let Ok(file) = sqlite_file(&settings.database_url, command) else { return Ok(()) };
    if !file.exists() {
        if file.is_absolute() {
            bail!("no database at {} (DATABASE_URL): nothing to {command}", file.display());
        }
        bail!(
            "no database at {} (DATABASE_URL, relative to the working directory {}): nothing to {command}",
            file.display(),
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
        );
    }
    Ok(())
}

/// `path` from the root, for messages (a relative one depends on the folder a command ran in).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The lock file a server holds on a SQLite database while it runs: `<file>.lock`.
fn lock_path(db_file: &Path) -> PathBuf {
    side_file(db_file, ".lock")
}

/// The lock file every process using a SQLite database holds shared (a server and every
/// command), and `terminbuch restore` exclusively: `<file>.users.lock`.
fn users_lock_path(db_file: &Path) -> PathBuf {
    side_file(db_file, ".users.lock")
}

fn side_file(db_file: &Path, suffix: &str) -> PathBuf {
    let mut name = db_file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Another process (a server, a restore) holds the lock of the SQLite database.
#[derive(Debug, thiserror::Error)]
#[error("a terminbuch server or restore uses {database} (it holds {lock})")]
pub struct InUse {
    database: String,
    lock: String,
}

/// Another terminbuch process (a command such as `mail dispatch`, a server) has the SQLite
/// database open, or a restore is replacing it.
#[derive(Debug, thiserror::Error)]
#[error("another terminbuch process uses {database} (it holds {lock})")]
pub struct Busy {
    database: String,
    lock: String,
}

/// How a lock file is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Shared,
    Exclusive,
}

/// Opens (creating it) the lock file `path` and tries to take its lock `hold` at once:
/// `Ok(Err(()))` when another process holds it the other way.
fn try_hold(path: &Path, hold: Hold) -> anyhow::Result<Result<File, ()>> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        // The database's folder, made as the store makes it: the service's alone.
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder.create(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Owner-only: another local user who could open it could hold the lock and keep every
    // terminbuch process (or every restore) out.
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).with_context(|| format!("cannot open the lock file {}", path.display()))?;
    // One made by an earlier release with the process's umask.
    crate::privacy_fs::deny_others(path);
    let taken = match hold {
        Hold::Shared => file.try_lock_shared(),
        Hold::Exclusive => file.try_lock(),
    };
    match taken {
        Ok(()) => Ok(Ok(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(Err(())),
        Err(std::fs::TryLockError::Error(err)) => Err(err).context("cannot lock the database file"),
    }
}

/// Takes the exclusive lock on `<file>.lock` of the SQLite database `url`, held as long as the
/// returned file is open; `Ok(None)` for PostgreSQL. `Err` when another process holds it.
///
/// # Errors
/// The lock file cannot be opened, or another process holds the lock ([`InUse`]).
pub fn lock_sqlite(url: &str) -> anyhow::Result<Option<File>> {
    let Ok(db_file) = sqlite_file(url, "serve") else { return Ok(None) };
    let path = lock_path(&db_file);
    match try_hold(&path, Hold::Exclusive)? {
        Ok(file) => Ok(Some(file)),
        Err(()) => Err(InUse { database: db_file.display().to_string(), lock: path.display().to_string() }.into()),
    }
}

/// Takes the shared lock on `<file>.users.lock` of the SQLite database `url`, held as long as
/// the returned file is open (by a server and every command while it has the database open):
/// `terminbuch restore` refuses to replace the file meanwhile, and a process started while a
/// restore runs is refused. `Ok(None)` for PostgreSQL.
///
/// # Errors
/// The lock file cannot be opened, or a restore holds it ([`Busy`]).
pub fn use_sqlite(url: &str) -> anyhow::Result<Option<File>> {
    let Ok(db_file) = sqlite_file(url, "serve") else { return Ok(None) };
    let path = users_lock_path(&db_file);
    // A restore holds the lock for as long as it copies; a moment's exclusive hold (a restore
    // finding the database in use and giving up) is waited out.
    for _ in 0..20 {
        if let Ok(file) = try_hold(&path, Hold::Shared)? {
            return Ok(Some(file));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(Busy { database: db_file.display().to_string(), lock: path.display().to_string() })
        .context("`terminbuch restore` is replacing the database; try again when it is done")
}

/// Takes the exclusive lock on `<file>.users.lock`: no other process has the database open.
fn use_sqlite_alone(db_file: &Path) -> anyhow::Result<File> {
    let path = users_lock_path(db_file);
    match try_hold(&path, Hold::Exclusive)? {
        Ok(file) => Ok(file),
        Err(()) => Err(Busy { database: db_file.display().to_string(), lock: path.display().to_string() }.into()),
    }
}

/// `terminbuch backup --to FILE`: a consistent copy of the running SQLite database through
/// `VACUUM INTO` (a read transaction: bookings go on meanwhile), readable by the owner only.
///
/// # Errors
/// PostgreSQL, an existing target, database failures.
pub async fn backup(settings: &Settings, deps: &Dependencies, to: &Path) -> anyhow::Result<()> {
    sqlite_file(&settings.database_url, "backup")?;
    if deps.db.get_database_backend() != DbBackend::Sqlite {
        bail!("`terminbuch backup` is for SQLite; use pg_dump for PostgreSQL");
    }
    let target = to.to_str().context("the backup path must be UTF-8")?.replace('\'', "''");
    // The file is made empty and owner-only before a byte is copied (VACUUM INTO fills an empty
    // file): made by SQLite, it was readable by every local user until the copy was done, long
    // enough for one to open it and read the finished copy through that handle. `create_new`
    // also refuses an existing file or a symbolic link.
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        file.mode(0o600);
    }
    match file.open(to) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists already; choose a new file", to.display())
        }
        Err(err) => return Err(err).with_context(|| format!("cannot create {}", to.display())),
    }
    if let Err(err) = deps.db.execute_unprepared(&format!("VACUUM INTO '{target}'")).await {
        std::fs::remove_file(to).ok();
        return Err(err).context("VACUUM INTO");
    }
    // VACUUM INTO does not flush its file: "written" means on the disk.
    std::fs::File::open(to).and_then(|f| f.sync_all()).with_context(|| format!("cannot flush {}", to.display()))?;
    sync_folder_of(to);
    eprintln!("backup written to {}", to.display());
    Ok(())
}

/// `terminbuch restore --from FILE`: checks the backup (`PRAGMA integrity_check`) and puts it in
/// place of the SQLite database of `DATABASE_URL`, refused while a server holds its lock. The
/// erasures on request the replaced database recorded after the backup's last record are made
/// again in the restored one (the backup still holds what they erased, and the replaced
/// database held the only record of them).
///
/// # Errors
/// PostgreSQL, a server using the database, a damaged backup, file system failures.
pub async fn restore(settings: &Settings, from: &Path, without_replaced: bool) -> anyhow::Result<()> {
    let target = sqlite_file(&settings.database_url, "restore")?;
    // Whether there is a database to replace is said, not found out: a restore run from another
    // folder, or with a mistyped URL, made a new database where none was looked for, and carried
    // nothing (erasures on request since the backup came back unnoticed).
    match (target.exists(), without_replaced) {
        (false, false) => bail!(
            "no database at {} (DATABASE_URL): nothing to replace, nothing was changed. If it was lost, or moved \
             away because it could not be read, restore with --without-replaced: nothing recorded since the backup \
             can be carried over then, so make every erasure on request since the backup again by hand",
            absolute(&target).display()
        ),
        (true, true) => bail!(
            "--without-replaced is for a database that is not there, and {} is: nothing was changed (without it, \
             what it recorded since the backup is carried over)",
            absolute(&target).display()
        ),
        (false, true) => eprintln!(
            "warning: no database at {} is replaced: nothing recorded since the backup is carried over; make every \
             erasure on request since the backup again by hand",
            absolute(&target).display()
        ),
        (true, false) => {}
    }
    let _lock = lock_sqlite(&settings.database_url).context("restore refused: stop the server first")?;
    // A command with the database open (a `mail dispatch` left running, a cron job's retention
    // run, a backup) would go on writing into the replaced file's log, which is deleted below,
    // or into the new file through it.
    let _alone = use_sqlite_alone(&target).context(
        "restore refused: another terminbuch command uses the database (`mail dispatch`, a retention run, a backup); \
         stop it first",
    )?;
    // The live file itself is no backup: putting it in its own place would drop its `-wal`, which
    // may hold the last committed changes (after a crash).
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(from), std::fs::canonicalize(&target))
        && a == b
    {
        bail!("{} is the database itself, not a backup of it; nothing was changed", from.display());
    }
    check_backup(from).await?;
    // Read before anything changes: the replaced database holds the only record of them.
    let since = since_backup(&target, from).await.context(
        "the erasures on request and the audit recorded since the backup cannot be read from the database it would \
         replace; nothing was changed (to restore anyway, move that database away first, then make every erasure \
         since the backup again by hand)",
    )?;
    let mut temp = target.as_os_str().to_owned();
    temp.push(".restoring");
    let temp = PathBuf::from(temp);
    // Made owner-only before a byte is copied (`fs::copy` would take the backup's mode, perhaps
    // world-readable, while it copies): the database is the service's alone, as a new one is.
    // A copy left over from a restore that stopped is replaced, with its `-wal` and `-shm`:
    // SQLite would read a log left beside the new copy into it.
    remove_sqlite_files(&temp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut copy = options.open(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    let mut source = File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    std::io::copy(&mut source, &mut copy).with_context(|| format!("cannot copy {}", from.display()))?;
    copy.sync_all()?;
    drop(copy);
    // Brought up, carried into and made again in the copy, before it takes the database's place:
    // a failure leaves the database as it was.
    if let Err(err) = bring_up(settings, &temp, &target, from, &since).await {
        remove_sqlite_files(&temp);
        return Err(err.context("nothing was changed"));
    }
    // The `.eml` files of emails written after the backup: the restored database forgets them.
    let lost = match lost_emails(&target, &temp, &settings.data_dir).await {
        Ok(lost) => lost,
        Err(err) => {
            eprintln!(
                "warning: the .eml files of emails written after the backup could not be told apart ({err:#}); \
                 remove the files under {} whose emails the restored database does not hold by hand",
                settings.data_dir.join("mail").display()
            );
            Vec::new()
        }
    };
    // The copy must be whole in its file: a `-wal` beside it would not follow it to its new
    // name. What bringing it up and reading it left beside it (a reader of a WAL database makes
    // a `-shm`) holds nothing the copy does not.
    let [_, copy_wal, copy_shm] = sqlite_files(&temp);
    if std::fs::metadata(&copy_wal).is_ok_and(|m| m.len() > 0) {
        remove_sqlite_files(&temp);
        bail!("the restored copy's write-ahead log could not be emptied; nothing was changed");
    }
    std::fs::remove_file(copy_wal).ok();
    std::fs::remove_file(copy_shm).ok();
    let [_, wal, shm] = sqlite_files(&target);
    for side in [wal, shm] {
        match std::fs::remove_file(side) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
    }
    std::fs::rename(&temp, &target).context("cannot put the backup in place")?;
    sync_folder_of(&target);
    eprintln!("restored {} from {}", absolute(&target).display(), from.display());
    if !lost.is_empty() {
        let removed = retention::remove_eml_files(&settings.data_dir, &lost).await;
        eprintln!("removed {removed} .eml file(s) of emails written after the backup");
    }
    // The files of emails the retention run on the copy erased, now that it is the database.
    let swept = async {
        let db = crate::store::connect(&format!("sqlite://{}", target.display()), Some(1)).await?;
        let swept = retention::sweep_forgotten(&db, &settings.data_dir).await;
        db.close().await.ok();
        anyhow::Ok(swept?)
    };
    match swept.await {
        Ok(0) => {}
        Ok(removed) => eprintln!("removed {removed} .eml file(s) of emails whose data is erased"),
        Err(err) => eprintln!(
            "warning: the .eml files of erased emails were not all looked at ({err:#}); the next retention run \
             removes them"
        ),
    }
    Ok(())
}

/// `terminbuch restore --carry-from URL`: the PostgreSQL side of a restore. `pg_restore` has
/// filled `DATABASE_URL` (a new database) from a dump; `replaced` is the database it takes the
/// place of, renamed and kept until this ran. Checks that `DATABASE_URL` is this service's
/// database of this or an older release, then brings it up to this release, carries over the
/// audit records the replaced database made after the dump's last one, makes the erasures on
/// request it recorded since again, and removes the `.eml` files of emails only the replaced
/// database held. Run it once, with the server stopped, before the server starts on the restored
/// database: a restored database already written to (its audit records newer than the replaced
/// one's) is refused, as is a second run.
///
/// # Errors
/// A URL that is not PostgreSQL, the same database twice, a database that is not this service's,
/// database failures.
pub async fn carry_after_restore(settings: &Settings, replaced: &str) -> anyhow::Result<()> {
    let is_postgres = |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !is_postgres(&settings.database_url) || !is_postgres(replaced) {
        bail!(
            "`terminbuch restore --carry-from` is for PostgreSQL (DATABASE_URL and the replaced database); \
             SQLite: `terminbuch restore --from FILE`"
        );
    }
    if settings.database_url.trim_end_matches('/') == replaced.trim_end_matches('/') {
        bail!("--carry-from names DATABASE_URL itself: name the database the restore replaced; nothing was changed");
    }
    let restored = crate::store::connect(&settings.database_url, Some(2)).await.context("cannot open DATABASE_URL")?;
    let live = crate::store::connect(replaced, Some(2)).await.context("cannot open the replaced database")?;
    let done = async {
        if same_database(&restored, &live).await? {
            bail!(
                "--carry-from names the database of DATABASE_URL itself (spelled otherwise): name the database the \
                 restore replaced; nothing was changed"
            );
        }
        check_schema(&restored)
            .await
            .context("DATABASE_URL is no restored copy of this service's database; nothing was changed")?;
        check_schema(&live).await.context("the replaced database is not this service's; nothing was changed")?;
        refuse_a_used_copy(&restored, &live).await?;
        let since = recorded_since(&restored, &live).await.context(
            "the erasures on request and the audit recorded since the dump cannot be read from the replaced \
             database; nothing was changed",
        )?;
        warn_of_what_is_missing(&since);
        let source = serde_json::json!({ "dump_carried_from": crate::startup::redact(replaced) });
        carry_into(settings, &restored, &live, &since, source).await?;
        retention_after_restore(settings, &restored, &settings.data_dir).await?;
        let lost = retention::lost_in_restore(&live, &restored, &settings.data_dir).await;
        match lost {
            Ok(lost) if !lost.is_empty() => {
                let removed = retention::remove_eml_files(&settings.data_dir, &lost).await;
                eprintln!("removed {removed} .eml file(s) of emails written after the dump");
            }
            Ok(_) => {}
            Err(err) => eprintln!(
                "warning: the .eml files of emails written after the dump could not be told apart ({err}); remove \
                 the files under {} whose emails the restored database does not hold by hand",
                settings.data_dir.join("mail").display()
            ),
        }
        anyhow::Ok(())
    }
    .await;
    restored.close().await.ok();
    live.close().await.ok();
    done
}

/// Refuses a restored database with audit records of its own, made after the replaced one's
/// last: a server (or a command) ran on it before `restore --carry-from`, and its own records
/// would hide which of the replaced database's were made after the dump: the erasures on
/// request among them would silently not be made again.
async fn refuse_a_used_copy(
    restored: &sea_orm::DatabaseConnection,
    live: &sea_orm::DatabaseConnection,
) -> anyhow::Result<()> {
    let (copy, replaced) =
        (data_subject::latest_record_at(restored).await?, data_subject::latest_record_at(live).await?);
    // The dump's last record is the replaced database's too, under its id; a record of the copy's
    // own is not, and is made after the replaced one's last (within the same second, as times are
    // kept to the second). A dump so old that the replaced database's audit no longer holds its
    // last record is older than that one's newest, and passes.
    let own = match crate::store::audit::max_id(restored).await? {
        Some(id) => !crate::store::audit::same_record(restored, live, id).await?,
        None => false,
    };
    if let (true, Some(copy), Some(replaced)) = (own, copy, replaced)
        && copy >= replaced
    {
        bail!(
            "DATABASE_URL holds audit records of its own, made after the replaced database's last one ({replaced}; \
             its own newest {copy}): a server or another command ran on the restored database before `restore --carry-from`, \
             or the dump is not of the replaced database. The erasures on request and the changes of access made \
             after the dump cannot be told apart from its own records; nothing was changed. Stop the server, drop \
             DATABASE_URL's database, pg_restore the dump into a new one, and run `restore --carry-from` before the \
             server starts on it"
        );
    }
    Ok(())
}

/// Whether two PostgreSQL connections reach the same database, whatever their URLs say (host
/// names, ports, options): an advisory lock held on one is refused on the other only then (its
/// key includes the database).
async fn same_database(a: &sea_orm::DatabaseConnection, b: &sea_orm::DatabaseConnection) -> anyhow::Result<bool> {
    use sea_orm::TransactionTrait;
    const KEY: i64 = 0x7465_726d_6361_7272; // "termcarr"
    let held = a.begin().await?;
    held.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({KEY})")).await?;
    let other = b.begin().await?;
    let row = other
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock({KEY}) AS got"),
        ))
        .await?;
    let got: bool = row.map(|row| row.try_get("", "got")).transpose()?.unwrap_or(false);
    other.rollback().await?;
    held.rollback().await?;
    Ok(!got)
}

/// The `.eml` files of emails the database at `target` holds and the restored copy at `copy`
/// does not (none when there is no database at `target`).
async fn lost_emails(target: &Path, copy: &Path, data_dir: &Path) -> anyhow::Result<Vec<uuid::Uuid>> {
    if !target.is_file() {
        return Ok(Vec::new());
    }
    let open = |path: &Path| sea_orm::Database::connect(format!("sqlite://{}?mode=ro", path.display()));
    let replaced = open(target).await.context("cannot open the replaced database")?;
    let restored = open(copy).await.context("cannot open the restored copy")?;
    let lost = retention::lost_in_restore(&replaced, &restored, data_dir).await;
    replaced.close().await.ok();
    restored.close().await.ok();
    Ok(lost?)
}

/// Removes a SQLite file and its `-wal` and `-shm`, if there.
fn remove_sqlite_files(path: &Path) {
    for file in sqlite_files(path) {
        std::fs::remove_file(file).ok();
    }
}

/// What the live database recorded after its backup was taken: the erasures on request to make
/// again, and the audit records to carry over.
#[derive(Default)]
struct SinceBackup {
    erasures: data_subject::Erasures,
    /// Which of the live database's audit records are carried over.
    carry: crate::store::audit::Carry,
    /// The backup's last audit record and the live database's oldest, when the live database's
    /// audit no longer reaches back to the backup.
    gap: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
}

/// What the live database at `target` recorded after the backup `from` (nothing when there is
/// no live database).
async fn since_backup(target: &Path, from: &Path) -> anyhow::Result<SinceBackup> {
    if !target.is_file() {
        return Ok(SinceBackup::default());
    }
    let open = |path: &Path| sea_orm::Database::connect(format!("sqlite://{}?mode=ro", path.display()));
    let backup = open(from).await.context("cannot open the backup")?;
    let live = open(target).await.context("cannot open the replaced database")?;
    let found = recorded_since(&backup, &live).await;
    backup.close().await.ok();
    live.close().await.ok();
    let found = found?;
    warn_of_what_is_missing(&found);
    Ok(found)
}

/// What `live` recorded after the last audit record of `backup`.
async fn recorded_since(
    backup: &sea_orm::DatabaseConnection,
    live: &sea_orm::DatabaseConnection,
) -> Result<SinceBackup, crate::store::StoreError> {
    use crate::store::audit::{self, Carry};
    let last = data_subject::latest_record_at(backup).await?;
    // By id when the live database holds the backup's last record as it is (the backup is a
    // copy of its history); else, its history went apart (an earlier restore), by time.
    let carry = match audit::max_id(backup).await? {
        Some(id) if audit::same_record(backup, live, id).await? => Carry::AfterId(id),
        Some(_) => Carry::From(last.unwrap_or_default()),
        None => Carry::All,
    };
    let erasures = data_subject::recorded_after(live, last).await?;
    // The live database's audit is kept for TERMINBUCH_AUDIT_RETENTION_DAYS: when its oldest
    // record is younger than the backup's last, records made between (erasures among them) may
    // be gone, and those erasures cannot be made again.
    let oldest = audit::oldest_at(live).await?;
    let gap = match (last, oldest) {
        (Some(last), Some(oldest)) if oldest > last => Some((last, oldest)),
        _ => None,
    };
    Ok(SinceBackup { erasures, carry, gap })
}

fn warn_of_what_is_missing(found: &SinceBackup) {
    if let Some((last, oldest)) = found.gap {
        eprintln!(
            "warning: the backup ends {last}, but the replaced database's audit reaches back only to {oldest} \
             (TERMINBUCH_AUDIT_RETENTION_DAYS): erasures on request made between are not made again; make them again \
             by hand, or restore a younger backup"
        );
    }
    if matches!(found.carry, crate::store::audit::Carry::From(_)) {
        eprintln!(
            "note: the backup's history and the database's went apart (an earlier restore?): the audit records made \
             from the second of the backup's last one on are carried over, some of them perhaps a second time"
        );
    }
}

/// Brings the copy of the backup at `copy` up to this release, carries the audit records the
/// live database at `target` made after the backup over into it, makes the erasures on request
/// again in it and runs the retention for today on it; its write-ahead log is emptied into it and
/// closed.
async fn bring_up(
    settings: &Settings,
    copy: &Path,
    target: &Path,
    from: &Path,
    since: &SinceBackup,
) -> anyhow::Result<()> {
    let db = crate::store::connect(&format!("sqlite://{}", copy.display()), Some(1)).await?;
    let done = async {
        let source = serde_json::json!({ "backup": from.display().to_string() });
        if target.is_file() {
            let live = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", target.display()))
                .await
                .context("cannot open the replaced database")?;
            let carried = carry_into(settings, &db, &live, since, source).await;
            live.close().await.ok();
            carried?;
        } else {
            crate::startup::migrate(&db).await.context("cannot bring the restored database up to this release")?;
            record_restore(&db, serde_json::json!({ "source": source, "replaced": null })).await?;
        }
        retention_after_restore(settings, &db, &copy.with_extension("no-files")).await
    }
    .await;
    // Closed, its log is emptied into its file (checked before the copy takes the database's
    // place).
    let closed = db.close().await.context("cannot close the restored copy");
    done?;
    closed
}

/// The retention run for today on a restored database: the backup holds the personal data its
/// own runs had not erased yet, and the run records it carried over (or the backup's own) may
/// tell the server that today's run was made.
/// Its `.eml` files are looked for under `files` (a SQLite restore's copy passes a folder that
/// does not exist: the database it replaces keeps its files until the copy has taken its place).
async fn retention_after_restore(
    settings: &Settings,
    db: &sea_orm::DatabaseConnection,
    files: &Path,
) -> anyhow::Result<()> {
    let today = crate::domain::time::local_date(chrono::Utc::now(), settings.time_zone);
    let run = RetentionRun { as_of: today, dry_run: false, tz: settings.time_zone, data_dir: files };
    let report = retention::run(db, &crate::clock::Clock::System, run)
        .await
        .context("the retention run on the restored database failed")?;
    eprintln!(
        "retention as of {today} on the restored database: {} bookings erased, {} callback entries removed",
        report.erased.bookings, report.callbacks
    );
    Ok(())
}

/// Brings the restored database `db` up to this release, carries the audit records `live` (the
/// replaced database) made after the backup over into it, makes the erasures on request again in
/// it, and says what it did.
async fn carry_into(
    settings: &Settings,
    db: &sea_orm::DatabaseConnection,
    live: &sea_orm::DatabaseConnection,
    since: &SinceBackup,
    source: serde_json::Value,
) -> anyhow::Result<()> {
    crate::startup::migrate(db).await.context("cannot bring the restored database up to this release")?;
    let carried = crate::store::audit::copy_carried(live, db, since.carry)
        .await
        .context("the audit recorded after the backup could not be carried over")?;
    keep_the_shorter_retention(db, live).await?;
    let access = keep_access_taken_away(db, live).await?;
    let erasures = &since.erasures;
    let counts = if erasures.recorded > 0 {
        Some(
            data_subject::replay(db, &crate::clock::Clock::System, erasures, &settings.data_dir)
                .await
                .context("the erasures recorded after the backup could not be made again")?,
        )
    } else {
        None
    };
    eprintln!("carried {carried} audit record(s) made after the backup over");
    if let Some(counts) = counts {
        eprintln!(
            "made {} erasure(s) on request recorded after the backup again: {} booking(s), {} callback entry(ies)",
            erasures.recorded, counts.bookings, counts.callbacks
        );
    }
    if erasures.unnamed_callbacks > 0 {
        eprintln!(
            "warning: {} callback entry(ies) erased after the backup were recorded by count only (an earlier release): \
             make those erasures again by hand",
            erasures.unnamed_callbacks
        );
    }
    let detail = serde_json::json!({
        "source": source,
        "audit_records_carried": carried,
        "erasures_made_again": erasures.recorded,
        "access": access,
    });
    record_restore(db, detail).await
}

/// Records the restore in the restored database's audit, as the operator's act.
async fn record_restore(db: &sea_orm::DatabaseConnection, mut detail: serde_json::Value) -> anyhow::Result<()> {
    use crate::domain::audit::{AuditAction, AuditEntry};
    detail["by"] = serde_json::json!("operator");
    let entry = AuditEntry::system(AuditAction::DatabaseRestored).detail(detail);
    crate::services::audit::record(db, &crate::clock::Clock::System, entry)
        .await
        .context("the restore could not be recorded in the audit")?;
    Ok(())
}

/// Takes every taking away of access the replaced database `live` made after the backup over
/// into the restored database `db`, in one transaction, and says what it did.
async fn keep_access_taken_away(
    db: &sea_orm::DatabaseConnection,
    live: &sea_orm::DatabaseConnection,
) -> anyhow::Result<crate::store::restore_access::AccessCarried> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let done = crate::store::restore_access::carry_access(&txn, live, chrono::Utc::now())
        .await
        .context("the accounts cannot be compared with the replaced database's (of another release?)")?;
    txn.commit().await?;
    let logins = |list: &[String]| list.join(", ");
    if !done.deactivated.is_empty() {
        eprintln!(
            "deactivated {} person(s) again, as after the backup (their API tokens, reset links and calendar \
             subscription end with it): {}",
            done.deactivated.len(),
            logins(&done.deactivated)
        );
    }
    if !done.unknown_deactivated.is_empty() {
        eprintln!(
            "warning: deactivated {} person(s) the replaced database does not hold: {}",
            done.unknown_deactivated.len(),
            logins(&done.unknown_deactivated)
        );
    }
    if !done.admin_removed.is_empty() {
        eprintln!("took the admin role away again, as after the backup: {}", logins(&done.admin_removed));
    }
    if done.roles_removed > 0 {
        eprintln!("took {} role(s) in units away again, as after the backup", done.roles_removed);
    }
    if !done.credentials.is_empty() {
        eprintln!(
            "kept the password or second factor changed after the backup (the backup's no longer works): {}",
            logins(&done.credentials)
        );
    }
    if done.tokens_revoked > 0 {
        eprintln!("revoked {} API token(s) revoked after the backup", done.tokens_revoked);
    }
    if done.feeds_ended > 0 {
        eprintln!("ended {} calendar subscription(s) ended after the backup", done.feeds_ended);
    }
    if done.reset_links_voided > 0 {
        eprintln!("voided {} password reset link(s) used or voided after the backup", done.reset_links_voided);
    }
    if done.sessions_ended > 0 {
        eprintln!("ended the backup's {} web session(s): everyone logs in again", done.sessions_ended);
    }
    if !done.added_since.is_empty() {
        eprintln!(
            "note: {} person(s) added after the backup are not in it; add them again (terminbuch user add): {}",
            done.added_since.len(),
            logins(&done.added_since)
        );
    }
    if !done.granted_since.is_empty() {
        eprintln!(
            "note: what was granted after the backup is not restored; grant it again if still meant: {}",
            logins(&done.granted_since)
        );
    }
    Ok(done)
}

/// Gives each unit of the restored database `db` the shorter of its retention there and in the
/// replaced database `live` (before the retention run on `db`), and says which it shortened and
/// which had a longer one in `live`.
async fn keep_the_shorter_retention(
    db: &sea_orm::DatabaseConnection,
    live: &sea_orm::DatabaseConnection,
) -> anyhow::Result<()> {
    let replaced = crate::store::retention::unit_retention(live)
        .await
        .context("the units' retention cannot be read from the replaced database")?;
    let restored = crate::store::retention::unit_retention(db).await?;
    let shortened = retention::keep_the_shorter_after_restore(db, &crate::clock::Clock::System, &replaced)
        .await
        .context("the units' shorter retention could not be kept")?;
    for change in &shortened {
        eprintln!(
            "unit #{}: retention {} → {} days, as in the replaced database (it was shortened after the backup)",
            change.unit_id.get(),
            change.restored,
            change.replaced
        );
    }
    for (id, days) in restored {
        if let Some(&(_, longer)) = replaced.iter().find(|&&(unit, longer)| unit == id && longer > days) {
            eprintln!(
                "note: unit #{id} keeps the backup's retention of {days} days; the replaced database had {longer} \
                 (set it again if that was meant)"
            );
        }
    }
    Ok(())
}

async fn check_backup(from: &Path) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("{} is no file; nothing was changed", from.display());
    }
    let url = format!("sqlite://{}?mode=ro", from.display());
    let db = sea_orm::Database::connect(url)
        .await
        .map_err(|err| crate::store::StoreError::cannot_connect(&err))
        .context("cannot open the backup; nothing was changed")?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await
        .with_context(|| format!("{} is no SQLite database; nothing was changed", from.display()))?
        .context("no answer to the integrity check; nothing was changed")?;
    let verdict: String = row.try_get_by_index(0)?;
    if verdict != "ok" {
        db.close().await.ok();
        bail!("{} fails the integrity check: {verdict}; nothing was changed", from.display());
    }
    let schema = check_schema(&db).await;
    db.close().await.ok();
    schema.with_context(|| format!("{} is no backup of this service's database; nothing was changed", from.display()))
}

/// Whether a database is terminbuch's (an empty file, another program's database or one of a
/// newer release passes the integrity check too): its migrations table lists only migrations
/// this release knows (an older release's backup is brought up to date at the next start).
async fn check_schema(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    let table = match backend {
        DbBackend::Postgres => {
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name = 'seaql_migrations'"
        }
        _ => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    };
    let row = db.query_one_raw(sea_orm::Statement::from_string(backend, table)).await?;
    let found: i64 = row.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or(0);
    if found == 0 {
        bail!("it has no table seaql_migrations (an empty database or another program's)");
    }
    let rows =
        db.query_all_raw(sea_orm::Statement::from_string(backend, "SELECT version FROM seaql_migrations")).await?;
    if rows.is_empty() {
        bail!("no migration was ever applied to it");
    }
    let known: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    for row in rows {
        let version: String = row.try_get_by_index(0)?;
        if !known.contains(&version) {
            bail!("it was written by a newer release (migration {version} is unknown to this one)");
        }
    }
    Ok(())
}

/// Flushes the folder of `file` (its new entry), where the platform allows it.
fn sync_folder_of(file: &Path) {
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}
