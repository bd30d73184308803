/// Unions have no JSON Schema.
#[derive(pillar::JsonSchema)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
