//! A server for the browser tests of `pillar dev`'s console (cli/browser-tests): a
//! destructive tool that asks for confirmation and counts the times it ran, and a tool
//! that reads the count, so a test can see that one confirmation ran it once.
//!
//! Configured like any server, from `PILLAR_ADDR`, `PILLAR_SECRET`, `PILLAR_API_URL` and
//! `PILLAR_ENDPOINT_URL`.

use std::sync::atomic::{AtomicU64, Ordering};

use pillar::{Action, Confirmation, DisplayResult, Reply, ToolContext};
use serde_json::json;

/// How many projects were deleted.
static DELETIONS: AtomicU64 = AtomicU64::new(0);

/// Delete a project. Asks the user to confirm first.
#[pillar::tool(guidance = "Only when the user asks to delete a project.")]
async fn delete_project(
    /// The project's id
    project_id: String,
    ctx: &ToolContext,
) -> Reply<DisplayResult> {
    if !ctx.confirmed() {
        return Confirmation::new()
            .title("Delete project")
            .message(format!(
                "Delete project {project_id}? This cannot be undone."
            ))
            .detail("Project", &project_id)
            .payload(json!({ "project_id": project_id }))
            .into();
    }
    let deletions = DELETIONS.fetch_add(1, Ordering::SeqCst) + 1;
    Reply::Done(
        DisplayResult::new(format!("Project {project_id} deleted."))
            .data(json!({ "project_id": project_id, "deletions": deletions }))
            .action(Action::open_url(
                "View projects",
                "https://app.example.com/projects",
            )),
    )
}

/// How many projects were deleted since the server started.
#[pillar::tool]
async fn deletions() -> serde_json::Value {
    json!({ "count": DELETIONS.load(Ordering::SeqCst) })
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    pillar::serve().await
}
