//! Tools on a real database: a small CRM in SQLite, through `sqlx`, reached by the tools
//! as `pillar::State<Db>`. They read (look a customer up; search with optional filters
//! and a limit), write (add a note) and destroy with confirmation (delete a customer:
//! a confirmation card first, the deletion on the confirmed re-call).
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run --example crm
//! # in another terminal, with the `pillar` command (`cargo install --path cli`):
//! export PILLAR_SECRET=plr_local
//! pillar call search_customers --args '{"plan": "pro"}'
//! pillar call add_note --args '{"email": "sarah@acme.com", "text": "Asked about SSO"}'
//! pillar call delete_customer --args '{"email": "li@globex.com"}'
//! pillar call delete_customer --args '{"email": "li@globex.com"}' --confirm
//! ```
//!
//! The database is the file `crm-example.db` in the workspace's `target/` (set
//! `CRM_DATABASE_URL` to use another); it is created, migrated and seeded at start. The
//! queries use `sqlx::query`/`query_as` at run time, not the `query!` macros, which need a
//! database (or committed offline data) at build time. The tests at the bottom run each
//! tool on a fresh in-memory database (`cargo test -p pillar-examples --test crm`).

use std::borrow::Cow;

use pillar::{Confirmation, Reply, State, ToolContext};
use serde::{Deserialize, Serialize};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

/// The application's database, given to the tools as `State<Db>`.
#[derive(Debug, Clone)]
struct Db {
    pool: SqlitePool,
}

/// What can go wrong; the `Display` text is what the agent reads.
#[derive(Debug, thiserror::Error)]
enum CrmError {
    #[error("no customer with the email {0}")]
    NotFound(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// A customer's plan.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, pillar::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Plan {
    Free,
    Pro,
    Enterprise,
}

impl Plan {
    fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }
}

#[derive(Debug, Serialize)]
struct Customer {
    email: String,
    name: String,
    plan: String,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Note {
    email: String,
    text: String,
    notes: i64,
}

#[derive(Debug, Serialize)]
struct Deleted {
    email: String,
    deleted: bool,
}

/// The schema, applied in order by sqlx's migrator (which records what ran in
/// `_sqlx_migrations`).
fn migrator() -> Migrator {
    let migration = |version, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            false,
        )
    };
    Migrator {
        migrations: Cow::Owned(vec![
            migration(
                1,
                "customers",
                "CREATE TABLE customers (
                    email TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise'))
                )",
            ),
            migration(
                2,
                "notes",
                "CREATE TABLE notes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL REFERENCES customers(email) ON DELETE CASCADE,
                    text TEXT NOT NULL
                )",
            ),
        ]),
        ..Migrator::DEFAULT
    }
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `url`.
    async fn open(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        let options: SqliteConnectOptions = url.parse()?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options.create_if_missing(true).foreign_keys(true))
            .await?;
        migrator().run(&pool).await?;
        Ok(Self { pool })
    }

    /// Adds the demo customers, unless they are there already.
    async fn seed(&self) -> Result<(), sqlx::Error> {
        for (email, name, plan) in [
            ("sarah@acme.com", "Sarah Chen", "pro"),
            ("li@globex.com", "Li Wei", "free"),
            ("ana@initech.com", "Ana Souza", "enterprise"),
            ("tom@acme.com", "Tom Berg", "pro"),
        ] {
            sqlx::query("INSERT OR IGNORE INTO customers (email, name, plan) VALUES (?, ?, ?)")
                .bind(email)
                .bind(name)
                .bind(plan)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn customer(&self, email: &str) -> Result<Customer, CrmError> {
        let row = sqlx::query("SELECT email, name, plan FROM customers WHERE email = ?")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| CrmError::NotFound(email.to_owned()))?;
        let notes = sqlx::query_scalar("SELECT text FROM notes WHERE email = ? ORDER BY id")
            .bind(email)
            .fetch_all(&self.pool)
            .await?;
        Ok(Customer {
            email: row.get("email"),
            name: row.get("name"),
            plan: row.get("plan"),
            notes,
        })
    }
}

