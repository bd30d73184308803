//! Two `#[pillar::tool]`s with one name: building a `Pillar` fails and names both places.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(unreachable_pub)]

mod billing {
    /// Refund an order.
    #[pillar::tool(name = "refund")]
    pub async fn refund(order_id: String) -> Result<String, String> {
        Ok(order_id)
    }
}

mod support {
    /// Refund an order, again.
    #[pillar::tool(name = "refund")]
    pub async fn refund_again(order_id: String) -> Result<String, String> {
        Ok(order_id)
    }
}

/// The line of the first source line containing `needle`.
fn line_of(needle: &str) -> usize {
    include_str!("duplicates.rs")
        .lines()
        .position(|line| line.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn duplicate_names_are_an_error_naming_both() {
    let err = pillar::testing::pillar().build().unwrap_err().to_string();
    let expected = format!(
        "two tools are named `refund`: one at tests/duplicates.rs:{}, one at tests/duplicates.rs:{}; tool names must be unique",
        line_of("pub async fn refund("),
        line_of("pub async fn refund_again("),
    );
    assert_eq!(err, expected);
    // Without the registered tools the same program builds.
    assert!(pillar::testing::pillar()
        .registered_tools(false)
        .build()
        .is_ok());
    let _ = (billing::refund, support::refund_again);
}
