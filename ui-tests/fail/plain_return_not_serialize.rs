struct Weather {
    celsius: f64,
}

/// The return type has no `Serialize`.
#[pillar::tool]
async fn weather(city: String) -> Weather {
    let _ = city;
    Weather { celsius: 21.5 }
}

fn main() {}