/// Look up a customer by email, with their notes.
#[pillar::tool(guidance = "Use when the user names a customer by email.")]
async fn lookup_customer(
    /// Email of the customer
    email: String,
    db: State<Db>,
) -> Result<Customer, CrmError> {
    db.customer(&email).await
}

/// Search customers by name or email, and by plan.
#[pillar::tool]
async fn search_customers(
    /// Part of the name or email (any customer when absent)
    query: Option<String>,
    /// Only customers on this plan
    plan: Option<Plan>,
    /// At most this many customers (default 10)
    limit: Option<u32>,
    db: State<Db>,
) -> Result<Vec<Customer>, CrmError> {
    let pattern = format!("%{}%", query.unwrap_or_default());
    let rows = sqlx::query(
        "SELECT email FROM customers
         WHERE (name LIKE ?1 OR email LIKE ?1) AND (?2 IS NULL OR plan = ?2)
         ORDER BY email LIMIT ?3",
    )
    .bind(pattern)
    .bind(plan.map(Plan::as_str))
    .bind(i64::from(limit.unwrap_or(10)))
    .fetch_all(&db.pool)
    .await?;
    let mut customers = Vec::with_capacity(rows.len());
    for row in rows {
        customers.push(db.customer(row.get("email")).await?);
    }
    Ok(customers)
}

/// Add a note to a customer.
#[pillar::tool]
async fn add_note(
    /// Email of the customer
    email: String,
    /// The note
    text: String,
    db: State<Db>,
) -> Result<Note, CrmError> {
    let inserted = sqlx::query(
        "INSERT INTO notes (email, text) SELECT email, ? FROM customers WHERE email = ?",
    )
    .bind(&text)
    .bind(&email)
    .execute(&db.pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(CrmError::NotFound(email));
    }
    let notes = sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE email = ?")
        .bind(&email)
        .fetch_one(&db.pool)
        .await?;
    Ok(Note { email, text, notes })
}

