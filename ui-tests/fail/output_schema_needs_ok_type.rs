type Answer = Result<u32, String>;
type AnswerResult = Answer;

/// An alias without the `Ok` type spelled out.
#[pillar::tool(output_schema)]
async fn answer() -> AnswerResult {
    Ok(42)
}

/// `output_schema` takes no value.
#[pillar::tool(output_schema = true)]
async fn flag_value() -> u32 {
    42
}

fn main() {}
