//! The baseline of `bench/load.sh`: a minimal axum server that does only the unavoidable
//! work of a Pillar webhook, written directly: verify the HMAC-SHA256 signature over the
//! raw body (`hmac` + `sha2`, keyed state precomputed, constant-time comparison, 300 s
//! window), parse the JSON into a typed struct, and answer
//! `{"call_id":..,"success":true,"result":..}` for the same small tool as `bench-server`.
//! No tool registry, no timeout, no panic guard, no logging.
//!
//! With `BASELINE_REDIS_URL`, it also does the unavoidable work of running a call at most
//! once across instances, on one multiplexed Redis connection (the baseline of
//! `bench/load.sh`'s `serve-redis`): claim `bench:call:tool_call:<call_id>` with
//! `SET key <claim> NX PX 60000` (a repeat finds the key taken and is refused), then
//! store the answer with `SET key <status:answer> PX 600000`. Two round trips a call, no
//! script, no conflict check, no replay of a recorded answer.
//!
//! ```text
//! PILLAR_SECRET=plr_bench PILLAR_ADDR=127.0.0.1:9101 target/release/baseline
//! BASELINE_REDIS_URL=redis://127.0.0.1:6390/ PILLAR_SECRET=plr_bench target/release/baseline
//! ```

use std::borrow::Cow;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type Key = Hmac<Sha256>;

/// The server's state: the HMAC key, and the Redis connection when there is one.
struct Shared {
    key: Key,
    redis: Option<redis::aio::MultiplexedConnection>,
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow, default)]
    call_id: Cow<'a, str>,
    #[serde(borrow, default)]
    tool_name: Cow<'a, str>,
    #[serde(default)]
    arguments: Option<Arguments>,
}

#[derive(Deserialize)]
struct Arguments {
    email: String,
}

#[derive(Serialize)]
struct Customer {
    email: String,
    plan: &'static str,
}

#[derive(Serialize)]
struct Answer<'a> {
    call_id: &'a str,
    success: bool,
    result: Customer,
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: StatusCode, message: &'static str) -> Response {
    let body = format!(r#"{{"success":false,"error":"{message}"}}"#);
    json(status, body.into_bytes())
}

/// `t=<digits>,v1=<64 hex>`: the timestamp text and the 32 signature bytes.
fn parse_signature(header: &str) -> Option<(&str, [u8; 32])> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) if value.len() == 64 => v1 = Some(value),
            _ => {}
        }
    }
    let (t, v1) = (t?, v1?);
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(v1.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((t, bytes))
}

fn verified(key: &Key, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some((t, signature)) = headers
        .get("x-pillar-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_signature)
    else {
        return false;
    };
    let Ok(timestamp) = t.parse::<i64>() else {
        return false;
    };
    let mut mac = key.clone();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    if mac.verify_slice(&signature).is_err() {
        return false;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    (now - timestamp).abs() <= 300
}

async fn webhook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let key = &shared.key;
    let Ok(call) = serde_json::from_slice::<Call<'_>>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON");
    };
    if call.action == "ping" {
        return json(StatusCode::OK, br#"{"status":"ok"}"#.to_vec());
    }
    if !verified(key, &headers, &body) {
        return error(StatusCode::UNAUTHORIZED, "Invalid signature");
    }
    let (true, Some(arguments)) = (call.tool_name == "lookup_customer", call.arguments) else {
        return error(StatusCode::NOT_FOUND, "Tool not found");
    };
    let answer = Answer {
        call_id: &call.call_id,
        success: true,
        result: Customer {
            email: arguments.email,
            plan: "pro",
        },
    };
    let Some(redis) = &shared.redis else {
        return match serde_json::to_vec(&answer) {
            Ok(body) => json(StatusCode::OK, body),
            Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "serialisation"),
        };
    };
    // At most once: claim the call id, run, record the answer.
    let mut conn = redis.clone();
    let record_key = format!("bench:call:tool_call:{}", call.call_id);
    let claimed: redis::RedisResult<Option<String>> = redis::cmd("SET")
        .arg(&record_key)
        .arg("R")
        .arg("NX")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut conn)
        .await;
    match claimed {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::CONFLICT, "Already claimed"),
        Err(_) => return error(StatusCode::SERVICE_UNAVAILABLE, "Redis"),
    }
    let Ok(body) = serde_json::to_vec(&answer) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "serialisation");
    };
    let mut record = b"D:200:".to_vec();
    record.extend_from_slice(&body);
    let stored: redis::RedisResult<()> = redis::cmd("SET")
        .arg(&record_key)
        .arg(record)
        .arg("PX")
        .arg(600_000)
        .query_async(&mut conn)
        .await;
    match stored {
        Ok(()) => json(StatusCode::OK, body),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "Redis"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("PILLAR_SECRET").map_err(|_| "PILLAR_SECRET is not set")?;
    let addr: SocketAddr = std::env::var("PILLAR_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:9101".to_owned())
        .parse()?;
    let key = Key::new_from_slice(secret.as_bytes())?;
    let redis = match std::env::var("BASELINE_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(
            redis::Client::open(url)?
                .get_multiplexed_async_connection()
                .await?,
        ),
        _ => None,
    };
    let app = Router::new()
        .route("/", post(webhook))
        .with_state(Arc::new(Shared { key, redis }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
