//! MCP by hand: rmcp's own Streamable HTTP server with the bench's one tool,
//! `lookup_customer`, written directly against rmcp (a `ServerHandler`, typed arguments,
//! the object result as `structuredContent`): what the `pillar::mcp` bridge is measured
//! against in `bench/mcp_load.sh`. Same HTTP stack (hyper through axum), same rmcp
//! configuration (`StreamableHttpServerConfig::default()`), same answer.
//!
//! ```text
//! MCP_BASELINE_ADDR=127.0.0.1:9172 target/release/mcp-baseline
//! ```

use std::sync::Arc;

use axum::serve::ListenerExt;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The tool's arguments.
#[derive(Deserialize)]
struct Args {
    email: String,
}

/// The tool's result (the same as `bench-server`'s).
#[derive(Serialize)]
struct Customer {
    email: String,
    plan: &'static str,
}

/// The server: one tool, listed with the same schema the macro derives.
#[derive(Clone)]
struct Baseline {
    tools: Arc<Vec<Tool>>,
}

impl Baseline {
    fn new() -> Self {
        let schema = json!({
            "type": "object",
            "properties": {"email": {"type": "string", "description": "Email of the customer"}},
            "required": ["email"],
        });
        let schema: JsonObject = match schema {
            serde_json::Value::Object(map) => map,
            _ => JsonObject::new(),
        };
        let tool = Tool::new(
            "lookup_customer",
            "Look up a customer by email.",
            Arc::new(schema),
        );
        Self {
            tools: Arc::new(vec![tool]),
        }
    }
}

impl ServerHandler for Baseline {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcp-baseline", "0.1.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "lookup_customer" {
            return Err(ErrorData::invalid_params(
                format!("no tool named {}", request.name),
                None,
            ));
        }
        let arguments = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let args: Args =
            match serde_json::from_value(arguments) {
                Ok(args) => args,
                Err(err) => {
                    return Ok(CallToolResult::error(vec![rmcp::model::ContentBlock::text(
                        format!("Invalid arguments: {err}"),
                    )])
                    .into())
                }
            };
        let customer = Customer {
            email: args.email,
            plan: "pro",
        };
        let value = serde_json::to_value(customer)
            .map_err(|err| ErrorData::internal_error(err.to_string(), None))?;
        Ok(CallToolResult::structured(value).into())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("MCP_BASELINE_ADDR").unwrap_or_else(|_| "127.0.0.1:9172".into());
    let service = StreamableHttpService::new(
        || Ok(Baseline::new()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new().route_service("/mcp", service);
    // TCP_NODELAY: an SSE answer goes out in several writes (headers, the event, the
    // last chunk), and with Nagle's algorithm on, the last waits for the client's delayed
    // ACK (~40 ms a call: 67 calls a second, where `serve()`'s bridge, whose connections
    // showed no such wait, answered 7,010 in the same check).
    let listener = tokio::net::TcpListener::bind(&addr)
        .await?
        .tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
    eprintln!("mcp-baseline listening on http://{addr}/mcp");
    axum::serve(listener, app).await
}
