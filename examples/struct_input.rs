//! A tool whose whole input is one struct (the analogue of a zod object or a pydantic
//! model as the input), with nested types, defaults and validation in the handler.
//!
//! ```sh
//! cargo run --example struct_input
//! ```
//! prints the derived input schema and runs the tool once in process.

use pillar::testing;
use serde::Deserialize;

/// A line of an invoice.
#[derive(Debug, Deserialize, pillar::JsonSchema)]
struct Line {
    /// What was sold
    description: String,
    /// Price in cents
    amount_cents: u64,
    /// How many
    #[serde(default = "one")]
    quantity: u32,
}

fn one() -> u32 {
    1
}

/// When the invoice is due.
#[derive(Debug, Deserialize, pillar::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Terms {
    /// Due on receipt.
    DueOnReceipt,
    /// Due in 30 days.
    Net30,
}

/// The input of `create_invoice`.
#[derive(Debug, Deserialize, pillar::JsonSchema)]
struct CreateInvoice {
    /// The customer billed
    customer_email: String,
    /// At least one line
    lines: Vec<Line>,
    /// Payment terms (default: due on receipt)
    terms: Option<Terms>,
}

/// Create a draft invoice for a customer.
#[pillar::tool(output_schema)]
async fn create_invoice(#[pillar(input)] invoice: CreateInvoice) -> Result<InvoiceDraft, String> {
    if invoice.lines.is_empty() {
        return Err("an invoice needs at least one line".into());
    }
    let total_cents = invoice
        .lines
        .iter()
        .map(|l| l.amount_cents * u64::from(l.quantity))
        .sum();
    let items = invoice
        .lines
        .iter()
        .map(|l| format!("{} x {}", l.quantity, l.description))
        .collect();
    Ok(InvoiceDraft {
        customer_email: invoice.customer_email,
        items,
        total_cents,
        due: match invoice.terms.unwrap_or(Terms::DueOnReceipt) {
            Terms::DueOnReceipt => "on receipt".into(),
            Terms::Net30 => "in 30 days".into(),
        },
    })
}

/// The created draft.
#[derive(Debug, serde::Serialize, pillar::JsonSchema)]
struct InvoiceDraft {
    customer_email: String,
    /// One entry per line: quantity and description
    items: Vec<String>,
    total_cents: u64,
    due: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pillar = testing::pillar().build()?;
    let info = &pillar.tools()[0];
    println!(
        "inputSchema of {}:\n{}",
        info.name,
        serde_json::to_string_pretty(&info.input_schema)?
    );
    let result = testing::call(
        &pillar,
        "create_invoice",
        serde_json::json!({
            "customer_email": "sarah@acme.com",
            "lines": [{"description": "Pro plan", "amount_cents": 4900}, {"description": "Seats", "amount_cents": 1000, "quantity": 3}],
            "terms": "net30"
        }),
    )
    .await?;
    println!("result: {result}");
    Ok(())
}
