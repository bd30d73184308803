//! Scenario 4: a client trickling its request headers, one byte every 2 s. The server
//! must close it at the header timeout (10 s by default), not keep it forever.
//!
//! The header timer is hyper's, and starts once the protocol is known: `serve()` reads
//! the first bytes to tell HTTP/1 from HTTP/2 (`POST` differs from the HTTP/2 preface
//! at its second byte), so the connection closes about one byte interval later than the
//! header timeout counted from the first byte.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Outcome;

/// More bytes than the test ever sends at one byte per interval before the timeout.
const REQUEST: &[u8] =
    b"POST /pillar HTTP/1.1\r\nHost: pillar\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// How the trickle ended.
struct Trickle {
    bytes_sent: usize,
    /// Since the first byte.
    closed_after: Option<Duration>,
    /// What the server sent before closing, if anything.
    answer: Vec<u8>,
}

async fn trickle(
    addr: SocketAddr,
    interval: Duration,
    give_up: Duration,
) -> std::io::Result<Trickle> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let started = Instant::now();
    let mut result = Trickle {
        bytes_sent: 0,
        closed_after: None,
        answer: Vec::new(),
    };
    let mut buf = [0u8; 1024];
    for byte in REQUEST {
        if started.elapsed() >= give_up {
            break;
        }
        if stream.write_all(&[*byte]).await.is_err() {
            result.closed_after = Some(started.elapsed());
            return Ok(result);
        }
        result.bytes_sent += 1;
        // Wait one interval for the server to answer or close.
        let until = tokio::time::Instant::now() + interval;
        loop {
            match tokio::time::timeout_at(until, stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => {
                    result.closed_after = Some(started.elapsed());
                    return Ok(result);
                }
                Ok(Ok(n)) => result.answer.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
    }
    Ok(result)
}

pub(crate) async fn run(addr: SocketAddr, interval: Duration, header_timeout: Duration) -> Outcome {
    let mut out = Outcome::new(format!(
        "4. a client trickling its headers, one byte every {:.1} s",
        interval.as_secs_f64()
    ));
    // The latest acceptable close: the header timeout, counted from the second byte (the
    // protocol is known then), plus one interval to notice it and a margin for the load.
    let latest = header_timeout + interval * 2 + Duration::from_secs(2);
    let give_up = latest + Duration::from_secs(5);
    let trickled = match trickle(addr, interval, give_up).await {
        Ok(t) => t,
        Err(err) => {
            out.check(
                false,
                format!("the trickling client could not connect: {err}"),
            );
            return out;
        }
    };
    let answer: String = String::from_utf8_lossy(&trickled.answer)
        .chars()
        .take(80)
        .collect();
    match trickled.closed_after {
        Some(after) => out.figure(format!(
            "closed by the server {:.2} s after the first byte, after {} bytes; it sent {}",
            after.as_secs_f64(),
            trickled.bytes_sent,
            if answer.is_empty() {
                "nothing".to_owned()
            } else {
                format!("{answer:?}")
            }
        )),
        None => out.figure(format!(
            "still open after {:.0} s and {} bytes",
            give_up.as_secs_f64(),
            trickled.bytes_sent
        )),
    }
    let closed_in_window = trickled
        .closed_after
        .is_some_and(|after| after >= header_timeout && after <= latest);
    out.check(
        closed_in_window,
        format!(
            "closed at the header timeout: not before {} s, by {} s after the first byte",
            header_timeout.as_secs_f64(),
            latest.as_secs_f64()
        ),
    );
    out.summary = match trickled.closed_after {
        Some(after) => format!(
            "closed {:.2} s after its first byte ({} bytes sent)",
            after.as_secs_f64(),
            trickled.bytes_sent
        ),
        None => "never closed".to_owned(),
    };
    out
}
