//! The Redis call store against a real `redis-server` (the harness's `RedisServer`, one
//! per test, on a free loopback port): claims, instances sharing one Redis, outages and
//! pauses, the script fallback; what persistence keeps over a crash; `rediss://` with
//! the server's certificate always verified.

mod redis;
mod redis_durability;
mod redis_tls;