/// Delete a customer and their notes.
#[pillar::tool(guidance = "Only when the user explicitly asks. Always confirm first.")]
async fn delete_customer(
    /// Email of the customer
    email: String,
    db: State<Db>,
    ctx: &ToolContext,
) -> Result<Reply<Deleted>, CrmError> {
    if !ctx.confirmed() {
        let customer = db.customer(&email).await?;
        return Ok(Confirmation::new()
            .title("Delete customer")
            .message(format!(
                "Delete {} and their {} note(s)? This cannot be undone.",
                customer.name,
                customer.notes.len()
            ))
            .detail("Email", &customer.email)
            .detail("Plan", &customer.plan)
            .payload(serde_json::json!({ "email": customer.email }))
            .into());
    }
    // The confirmed re-call. A repeat delivery of it is answered from the SDK's record of
    // calls without running again; a second, separate confirmation finds nothing to delete.
    let deleted = sqlx::query("DELETE FROM customers WHERE email = ?")
        .bind(&email)
        .execute(&db.pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(CrmError::NotFound(email));
    }
    Ok(Reply::Done(Deleted {
        email,
        deleted: true,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("CRM_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}/../target/crm-example.db",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let db = Db::open(&url, 5).await?;
    db.seed().await?;
    println!("CRM database: {url}");
    pillar::PillarBuilder::from_env()?
        .state(db)
        .build()?
        .serve()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use pillar::protocol;
    use pillar::testing::{self, TEST_SECRET};
    use serde_json::{json, Value};

    /// A fresh, seeded in-memory database: one connection, since every connection to
    /// `sqlite::memory:` opens a database of its own.
    async fn pillar() -> pillar::Pillar {
        let db = Db::open("sqlite::memory:", 1).await.unwrap();
        db.seed().await.unwrap();
        testing::pillar().state(db).build().unwrap()
    }

    /// A signed webhook call, as Pillar Cloud sends it.
    async fn webhook(pillar: &pillar::Pillar, body: Vec<u8>) -> Value {
        let (status, answer) = pillar
            .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
            .await
            .into_parts();
        assert_eq!(status, 200);
        answer.to_value()
    }

    #[tokio::test]
    async fn lookup_reads_a_customer_and_says_when_there_is_none() {
        let pillar = pillar().await;
        let sarah = testing::call(
            &pillar,
            "lookup_customer",
            json!({"email": "sarah@acme.com"}),
        )
        .await
        .unwrap();
        assert_eq!(sarah["name"], "Sarah Chen");
        assert_eq!(sarah["plan"], "pro");
        let err = testing::call(&pillar, "lookup_customer", json!({"email": "x@y.z"}))
            .await
            .unwrap_err();
        assert_eq!(err.message(), "no customer with the email x@y.z");
        let body =
            testing::tool_call_body("lookup_customer", "tc_1", json!({"email": "li@globex.com"}));
        let answer = webhook(&pillar, body).await;
        assert_eq!(answer["result"]["name"], "Li Wei");
    }

    #[tokio::test]
    async fn search_filters_by_text_and_plan_and_honours_the_limit() {
        let pillar = pillar().await;
        let emails = |found: Value| -> Vec<String> {
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["email"].as_str().unwrap().to_owned())
                .collect()
        };
        let all = testing::call(&pillar, "search_customers", json!({}))
            .await
            .unwrap();
        assert_eq!(emails(all).len(), 4);
        let acme = testing::call(&pillar, "search_customers", json!({"query": "acme"}))
            .await
            .unwrap();
        assert_eq!(emails(acme), ["sarah@acme.com", "tom@acme.com"]);
        let pro = testing::call(
            &pillar,
            "search_customers",
            json!({"plan": "pro", "limit": 1}),
        )
        .await
        .unwrap();
        assert_eq!(emails(pro), ["sarah@acme.com"]);
        let err = testing::call(&pillar, "search_customers", json!({"plan": "gold"}))
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            r#"arguments.plan: "gold" is not one of "free", "pro", "enterprise""#
        );
    }

    #[tokio::test]
    async fn notes_are_written_and_read_back() {
        let pillar = pillar().await;
        let body = testing::tool_call_body(
            "add_note",
            "tc_n",
            json!({"email": "ana@initech.com", "text": "Renewal in May"}),
        );
        assert_eq!(webhook(&pillar, body).await["result"]["notes"], 1);
        let ana = testing::call(
            &pillar,
            "lookup_customer",
            json!({"email": "ana@initech.com"}),
        )
        .await
        .unwrap();
        assert_eq!(ana["notes"], json!(["Renewal in May"]));
        let err = testing::call(&pillar, "add_note", json!({"email": "x@y.z", "text": "t"}))
            .await
            .unwrap_err();
        assert_eq!(err.message(), "no customer with the email x@y.z");
    }

    #[tokio::test]
    async fn delete_asks_first_then_deletes_once_on_the_confirmed_call() {
        let pillar = pillar().await;
        let ask =
            testing::tool_call_body("delete_customer", "tc_d1", json!({"email": "tom@acme.com"}));
        let card = webhook(&pillar, ask).await;
        assert_eq!(card["result"]["confirmation_required"], true);
        assert_eq!(
            card["result"]["confirm_payload"],
            json!({"email": "tom@acme.com"})
        );
        // Nothing deleted yet.
        testing::call(&pillar, "lookup_customer", json!({"email": "tom@acme.com"}))
            .await
            .unwrap();

        let confirm = testing::tool_confirm_body(
            "delete_customer",
            "tc_d2",
            card["result"]["confirm_payload"].clone(),
        );
        let done = webhook(&pillar, confirm.clone()).await;
        assert_eq!(
            done["result"],
            json!({"email": "tom@acme.com", "deleted": true})
        );
        // A repeat delivery of the same confirm gets the same answer, without running again.
        assert_eq!(webhook(&pillar, confirm).await, done);
        let err = testing::call(&pillar, "lookup_customer", json!({"email": "tom@acme.com"}))
            .await
            .unwrap_err();
        assert_eq!(err.message(), "no customer with the email tom@acme.com");
    }

    #[tokio::test]
    async fn each_test_has_its_own_database() {
        let first = pillar().await;
        let second = pillar().await;
        let confirm = testing::tool_confirm_body(
            "delete_customer",
            "tc_x",
            json!({"email": "li@globex.com"}),
        );
        webhook(&first, confirm).await;
        testing::call(
            &second,
            "lookup_customer",
            json!({"email": "li@globex.com"}),
        )
        .await
        .unwrap();
    }
}
