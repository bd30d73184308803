//! Pillar inside an existing actix-web app (feature `actix`): the app keeps its own
//! routes and `web::Data` state, the webhook is a scope at `/pillar`, and a tool uses
//! the app's state.
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run --example actix_app
//! curl -X POST localhost:8787/orders -d 'two coffees'
//! curl localhost:8787/
//! curl -X POST localhost:8787/pillar -d '{"action":"ping"}'
//! ```

use std::sync::Mutex;

use actix_web::{web, App, HttpServer, Responder};
use pillar::{PillarBuilder, Tool};
use serde_json::{json, Value};

/// The app's shared state.
#[derive(Debug, Default)]
struct Shop {
    orders: Mutex<Vec<String>>,
}

impl Shop {
    fn orders(&self) -> Vec<String> {
        self.orders.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

async fn home(shop: web::Data<Shop>) -> impl Responder {
    format!("{} orders so far\n", shop.orders().len())
}

async fn order(shop: web::Data<Shop>, body: String) -> impl Responder {
    if let Ok(mut orders) = shop.orders.lock() {
        orders.push(body.trim().to_owned());
    }
    "order received\n"
}

/// A tool over the app's state: `web::Data` is an `Arc`, so the closure holds a clone.
fn find_orders(shop: web::Data<Shop>) -> Result<Tool, pillar::Error> {
    Tool::builder("find_orders")
        .description("Find orders whose text contains a word")
        .input_schema(json!({
            "type": "object",
            "properties": {"word": {"type": "string", "description": "A word to look for"}},
            "required": ["word"]
        }))
        .handler(move |args: Value, _ctx| {
            let shop = shop.clone();
            async move {
                let word = args["word"]
                    .as_str()
                    .ok_or("arguments.word: expected a string")?
                    .to_lowercase();
                let found: Vec<String> = shop
                    .orders()
                    .into_iter()
                    .filter(|o| o.to_lowercase().contains(&word))
                    .collect();
                Ok::<_, &str>(json!({ "count": found.len(), "orders": found }))
            }
        })
        .build()
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let shop = web::Data::new(Shop::default());
    let pillar = PillarBuilder::from_env()?
        .tool(find_orders(shop.clone())?)
        .build()?;

    // Register the tools in the background (actix's runtime is tokio's).
    if pillar.settings().endpoint_url.is_some() {
        let pillar = pillar.clone();
        actix_web::rt::spawn(async move {
            match pillar.register().await {
                Ok(done) => println!("registered with Pillar Cloud: {:?}", done.registered),
                Err(err) => eprintln!("could not register with Pillar Cloud: {err}"),
            }
        });
    } else {
        eprintln!("PILLAR_ENDPOINT_URL is not set: the tools are not registered with Pillar Cloud");
    }

    let addr = pillar.settings().addr;
    println!("listening on http://{addr} (Pillar webhook on /pillar)");
    HttpServer::new(move || {
        App::new()
            .app_data(shop.clone())
            .route("/", web::get().to(home))
            .route("/orders", web::post().to(order))
            .service(pillar::adapters::actix::scope("/pillar", pillar.clone()))
    })
    .bind(addr)?
    .run()
    .await?;
    Ok(())
}
