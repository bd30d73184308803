// Every `Result` return type is a result, whatever it is called: aliases, `io::Result`,
// full paths.
use std::fmt;

#[derive(Debug)]
struct MyErr;

impl fmt::Display for MyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("my error")
    }
}

type DbResult<T> = Result<T, MyErr>;

/// An alias.
#[pillar::tool(output_schema)]
async fn alias(fail: bool) -> DbResult<u32> {
    if fail {
        Err(MyErr)
    } else {
        Ok(7)
    }
}

/// `std::io::Result`.
#[pillar::tool]
async fn io_result() -> std::io::Result<String> {
    Ok("io".to_owned())
}

/// A full path, with a boxed error.
#[pillar::tool]
async fn full_path() -> ::std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err("boxed".into())
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let value = pillar::testing::call(&pillar, "alias", serde_json::json!({"fail": false}));
    assert_eq!(value.await.unwrap(), 7);
    let error = pillar::testing::call(&pillar, "alias", serde_json::json!({"fail": true}));
    assert_eq!(error.await.unwrap_err().message(), "my error");
    let error = pillar::testing::call(&pillar, "full_path", serde_json::json!({}));
    assert_eq!(error.await.unwrap_err().message(), "boxed");
    let schema = pillar.tool("answer").unwrap().info().output_schema.clone().unwrap();
    assert_eq!(schema["type"], "integer");
}

type Answer = Result<u32, String>;
type Outcome = Answer;

/// An alias of an alias, with no `Ok` type in sight: the output schema is `u32`'s.
#[pillar::tool(output_schema)]
async fn answer() -> Outcome {
    Ok(42)
}
