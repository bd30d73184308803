/// `output_schema` takes no value.
#[pillar::tool(output_schema = true)]
async fn flag_value() -> u32 {
    42
}

fn main() {}
