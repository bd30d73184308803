//! Cross-checks with the reference implementation, the Python package
//! `pillar-ai-server`: signatures made there verify here and ours verify there, and both
//! `handle` functions answer the same requests with the same status and body.
//!
//! The test makes a virtual environment under Cargo's target directory and installs the
//! pinned reference into it (once; later runs reuse it). `PILLAR_REFERENCE_PYTHON` may
//! name a Python that already has it. Where no Python 3 with its `venv` module exists the
//! test prints why it is skipped and passes, except under CI (`CI` set), where it fails:
//! `.ci/run` installs them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use pillar::http::{HeaderMap, HeaderValue};
use pillar::protocol;
use pillar::signature;
use pillar::{testing, Tool, ToolContext};
use serde_json::{json, Value};

const REFERENCE: &str = "pillar-ai-server==0.2.4";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Python with the reference installed; made once per test binary (the tests run in
/// parallel and must not build the venv twice).
fn reference_python() -> Option<PathBuf> {
    static PYTHON: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_or_install_reference).clone()
}

fn find_or_install_reference() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("PILLAR_REFERENCE_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let system = ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let has_venv = |python: &&str| {
        Command::new(python)
            .args(["-c", "import venv, ensurepip"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let Some(system) = system.filter(has_venv) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no python3 with the venv module under CI: .ci/run should have installed it"
        );
        eprintln!(
            "SKIPPED: the cross-check with the reference SDK needs python3 with its venv \
             module (apt-get install python3-venv), or PILLAR_REFERENCE_PYTHON"
        );
        return None;
    };
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reference-venv");
    let python = venv.join("bin").join("python");
    let ready = |python: &PathBuf| {
        Command::new(python)
            .args(["-c", "import pillar._signature"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let status = Command::new(system)
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "could not create a venv at {}",
            venv.display()
        );
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                REFERENCE,
            ])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "could not install {REFERENCE} into {}",
            venv.display()
        );
    }
    assert!(
        ready(&python),
        "{REFERENCE} is not importable from {}",
        python.display()
    );
    Some(python)
}

fn run_reference(python: &PathBuf, mode: &str, input: &Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/reference/reference.py");
    let mut child = Command::new(python)
        .args([script, mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "reference.py {mode} failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn bodies() -> Vec<Vec<u8>> {
    vec![
        b"".to_vec(),
        br#"{"action":"ping"}"#.to_vec(),
        testing::tool_call_body(
            "lookup_customer",
            "tc_1",
            json!({"email": "sarah@acme.com"}),
        ),
        "{\"note\":\"caf\u{e9} \u{1f600} \u{4e2d}\u{6587}\"}"
            .as_bytes()
            .to_vec(),
        b"\xff\xfe not utf-8".to_vec(),
        vec![b'x'; 70_000],
    ]
}

const SECRETS: [&str; 3] = [
    "plr_test_secret",
    "whsec_rotate_me",
    "plr_\u{e9}\u{e8}_unicode",
];

#[test]
fn signatures_agree_with_the_reference_both_ways() {
    let Some(python) = reference_python() else {
        return;
    };
    let mut cases = Vec::new();
    for body in bodies() {
        for (i, secret) in SECRETS.iter().enumerate() {
            cases.push((
                body.clone(),
                *secret,
                1_700_000_000 + i64::try_from(i).unwrap() * 77,
            ));
        }
    }
    // Theirs verify here.
    let input: Vec<Value> = cases
        .iter()
        .map(|(body, secret, t)| json!({"secret": secret, "t": t, "body": hex(body)}))
        .collect();
    let theirs = run_reference(&python, "sign", &Value::from(input));
    for ((body, secret, t), header) in cases.iter().zip(theirs.as_array().unwrap()) {
        let header = header.as_str().unwrap();
        assert_eq!(
            header,
            signature::sign(secret, body, *t),
            "same header text"
        );
        pillar::signature::Verifier::new(*secret)
            .unwrap()
            .verify_at(header, body, *t)
            .unwrap();
    }
    // Ours verify there, and a tampered one does not.
    let mut input = Vec::new();
    for (body, secret, t) in &cases {
        let header = signature::sign(secret, body, *t);
        input.push(json!({"secret": secret, "body": hex(body), "header": header}));
        let mut tampered = body.clone();
        tampered.push(b' ');
        input.push(json!({"secret": secret, "body": hex(&tampered), "header": header}));
    }
    let verdicts = run_reference(&python, "verify", &Value::from(input));
    for (i, verdict) in verdicts.as_array().unwrap().iter().enumerate() {
        assert_eq!(verdict.as_bool(), Some(i % 2 == 0), "case {i}");
    }
}

#[tokio::test]
async fn handle_answers_like_the_reference() {
    let Some(python) = reference_python() else {
        return;
    };
    let secret = "plr_cross_check";
    let pillar = pillar::Pillar::builder()
        .secret(secret)
        .registered_tools(false)
        .tool(
            Tool::builder("echo")
                .description("Echo the arguments")
                .handler(|args: Value, ctx: ToolContext| async move {
                    Ok::<_, String>(json!({
                        "email": args["email"], "call_id": ctx.call_id(), "confirmed": ctx.confirmed()
                    }))
                })
                .build()
                .unwrap(),
        )
        .tool(
            Tool::builder("fail")
                .description("Always fails")
                .handler(|_: Value, _| async move {
                    Err::<Value, _>("the order database is unavailable")
                })
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();

    let echo = testing::tool_call_body("echo", "tc_1", json!({"email": "a@b.c"}));
    let confirm = json!({"action": "tool_confirm", "tool_name": "echo", "call_id": "tc_2",
                         "confirm_payload": {"email": "x@y.z"}})
    .to_string()
    .into_bytes();
    let requests: Vec<(Vec<u8>, Option<String>)> = vec![
        (br#"{"action":"ping"}"#.to_vec(), None),
        (
            b"{not json".to_vec(),
            Some(protocol::sign(secret, b"{not json")),
        ),
        (echo.clone(), Some(protocol::sign(secret, &echo))),
        (confirm.clone(), Some(protocol::sign(secret, &confirm))),
        (echo.clone(), Some(protocol::sign("plr_wrong", &echo))),
        (echo.clone(), Some("t=1,v1=abc".to_owned())),
        {
            let b = br#"{"action":"tool_delete","call_id":"x"}"#.to_vec();
            let s = protocol::sign(secret, &b);
            (b, Some(s))
        },
        {
            let b = testing::tool_call_body("missing", "tc_3", json!({}));
            let s = protocol::sign(secret, &b);
            (b, Some(s))
        },
        {
            let b = testing::tool_call_body("fail", "tc_4", json!({}));
            let s = protocol::sign(secret, &b);
            (b, Some(s))
        },
    ];
    let input = json!({
        "secret": secret,
        "requests": requests.iter().map(|(b, s)| json!({"body": hex(b), "signature": s})).collect::<Vec<_>>(),
    });
    let theirs = run_reference(&python, "handle", &input);
    for ((body, signature), reference) in requests.iter().zip(theirs.as_array().unwrap()) {
        let mut headers = HeaderMap::new();
        if let Some(signature) = signature {
            headers.insert(
                "x-pillar-signature",
                HeaderValue::from_str(signature).unwrap(),
            );
        }
        let (status, answer) = pillar.handle(body, &headers).await.into_parts();
        assert_eq!(
            json!({"status": status.as_u16(), "body": answer.to_value()}),
            *reference,
            "request {}",
            String::from_utf8_lossy(body)
        );
    }
}
