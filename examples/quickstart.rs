//! The quickstart: three tools and the one-line server.
//!
//! Run it locally, with no Pillar account (any non-empty secret will do):
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run --example quickstart
//! ```
//!
//! It listens on `0.0.0.0:8787` (set `PILLAR_ADDR` or `PORT` to change it) and answers
//! Pillar's webhook on `/` and `/pillar`:
//!
//! ```text
//! curl localhost:8787/healthz
//! curl -X POST localhost:8787/pillar -d '{"action":"ping"}'
//! ```
//!
//! Tool calls must be signed with the secret; the `pillar` command (`cargo install --path
//! cli`, or `cargo install pillar-ai-server-cli`) signs and sends one, as Pillar Cloud
//! would:
//!
//! ```text
//! export PILLAR_SECRET=plr_local
//! pillar call lookup_customer --args '{"email": "sarah@acme.com"}'
//! pillar call upgrade_plan --args '{"email": "li@globex.com", "plan": "pro"}' --confirm
//! ```
//!
//! The same tools over MCP: `PILLAR_MCP=1 PILLAR_MCP_TOKEN=...` serves them at `/mcp`
//! (Streamable HTTP) beside the webhook, and `quickstart --stdio` to a desktop client.
//!
//! Without `PILLAR_ENDPOINT_URL` the server says in its log that it does not register the
//! tools with Pillar Cloud; set it to this server's public webhook URL (and
//! `PILLAR_SECRET` to the secret from the dashboard) to go live.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use pillar::{Confirmation, Reply, ToolContext};
use serde::{Deserialize, Serialize};

/// A subscription plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, pillar::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum PlanId {
    Free,
    Pro,
    Enterprise,
}

#[derive(Debug, Clone, Serialize)]
struct Customer {
    email: String,
    name: String,
    company: String,
    plan: PlanId,
}

#[derive(Debug, Serialize)]
struct Plan {
    id: PlanId,
    name: &'static str,
    monthly_usd: u32,
    seats: Option<u32>,
}

#[derive(Debug, Serialize)]
struct Upgraded {
    email: String,
    from: PlanId,
    to: PlanId,
}

#[derive(Debug, thiserror::Error)]
enum CustomerError {
    #[error(
        "no customer has the email {0}; check the spelling or ask the user for another address"
    )]
    NotFound(String),
    #[error("{email} is already on the {plan:?} plan")]
    AlreadyOnPlan { email: String, plan: PlanId },
    #[error("the customer store is unavailable")]
    Unavailable,
}

/// The "database": an in-memory map, seeded with two customers.
static CUSTOMERS: LazyLock<Mutex<BTreeMap<String, Customer>>> = LazyLock::new(|| {
    let seed = [
        ("sarah@acme.com", "Sarah Connor", "Acme", PlanId::Pro),
        ("li@globex.com", "Li Wei", "Globex", PlanId::Free),
    ];
    Mutex::new(
        seed.into_iter()
            .map(|(email, name, company, plan)| {
                let customer = Customer {
                    email: email.to_owned(),
                    name: name.to_owned(),
                    company: company.to_owned(),
                    plan,
                };
                (email.to_owned(), customer)
            })
            .collect(),
    )
});

fn find(email: &str) -> Result<Customer, CustomerError> {
    let customers = CUSTOMERS.lock().map_err(|_| CustomerError::Unavailable)?;
    customers
        .get(&email.trim().to_lowercase())
        .cloned()
        .ok_or_else(|| CustomerError::NotFound(email.to_owned()))
}

/// Look up a customer by email: name, company and current plan.
#[pillar::tool]
async fn lookup_customer(
    /// The customer's email address
    email: String,
) -> Result<Customer, CustomerError> {
    find(&email)
}

/// List the plans a customer can be on, with their monthly price.
#[pillar::tool]
async fn list_plans() -> Vec<Plan> {
    vec![
        Plan {
            id: PlanId::Free,
            name: "Free",
            monthly_usd: 0,
            seats: Some(1),
        },
        Plan {
            id: PlanId::Pro,
            name: "Pro",
            monthly_usd: 49,
            seats: Some(10),
        },
        Plan {
            id: PlanId::Enterprise,
            name: "Enterprise",
            monthly_usd: 499,
            seats: None,
        },
    ]
}

/// Move a customer to another plan. Asks the user to confirm first.
#[pillar::tool(guidance = "Only when the user asks to change a plan; quote the new price.")]
async fn upgrade_plan(
    /// The customer's email address
    email: String,
    /// The plan to move to
    plan: PlanId,
    ctx: &ToolContext,
) -> Result<Reply<Upgraded>, CustomerError> {
    let customer = find(&email)?;
    if !ctx.confirmed() {
        if customer.plan == plan {
            return Err(CustomerError::AlreadyOnPlan {
                email: customer.email,
                plan,
            });
        }
        // Pillar shows this card; on "Confirm" the tool is called again with the same
        // arguments and `ctx.confirmed() == true`.
        return Ok(Confirmation::new()
            .title("Change plan")
            .message(format!(
                "Move {} ({}) to the {plan:?} plan?",
                customer.name, customer.company
            ))
            .detail("Customer", &customer.email)
            .detail("From", format!("{:?}", customer.plan))
            .detail("To", format!("{plan:?}"))
            .into());
    }
    let mut customers = CUSTOMERS.lock().map_err(|_| CustomerError::Unavailable)?;
    let stored = customers
        .get_mut(&customer.email)
        .ok_or_else(|| CustomerError::NotFound(email.clone()))?;
    // Setting the plan is idempotent: a confirmation delivered twice changes it once.
    let from = std::mem::replace(&mut stored.plan, plan);
    Ok(Reply::Done(Upgraded {
        email: customer.email,
        from,
        to: plan,
    }))
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    // `--stdio`: the same tools to a desktop MCP client, over stdin and stdout (no
    // `PILLAR_SECRET`, nothing registered with Pillar Cloud, logs on stderr).
    if std::env::args().nth(1).as_deref() == Some("--stdio") {
        return pillar::mcp::serve_stdio().await;
    }
    // No subscriber of our own: `serve()` prints its logs (RUST_LOG-filtered) by default.
    // With `PILLAR_MCP=1` it also answers MCP clients at `/mcp`.
    pillar::serve().await
}
